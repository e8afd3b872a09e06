//! Money: amounts always carry their currency, and totals are kept per currency.
//!
//! The integration never converts between currencies: a OneWorld account's subsidiaries keep
//! their books in their own currencies, and NetSuite's average costs are in the currency of the
//! subsidiary that owns the location. Values are therefore summed per [`Currency`]
//! ([`ValueTotals`]), and a location's currency comes from [`LocationCurrencies`].
//!
//! ```
//! use rust_decimal::Decimal;
//! use sync_core::money::{Currency, LocationCurrencies, ValueTotals};
//!
//! let usd: Currency = "USD".parse().unwrap();
//! let eur: Currency = "EUR".parse().unwrap();
//! let mut currencies = LocationCurrencies::new(usd);
//! currencies.insert("12".into(), eur);
//! assert_eq!(currencies.currency(&"12".into()), eur);
//! assert_eq!(currencies.currency(&"1".into()), usd);
//!
//! let mut totals = ValueTotals::default();
//! totals.add(usd, Decimal::from(10));
//! totals.add(eur, Decimal::from(4));
//! totals.add(usd, Decimal::from(5));
//! assert_eq!(totals.get(usd), Some(Decimal::from(15)));
//! assert_eq!(totals.get(eur), Some(Decimal::from(4)));
//! assert_eq!(totals.to_string(), "EUR 4, USD 15");
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::LocationId;

/// An ISO 4217 alphabetic currency code: three upper-case ASCII letters (`USD`, `EUR`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// `XXX`, ISO 4217's code for "no currency": the currency of values whose currency was not
    /// configured. It is kept apart from every real currency like any other.
    pub const UNSPECIFIED: Currency = Currency(*b"XXX");

    /// The code, e.g. `"USD"`.
    pub fn as_str(&self) -> &str {
        // Only upper-case ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Whether this is [`Currency::UNSPECIFIED`].
    pub fn is_unspecified(&self) -> bool {
        *self == Currency::UNSPECIFIED
    }
}

impl Default for Currency {
    /// [`Currency::UNSPECIFIED`].
    fn default() -> Self {
        Currency::UNSPECIFIED
    }
}

/// A currency code that is not three upper-case ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a currency code: expected three upper-case letters such as USD")]
pub struct CurrencyError {
    /// What was given.
    pub input: String,
}

impl FromStr for Currency {
    type Err = CurrencyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => {
                Ok(Currency([*a, *b, *c]))
            }
            _ => Err(CurrencyError {
                input: s.to_owned(),
            }),
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> Self {
        c.as_str().to_owned()
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

/// An amount in a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    /// The amount.
    pub value: Decimal,
    /// Its currency.
    pub currency: Currency,
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, self.value)
    }
}

/// Amounts added up per currency, never across currencies. Serialises as a map from currency
/// code to amount (`{"EUR": "4.00", "USD": "15.00"}`), in code order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ValueTotals(BTreeMap<Currency, Decimal>);

impl ValueTotals {
    /// Adds `value` to the total of `currency`.
    pub fn add(&mut self, currency: Currency, value: Decimal) {
        *self.0.entry(currency).or_insert(Decimal::ZERO) += value;
    }

    /// Adds an amount.
    pub fn add_amount(&mut self, amount: Amount) {
        self.add(amount.currency, amount.value);
    }

    /// Adds every total of `other`.
    pub fn merge(&mut self, other: &ValueTotals) {
        for (currency, value) in &other.0 {
            self.add(*currency, *value);
        }
    }

    /// The total in `currency`, if anything was added in it.
    pub fn get(&self, currency: Currency) -> Option<Decimal> {
        self.0.get(&currency).copied()
    }

