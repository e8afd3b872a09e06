//! Helpers shared by the simulator tests: an HTTP client per simulator that talks to it as a
//! real client would, and small value builders.

pub mod clarus;
pub mod netsuite;

use rust_decimal::Decimal;

/// `n` as a decimal quantity.
pub fn dec(n: i64) -> Decimal {
    Decimal::from(n)
}
