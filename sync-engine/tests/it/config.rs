//! The commented example configuration parses, and bad values are refused with a clear error.

use std::time::Duration;

use rust_decimal::Decimal;
use sync_engine::config::{Cadence, Config, ConfigError};
use sync_engine::store_location::{StoreLocation, StoreOptions};

const EXAMPLE: &str = include_str!("../../../examples/sync.example.toml");

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
        .replace("\nhistory_days = 90", "\n")
        .replace("value_alert_threshold = 1000", "");
    let config = Config::from_toml(&without).unwrap();
    assert_eq!(config.drift.history_days, 90);
    assert_eq!(config.drift.value_alert_threshold, None);

    for (good, bad, named) in [
        ("\nhistory_days = 90", "\nhistory_days = 0", "history_days"),
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

#[test]
fn the_store_is_a_file_or_a_postgres_url_whose_password_is_never_shown() {
    let example = Config::from_toml(EXAMPLE).unwrap();
    assert_eq!(
        example.store,
        StoreLocation::Sqlite("clarus-netsuite.sqlite".into())
    );
    assert_eq!(example.postgres.store_options(), StoreOptions::default());
    assert_eq!(example.postgres.max_connections, 8);

    let store_line = "store_path = \"clarus-netsuite.sqlite\"";
    assert!(EXAMPLE.contains(store_line));
    let with_store = |value: &str| EXAMPLE.replace(store_line, &format!("store = {value:?}"));

    // `store` takes a path as `store_path` did.
    let file = Config::from_toml(&with_store("/var/lib/sync/store.sqlite")).unwrap();
    assert_eq!(
        file.store.sqlite_path(),
        Some(std::path::Path::new("/var/lib/sync/store.sqlite"))
    );

    // A postgres:// URL, with the [postgres] pool settings.
    let url = "postgresql://sync:hunter2@db.internal:5432/sync?sslmode=verify-full";
    let pg_text = with_store(url).replace(
        "\n[netsuite]\n",
        "\n[postgres]\nmax_connections = 20\nschema = \"sync\"\n\n[netsuite]\n",
    );
    let pg = Config::from_toml(&pg_text).unwrap();
    let StoreLocation::Postgres(pg_url) = &pg.store else {
        panic!("{:?}", pg.store);
    };
    assert_eq!(pg_url.sslmode().as_deref(), Some("verify-full"));
    assert_eq!(
        pg.store.to_string(),
        "postgresql://sync:***@db.internal:5432/sync?sslmode=verify-full"
    );
    assert!(!format!("{pg:?}").contains("hunter2"));
    assert_eq!(
        pg.postgres.store_options(),
        StoreOptions {
            max_connections: 20,
            acquire_timeout: Duration::from_secs(10),
            schema: Some("sync".into()),
        }
    );

    // Both keys, a bad URL, a bad pool size: refused, the password never quoted.
    let both = format!("store = {url:?}\n{EXAMPLE}");
    let err = Config::from_toml(&both).unwrap_err().to_string();
    assert!(
        err.contains("both `store` and `store_path` are set"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    for bad in [
        with_store("postgres://sync:hunter2@db.internal:port/sync"),
        with_store("postgres://sync:hunter2@db.internal/sync?sslmode=yes"),
        with_store(url).replace("tenant = \"acme\"", "tenant = acme"),
        with_store(url).replace(&format!("store = {url:?}"), &format!("store = {url:?} x")),
    ] {
        let err = Config::from_toml(&bad).unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }
    let err = Config::from_toml(&pg_text.replace("max_connections = 20", "max_connections = 0"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("postgres.max_connections"), "{err}");
    assert!(matches!(
        Config::from_toml(&pg_text.replace("max_connections = 20", "pool = 20")),
        Err(ConfigError::Parse(_))
    ));
}

/// `text` with the value of the line setting `key` replaced by `value`.
fn with_setting(text: &str, key: &str, value: u64) -> String {
    let start = text.find(&format!("\n{key} = ")).unwrap() + 1;
    let end = start + text[start..].find('\n').unwrap();
    format!("{}{key} = {value}{}", &text[..start], &text[end..])
}

/// Fuzzing of configuration parsing (see docs/decisions/fuzzing.md): arbitrary TOML-ish text and
/// the example configuration mutated (values replaced by hostile ones, lines deleted, duplicated,
/// swapped or cut) must give a configuration or a `ConfigError`, never a panic, and every value
/// derived from an accepted configuration must be computable. This crate has no `proptest`
/// dev-dependency, so the cases come from a small seeded generator: bounded (256 cases) by
/// default, `PROPTEST_CASES=100000` runs more, and a failure prints its seed and input.
mod config_fuzz {
    use sync_engine::config::Config;

    /// xorshift64*: deterministic per seed, no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    fn cases() -> u64 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256)
    }

    fn hostile_value(rng: &mut Rng) -> String {
        let fixed = [
            "9223372036854775807",
            "-9223372036854775808",
            "18446744073709551615",
            "99999999999999999999999",
            "-1",
            "0",
            "1e300",
            "-1e300",
            "5e-324",
            "inf",
            "-inf",
            "nan",
            "true",
            "\"\"",
            "\"\\u0000\"",
            "\"a\\u0001b\\u001fc\\u007f\"",
            "\"1e300\"",
            "\"79228162514264337593543950336\"",
            "\"-0.0000000000000000000000000001\"",
            "\"NaN\"",
            "\"Mars/Olympus\"",
            "\"0.0.0.0:99999\"",
            "\"[::1]:0\"",
            "\"not a url\"",
            "\"http://\"",
            "\"../../../etc/passwd\"",
            "\"é日本\u{202e}\"",
            "[]",
            "{}",
            "[1, \"a\", true]",
            "{ a = { b = { c = 1 } } }",
            "1979-05-27T07:32:00Z",
            "1979-05-27",
            "'''\nmulti\nline'''",
        ];
        match rng.below(fixed.len() + 3) {
            i if i < fixed.len() => fixed[i].to_owned(),
            i if i == fixed.len() => format!("\"{}\"", "x".repeat(100_000)),
            i if i == fixed.len() + 1 => {
                let depth = 1 + rng.below(300);
                format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
            }
            _ => (rng.next() as i64).to_string(),
        }
    }

    /// The example with one to four mutations.
    fn mutated(rng: &mut Rng) -> String {
        let mut lines: Vec<String> = super::EXAMPLE.lines().map(str::to_owned).collect();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(lines.len());
            match rng.below(6) {
                // Replace the value of a `key = value` line (most mutations).
                0..=2 => {
                    let assignments: Vec<usize> = (0..lines.len())
                        .filter(|&j| {
                            let l = lines[j].trim_start();
                            !l.starts_with('#') && !l.starts_with('[') && l.contains(" = ")
                        })
                        .collect();
                    let j = assignments[rng.below(assignments.len())];
                    let key = lines[j].split(" = ").next().unwrap().to_owned();
                    lines[j] = format!("{key} = {}", hostile_value(rng));
                }
                3 => {
                    lines.remove(i);
                }
                4 => {
                    let copy = lines[i].clone();
                    lines.insert(rng.below(lines.len()), copy);
                }
                _ => {
                    let j = rng.below(lines.len());
                    lines.swap(i, j);
                }
            }
        }
        let mut text = lines.join("\n");
        if rng.below(8) == 0 {
            let mut cut = rng.below(text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        text
    }

    /// TOML-ish noise: TOML's punctuation, words, controls and arbitrary characters.
    fn noise(rng: &mut Rng) -> String {
        let tokens = [
            "[",
            "]",
            "[[",
            "]]",
            "{",
            "}",
            "=",
            "\"",
            "'",
            "'''",
            "\"\"\"",
            ".",
            ",",
            "#",
            "\n",
            " ",
            "\t",
            "\r",
            "\\",
            "\\u",
            "\u{0}",
            "\u{1b}",
            "tenant",
            "store_path",
            "store",
            "postgres",
            "postgres://u:p@h/d?sslmode=",
            "netsuite",
            "clarus",
            "webhook",
            "poll",
            "outbox",
            "cadence",
            "drift",
            "mappings",
            "1",
            "-1",
            "1e999",
            "inf",
            "nan",
            "true",
            "é",
            "\u{feff}",
        ];
        let mut out = String::new();
        for _ in 0..rng.below(200) {
            if rng.below(10) == 0 {
                out.extend(char::from_u32(rng.next() as u32 % 0x11_0000));
            } else {
                out.push_str(rng.pick(&tokens));
            }
        }
        out
    }

    fn exercise(text: &str) {
        if let Ok(config) = Config::from_toml(text) {
            let _ = config.health.health_config();
            let _ = config.webhook.intake_limits();
            let _ = config.poll.adopt_existing_for();
            let _ = config.outbox.outbox_config();
            let _ = config.postgres.store_options();
            let _ = (config.store.to_string(), format!("{config:?}"));
            let _ = config.drift.thresholds();
            let _ = config.drift.reconcile_settings();
            let _ = config.mapping_tables();
            let _ = config.netsuite_location_segments();
        }
    }

    fn run(name: &str, input: fn(&mut Rng) -> String) {
        for case in 0..cases() {
            let seed = 0x9E37_79B9_7F4A_7C15 ^ (case + 1).wrapping_mul(0x1000_0000_01B3);
            let text = input(&mut Rng(seed));
            let outcome = std::panic::catch_unwind(|| exercise(&text));
            if outcome.is_err() {
                let shown: String = text.chars().take(4000).collect();
                panic!("{name}: case {case} (seed {seed:#x}) panicked on:\n{shown}");
            }
        }
    }

    #[test]
    fn fuzz_mutated_example_configurations_never_panic() {
        run("mutated example", mutated);
    }

    #[test]
    fn fuzz_toml_noise_never_panics() {
        run("noise", noise);
    }
}

#[test]
fn processed_deliveries_are_kept_90_days_unless_configured_within_ten_years() {
    let example = Config::from_toml(EXAMPLE).unwrap();
    assert_eq!(example.webhook.keep_deliveries_days, 90);
    let bare: String = EXAMPLE
        .lines()
        .filter(|line| !line.starts_with("keep_deliveries_days"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        Config::from_toml(&bare)
            .unwrap()
            .webhook
            .keep_deliveries_days,
        90
    );
    let set = with_setting(EXAMPLE, "keep_deliveries_days", 30);
    assert_eq!(
        Config::from_toml(&set)
            .unwrap()
            .webhook
            .keep_deliveries_days,
        30
    );
    for (value, says) in [(0, "at least 1"), (3_654, "at most 3653")] {
        let err =
            Config::from_toml(&with_setting(EXAMPLE, "keep_deliveries_days", value)).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("webhook.keep_deliveries_days must be {says}")),
            "{err}"
        );
    }
}