    /// The totals, in currency code order.
    pub fn iter(&self) -> impl Iterator<Item = Amount> + '_ {
        self.0.iter().map(|(currency, value)| Amount {
            value: *value,
            currency: *currency,
        })
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The currencies with a total.
    pub fn currencies(&self) -> impl Iterator<Item = Currency> + '_ {
        self.0.keys().copied()
    }

    /// The total when there is at most one currency (zero when empty); `None` when amounts of
    /// several currencies are held, which no single figure can show.
    pub fn single_currency_total(&self) -> Option<Decimal> {
        match self.0.len() {
            0 => Some(Decimal::ZERO),
            1 => self.0.values().next().copied(),
            _ => None,
        }
    }

    /// Each total rounded to `dp` decimal places (banker's rounding, as [`Decimal::round_dp`]).
    pub fn round_dp(&self, dp: u32) -> ValueTotals {
        ValueTotals(self.0.iter().map(|(c, v)| (*c, v.round_dp(dp))).collect())
    }

    /// Whether any currency's total exceeds `threshold` (each compared on its own).
    pub fn any_above(&self, threshold: Decimal) -> bool {
        self.0.values().any(|v| *v > threshold)
    }
}

impl fmt::Display for ValueTotals {
    /// `EUR 4, USD 15`; `none` when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (i, amount) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{amount}")?;
        }
        Ok(())
    }
}

/// The currency of each NetSuite location: that of the subsidiary owning it, or the account's
/// base currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationCurrencies {
    /// The currency of locations without one of their own (the account's base currency).
    pub default: Currency,
    /// Locations in another currency.
    pub by_location: BTreeMap<LocationId, Currency>,
}

impl LocationCurrencies {
    /// Every location in `default`.
    pub fn new(default: Currency) -> Self {
        LocationCurrencies {
            default,
            by_location: BTreeMap::new(),
        }
    }

    /// Sets a location's currency.
    pub fn insert(&mut self, location: LocationId, currency: Currency) {
        self.by_location.insert(location, currency);
    }

    /// The currency of `location`.
    pub fn currency(&self, location: &LocationId) -> Currency {
        self.by_location
            .get(location)
            .copied()
            .unwrap_or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes_are_three_upper_case_letters() {
        for good in ["USD", "EUR", "GBP", "XXX"] {
            let c: Currency = good.parse().unwrap();
            assert_eq!(c.as_str(), good);
            assert_eq!(serde_json::to_value(c).unwrap(), good);
        }
        for bad in ["usd", "US", "USDD", "", "U$D", "ÉUR"] {
            assert!(bad.parse::<Currency>().is_err(), "{bad}");
            assert!(
                serde_json::from_value::<Currency>(bad.into()).is_err(),
                "{bad}"
            );
        }
        assert!(Currency::default().is_unspecified());
    }

    #[test]
    fn totals_never_add_different_currencies() {
        let usd: Currency = "USD".parse().unwrap();
        let eur: Currency = "EUR".parse().unwrap();
        let mut a = ValueTotals::default();
        a.add(usd, Decimal::from(7));
        a.add(eur, Decimal::new(-250, 2));
        let mut b = ValueTotals::default();
        b.add(eur, Decimal::from(3));
        a.merge(&b);
        assert_eq!(a.get(usd), Some(Decimal::from(7)));
        assert_eq!(a.get(eur), Some(Decimal::new(50, 2)));
        assert_eq!(a.currencies().collect::<Vec<_>>(), [eur, usd]);
        assert!(a.any_above(Decimal::from(6)));
        assert!(!a.any_above(Decimal::from(7)));
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json, serde_json::json!({"EUR": "0.50", "USD": "7"}));
        assert_eq!(serde_json::from_value::<ValueTotals>(json).unwrap(), a);
        assert_eq!(ValueTotals::default().to_string(), "none");
        let mut odd = ValueTotals::default();
        odd.add(usd, Decimal::new(12345, 3));
        assert_eq!(odd.round_dp(2).to_string(), "USD 12.34");
        assert_eq!(odd.single_currency_total(), Some(Decimal::new(12345, 3)));
        assert_eq!(a.single_currency_total(), None);
        assert_eq!(
            ValueTotals::default().single_currency_total(),
            Some(Decimal::ZERO)
        );
    }
}
