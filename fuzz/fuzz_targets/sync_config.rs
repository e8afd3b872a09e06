//! The sync configuration file: `Config::from_toml`, then every derived setting of an accepted
//! configuration.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_engine::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = Config::from_toml(text) {
        let _ = config.health.health_config();
        let _ = config.webhook.intake_limits();
        let _ = config.poll.adopt_existing_for();
        let _ = config.outbox.outbox_config();
        let _ = config.drift.thresholds();
        let _ = config.drift.reconcile_settings();
        let _ = config.mapping_tables();
        let _ = config.netsuite_location_segments();
    }
});
