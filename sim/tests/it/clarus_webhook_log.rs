//! The webhook log keeps the payloads of the newest webhooks and of those not delivered.

use std::time::Duration;

use serde_json::{Value, json};
use sim::clarus::{ClarusConfig, ClarusSim, RunningClarus, WebhookBehaviour};

use crate::support::clarus::*;

/// Starts Clarus with `behaviour`, an automation sending positive adjustments to a receiver
/// at `url`, and makes `count` adjustments. Answers the simulator once no copy is in flight.
async fn adjust(behaviour: WebhookBehaviour, url: &str, count: usize) -> RunningClarus {
    let sim = ClarusSim::start(ClarusConfig {
        webhooks: behaviour,
        ..extended()
    })
    .await
    .unwrap();
    let client = Client::connect(&sim).await;
    client.subscribe_stock_to_erp(url).await;
    let handle = sim.handle();
    let find_one = stock_finder(&sim);
    for _ in 0..count {
        find_one();
        // One at a time, so each is delivered before the next is fired.
        assert!(handle.wait_for_webhooks(Duration::from_secs(10)).await);
    }
    sim
}

#[tokio::test]
async fn only_the_newest_delivered_webhooks_keep_their_payloads() {
    let (url, received) = receiver().await;
    let behaviour = WebhookBehaviour {
        payloads_kept: 3,
        ..WebhookBehaviour::default()
    };
    let sim = adjust(behaviour, &url, 8).await;
    let log = sim.handle().webhook_log();
    assert_eq!(log.len(), 8, "every webhook is still logged");
    assert!(log.iter().all(|r| r.delivered()));
    let kept: Vec<bool> = log.iter().map(|r| !r.payload.is_null()).collect();
    assert_eq!(
        kept,
        [false, false, false, false, false, true, true, true],
        "the payloads of the three newest are kept"
    );
    assert_eq!(received.lock().unwrap().len(), 8);
    assert_eq!(log[7].payload["data"]["product"]["code"], json!("SKU-W"));
}

#[tokio::test]
async fn a_webhook_not_delivered_keeps_its_payload() {
    let behaviour = WebhookBehaviour {
        payloads_kept: 1,
        loss_rate: 1.0,
        ..WebhookBehaviour::default()
    };
    let sim = adjust(behaviour, "http://127.0.0.1:9/unused", 4).await;
    let log = sim.handle().webhook_log();
    assert_eq!(log.len(), 4);
    assert!(log.iter().all(|r| r.lost && r.payload != Value::Null));
}

#[tokio::test]
async fn keeping_every_payload_keeps_every_payload() {
    let (url, received) = receiver().await;
    let behaviour = WebhookBehaviour {
        payloads_kept: usize::MAX,
        ..WebhookBehaviour::default()
    };
    let sim = adjust(behaviour, &url, 4).await;
    let log = sim.handle().webhook_log();
    assert_eq!(log.len(), 4);
    assert!(log.iter().all(|r| r.delivered() && !r.payload.is_null()));
    assert_eq!(received.lock().unwrap().len(), 4);
}
