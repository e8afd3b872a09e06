//! Helpers shared by the per-flow walkthrough programs (`src/bin/flow_*.rs`): reading NetSuite
//! records for people, and waiting for the engine instead of sleeping a fixed time.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::Value;
use sim::clarus::{ClarusId, StockStatus};
use sim::netsuite::{GOOD, InternalId, NewItem};
use sync_engine::service::backlog;

use crate::harness::{EngineOptions, RunningEngine, SetupError, Systems, SystemsOptions};

/// Runs a walkthrough on both simulators and the engine (see [`start`]) to its end, then
/// removes its folder; when it fails, says why and exits with status 1.
pub async fn run_or_exit<F, Fut>(name: &str, seed: u64, walkthrough: F)
where
    F: FnOnce(Systems, RunningEngine) -> Fut,
    Fut: Future<Output = Result<(), SetupError>>,
{
    let outcome = async {
        let (systems, engine, dir) = start(name, seed).await?;
        walkthrough(systems, engine).await?;
        let _ = std::fs::remove_dir_all(&dir);
        Ok::<(), SetupError>(())
    };
    if let Err(e) = outcome.await {
        eprintln!("{name} failed: {e}");
        std::process::exit(1);
    }
}

/// Both simulators (well behaved, their random choices seeded with `seed`) and the engine on a
/// fresh store, in a temporary folder named after the walkthrough (the third value).
pub async fn start(name: &str, seed: u64) -> Result<(Systems, RunningEngine, PathBuf), SetupError> {
    let systems = Systems::start(&SystemsOptions::calm(seed)).await?;
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let engine =
        RunningEngine::start(&systems, &EngineOptions::fast(dir.join("sync.sqlite"))).await?;
    Ok((systems, engine, dir))
}

/// Adds `item` to NetSuite with `on_hand` in Good stock at the mapped location, waits for the
/// engine to create its Clarus product, and seeds the same available stock at the warehouse's
/// bin, so both systems open with the same stock. Returns the NetSuite item and the product.
pub async fn stocked_item(
    systems: &Systems,
    item: NewItem,
    on_hand: Decimal,
) -> Result<(InternalId, ClarusId), SetupError> {
    let (ns, cl) = (systems.netsuite.handle(), systems.clarus.handle());
    let sku = item.sku.clone();
    let id = ns.add_item(item)?;
    ns.set_on_hand(id, systems.location, GOOD, on_hand);
    let product = wait_for(&format!("the Clarus product {sku}"), || {
        cl.find_product(&sku)
    })
    .await?;
    cl.seed_stock(product, systems.bin, on_hand, StockStatus::Available, None)?;
    Ok((id, product))
}

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
        let idle = systems.webhooks_idle().await;
        let empty = backlog(engine.store.as_ref()).await?.is_empty();
        quiet = if idle && empty { quiet + 1 } else { 0 };
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
