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

#[test]
fn drift_history_and_value_alert_settings_are_read_and_checked() {
    let config = Config::from_toml(EXAMPLE).unwrap();
    let settings = config.drift.reconcile_settings();
    assert_eq!(settings.history_days, 90);
    assert_eq!(settings.value_alert_threshold, Some(Decimal::from(1000)));
    assert_eq!(settings.interval, Duration::from_secs(3600));
    assert_eq!(settings.thresholds, config.drift.thresholds());

    // Both are optional: 90 days of history, no value alert.
    let without = EXAMPLE
        .replace("history_days = 90", "")
        .replace("value_alert_threshold = 1000", "");
    let config = Config::from_toml(&without).unwrap();
    assert_eq!(config.drift.history_days, 90);
    assert_eq!(config.drift.value_alert_threshold, None);

    for (good, bad, named) in [
        ("history_days = 90", "history_days = 0", "history_days"),
        (
            "value_alert_threshold = 1000",
            "value_alert_threshold = -5",
            "value_alert_threshold",
        ),
    ] {
        let err = Config::from_toml(&EXAMPLE.replace(good, bad)).unwrap_err();
        assert!(err.to_string().contains(named), "{err}");
    }
}

#[test]
fn intake_limits_are_webhook_settings_with_the_defaults_and_checked() {
    use sync_engine::intake::IntakeLimits;

    let example = Config::from_toml(EXAMPLE).unwrap();
    assert_eq!(example.webhook.intake_limits(), IntakeLimits::default());

    // Absent: the defaults.
    let mut bare = String::new();
    for line in EXAMPLE.lines() {
        if [
            "header_timeout_secs",
            "body_timeout_secs",
            "request_timeout_secs",
            "max_connections",
            "refusals_per_minute",
        ]
        .iter()
        .any(|key| line.starts_with(key))
        {
            continue;
        }
        bare.push_str(line);
        bare.push('\n');
    }
    let defaults = Config::from_toml(&bare).unwrap();
    assert_eq!(defaults.webhook.intake_limits(), IntakeLimits::default());

    let mut set = EXAMPLE.to_owned();
    for (key, value) in [
        ("header_timeout_secs", 5),
        ("body_timeout_secs", 7),
        ("request_timeout_secs", 20),
        ("max_connections", 64),
        ("refusals_per_minute", 3),
    ] {
        set = with_setting(&set, key, value);
    }
    let limits = Config::from_toml(&set).unwrap().webhook.intake_limits();
    assert_eq!(limits.header_timeout, Duration::from_secs(5));
    assert_eq!(limits.body_timeout, Duration::from_secs(7));
    assert_eq!(limits.request_timeout, Duration::from_secs(20));
    assert_eq!(limits.max_connections, 64);
    assert_eq!(limits.refusals_per_minute, 3);
    assert_eq!(
        limits.tracked_sources,
        IntakeLimits::default().tracked_sources
    );

    for key in [
        "header_timeout_secs",
        "body_timeout_secs",
        "request_timeout_secs",
        "max_connections",
        "refusals_per_minute",
    ] {
        let zero = with_setting(EXAMPLE, key, 0);
        let err = Config::from_toml(&zero).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("webhook.{key} must be at least 1")),
            "{err}"
        );
    }
    let huge = with_setting(EXAMPLE, "request_timeout_secs", u64::MAX >> 1);
    let err = Config::from_toml(&huge).unwrap_err();
    assert!(
        err.to_string()
            .contains("webhook.request_timeout_secs must be at most 86400"),
        "{err}"
    );
    let err = Config::from_toml(&with_setting(EXAMPLE, "max_connections", 1 << 40)).unwrap_err();
    assert!(err.to_string().contains("webhook.max_connections"), "{err}");
    let typo = EXAMPLE.replace("\nmax_connections", "\nmax_connection");
    assert!(matches!(
        Config::from_toml(&typo),
        Err(ConfigError::Parse(_))
    ));
}

/// `text` with the value of the line setting `key` replaced by `value`.
fn with_setting(text: &str, key: &str, value: u64) -> String {
    let start = text.find(&format!("\n{key} = ")).unwrap() + 1;
    let end = start + text[start..].find('\n').unwrap();
    format!("{}{key} = {value}{}", &text[..start], &text[end..])
}
