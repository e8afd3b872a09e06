//! Which Clarus webhooks the integration subscribes to.
//!
//! The Clarus client creates automations for whatever pairs it is given
//! ([`clarus_client::ClarusClient::ensure_webhook_automations`]); which ones the NetSuite sync
//! needs is decided here, beside the decoder that reads them.

/// The `(resource_name, event)` pairs the NetSuite sync listens to.
///
/// Despatches (goods out `completed`, and `updated` for a part shipment), receipts and stock
/// movements drive postings; goods out `processed` and the pick list events only record a sales
/// order's progress in the warehouse (acknowledged, picking).
pub const SYNC_SUBSCRIPTIONS: &[(&str, &str)] = &[
    ("goods_out", "completed"),
    ("goods_out", "cancelled"),
    ("goods_in", "completed"),
    ("goods_in", "moved_to_part"),
    ("stock", "positively_adjusted"),
    ("stock", "negatively_adjusted"),
    ("stock", "placed_on_hold"),
    ("stock", "released_from_hold"),
    ("stock", "account_transferred"),
    ("stock_balance", "updated"),
    ("goods_out", "processed"),
    ("goods_out_pick_list", "created"),
    ("goods_out_pick_list", "picked"),
    ("goods_out_pick_list", "completed"),
    ("goods_out", "updated"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use clarus_client::webhook::documented_pairs;

    #[test]
    fn sync_subscriptions_are_documented_pairs_each_once() {
        let documented = documented_pairs();
        for pair in SYNC_SUBSCRIPTIONS {
            assert!(
                documented.contains(pair),
                "{pair:?} is not a documented pair"
            );
            assert_eq!(
                SYNC_SUBSCRIPTIONS.iter().filter(|p| *p == pair).count(),
                1,
                "{pair:?} twice"
            );
        }
        // Warehouse progress of sales orders: processed for picking, then picked.
        for pair in [
            ("goods_out", "updated"),
            ("goods_out", "processed"),
            ("goods_out_pick_list", "created"),
            ("goods_out_pick_list", "picked"),
            ("goods_out_pick_list", "completed"),
        ] {
            assert!(SYNC_SUBSCRIPTIONS.contains(&pair), "{pair:?} missing");
        }
        assert_eq!(SYNC_SUBSCRIPTIONS.len(), 15);
    }
}
