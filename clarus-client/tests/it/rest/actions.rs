//! Deletes and the bodiless actions of every resource: no body sent, the answer read.

use super::*;

#[tokio::test]
async fn deletes_send_no_body() {
    let cases = [
        ("automations", 12),
        ("goods_in_receipts", 5),
        ("goods_outs", 3301),
        ("packages", 4821),
        ("product_storage_units", 9),
        ("products", 150),
        ("shipments", 1530),
    ];
    for (resource, n) in cases {
        request("DELETE", format!("/api/{resource}/{n}"))
            .run(async |c| match resource {
                "automations" => c.delete_automation(id(n)).await,
                "goods_in_receipts" => c.delete_goods_in_receipt(id(n)).await,
                "goods_outs" => c.delete_goods_out(id(n)).await,
                "packages" => c.delete_package(id(n)).await,
                "product_storage_units" => c.delete_product_storage_unit(id(n)).await,
                "products" => c.delete_product(id(n)).await,
                "shipments" => c.delete_shipment(id(n)).await,
                other => unreachable!("no delete for {other}"),
            })
            .await;
    }
}

/// Actions answer with the record (200) or with nothing (204); both are read.
#[tokio::test]
async fn actions_read_a_record_or_an_empty_204() {
    let cases = [
        ("shipments", 1530, "submit"),
        ("shipments", 1530, "cancel"),
        ("goods_in_receipts", 5, "receive"),
        ("goods_in_receipts", 5, "revert"),
    ];
    for (resource, n, action) in cases {
        for with_record in [true, false] {
            let exchange = post(format!("/api/{resource}/{n}/{action}"));
            let exchange = if with_record {
                exchange.record(n, resource)
            } else {
                exchange
            };
            let answer = exchange
                .run(async |c| match (resource, action) {
                    ("shipments", "submit") => c.submit_shipment(id(n)).await,
                    ("shipments", "cancel") => c.cancel_shipment(id(n)).await,
                    ("goods_in_receipts", "receive") => c.receive_goods_in_receipt(id(n)).await,
                    ("goods_in_receipts", "revert") => c.revert_goods_in_receipt(id(n)).await,
                    other => unreachable!("no action {other:?}"),
                })
                .await;
            let expected = with_record.then(|| id(n));
            assert_eq!(answer.map(|r| r.id), expected, "{resource} {action}");
        }
    }
}
