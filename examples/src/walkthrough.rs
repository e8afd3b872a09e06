//! Helpers shared by the per-flow walkthrough programs (`src/bin/flow_*.rs`): reading NetSuite
//! records for people, and waiting for the engine instead of sleeping a fixed time.

use std::time::{Duration, Instant};

use serde_json::Value;
use sync_engine::service::backlog;

use crate::harness::{RunningEngine, SetupError, Systems};

/// A JSON value for people: strings without their quotes.
///
/// ```
/// assert_eq!(examples::walkthrough::text(&serde_json::json!("SO-1")), "SO-1");
/// assert_eq!(examples::walkthrough::text(&serde_json::json!(3)), "3");
/// ```
pub fn text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

/// The rows of a NetSuite sublist (`record[sublist].items`), empty when there are none.
pub fn rows<'a>(record: &'a Value, sublist: &str) -> &'a [Value] {
    record[sublist]["items"]
        .as_array()
        .map_or(&[], Vec::as_slice)
}

/// Polls until `check` finds something, for up to 15 seconds.
pub async fn wait_for<T>(
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> Result<T, SetupError> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(found) = check() {
            return Ok(found);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the engine has had nothing to do for a moment (no webhook in flight, empty
/// outbox), so a late duplicate would have shown.
pub async fn settle(systems: &Systems, engine: &RunningEngine) -> Result<(), SetupError> {
    let mut quiet = 0;
    while quiet < 15 {
        let idle = systems
            .clarus
            .handle()
            .wait_for_webhooks(Duration::ZERO)
            .await;
        let empty = backlog(engine.store.as_ref()).await?.is_empty();
        quiet = if idle && empty { quiet + 1 } else { 0 };
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
