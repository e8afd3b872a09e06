//! The commented example configuration parses, and bad values are refused with a clear error.

use std::time::Duration;

use rust_decimal::Decimal;
use sync_engine::config::{Cadence, Config, ConfigError};

const EXAMPLE: &str = include_str!("../../examples/sync.example.toml");

#[test]
fn the_example_configuration_is_valid() {
    let config = Config::from_toml(EXAMPLE).unwrap();
    assert_eq!(config.netsuite.account_id, "1234567_SB1");
    assert_eq!(config.netsuite.concurrency, Some(5));
    assert_eq!(config.clarus.path_prefix, "/api");
    assert_eq!(config.clarus.stock_unit_type_id, 1);
    assert_eq!(config.poll.time_zone, "UTC");
    assert_eq!(config.webhook.automation_prefix, "netsuite-sync");
    assert_eq!(config.webhook.listen.port(), 8080);
    assert_eq!(
        config.cadence.adjustments,
        Cadence::Batched {
            every_secs: 900,
            max_lines: 200
        }
    );
    assert_eq!(config.cadence.despatches, Cadence::Immediate);
    assert_eq!(config.drift.thresholds().percent, Decimal::new(5, 1));
    assert_eq!(config.mappings.locations.len(), 1);
    assert_eq!(config.mappings.adjustment_accounts.len(), 2);
    assert_eq!(
        config.outbox.outbox_config().backoff_base,
        Duration::from_millis(200)
    );
}

#[test]
fn unknown_keys_and_bad_values_are_refused() {
    let typo = EXAMPLE.replace("overlap_secs", "overlap_seconds");
    assert!(matches!(
        Config::from_toml(&typo),
        Err(ConfigError::Parse(_))
    ));

    let zero = EXAMPLE.replace("max_in_flight = 32", "max_in_flight = 0");
    let err = Config::from_toml(&zero).unwrap_err();
    assert!(err.to_string().contains("max_in_flight"), "{err}");

    let zone = EXAMPLE.replace("time_zone = \"UTC\"", "time_zone = \"Mars/Olympus\"");
    let err = Config::from_toml(&zone).unwrap_err();
    assert!(err.to_string().contains("time_zone"), "{err}");

    let batch = EXAMPLE.replace("every_secs = 900", "every_secs = 0");
    let err = Config::from_toml(&batch).unwrap_err();
    assert!(err.to_string().contains("cadence.adjustments"), "{err}");

    let duplicate_location = EXAMPLE.replace(
        "[[mappings.adjustment_accounts]]\nkind = \"negative_adjustment\"",
        "[[mappings.locations]]\nlocation = \"1\"\nwarehouse = 11\n\n[[mappings.adjustment_accounts]]\nkind = \"negative_adjustment\"",
    );
    let err = Config::from_toml(&duplicate_location).unwrap_err();
    assert!(err.to_string().contains("mappings"), "{err}");
}
