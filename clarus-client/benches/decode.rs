//! Webhook parse throughput and GraphQL page decode rate.
//!
//! Run with `cargo bench -p clarus-client --bench decode`.

use std::hint::black_box;

use clarus_client::graphql::{GoodsOutLineNode, StockNode, decode_page};
use clarus_client::webhook::{WebhookDelivery, WebhookHeaders};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn goods_out_completed(lines: usize) -> Vec<u8> {
    let lines: Vec<_> = (0..lines)
        .map(|i| {
            serde_json::json!({
                "id": 60000 + i, "product_id": 1000 + i, "product": {"id": 1000 + i, "code": format!("SKU-{i}")},
                "order_quantity": 10.0, "pick_quantity": 10.0, "dispatch_quantity": 10.0,
                "short_status": "", "alt_line_number": format!("{}", i + 1)
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "data": {
            "id": 3301, "reference": "SO-2026-008812", "goods_out_status_id": 6, "status": "COMPLETED",
            "account_id": 7, "warehouse_id": 2, "carrier_id": 5,
            "actual_date_of_dispatch": "2026-06-15T14:32:08Z",
            "external_system_reference1": "SO-12345", "lines": lines
        }
    }))
    .unwrap()
}

fn stock_adjusted() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "data": {
            "id": 904512, "created_at": "2026-06-15T14:32:08Z",
            "account": {"id": 7, "code": "ACME"}, "product": {"id": 1024, "code": "WIDGET-RED-500"},
            "warehouse": {"id": 2, "code": "WH1"}, "quantity": 12.0, "new_quantity": 252.0
        }
    }))
    .unwrap()
}

fn stock_page(rows: usize) -> String {
    let edges: Vec<_> = (0..rows)
        .map(|i| {
            serde_json::json!({"cursor": format!("c{i}"), "node": {
                "id": format!("{}", 48000 + i), "quantity": 240.0, "status": "available",
                "fifo_date": "2026-04-02T00:00:00Z",
                "product": {"id": "1024", "code": "WIDGET-RED-500"},
                "location": {"id": "318", "code": "AISLE-04-BAY-12"},
                "account": {"id": "7", "code": "ACME"},
                "storage_unit": {"id": "9981", "reference": "PAL00098231"}
            }})
        })
        .collect();
    serde_json::json!({"data": {"stocks": {"all": {
        "pageInfo": {"hasNextPage": true, "endCursor": "abc"}, "edges": edges
    }}}})
    .to_string()
}

fn line_page(rows: usize) -> String {
    let edges: Vec<_> = (0..rows)
        .map(|i| {
            serde_json::json!({"cursor": format!("c{i}"), "node": {
                "id": format!("{}", 60000 + i), "order_quantity": 100.0, "allocated_quantity": 100.0,
                "pick_quantity": 100.0, "dispatch_quantity": 0.0, "short_status": "",
                "product": {"id": "1024", "code": "WIDGET-RED-500"},
                "goods_out": {"id": "3301", "reference": "SO-2026-008812"}, "carrier": {"id": "5"}
            }})
        })
        .collect();
    serde_json::json!({"data": {"goods_out_lines": {"all": {
        "pageInfo": {"hasNextPage": false, "endCursor": null}, "edges": edges
    }}}})
    .to_string()
}

fn webhooks(c: &mut Criterion) {
    let mut group = c.benchmark_group("webhook_parse");
    for (name, body, route) in [
        (
            "goods_out_completed_20_lines",
            goods_out_completed(20),
            ("goods_out", "completed"),
        ),
        (
            "stock_positively_adjusted",
            stock_adjusted(),
            ("stock", "positively_adjusted"),
        ),
    ] {
        group.throughput(Throughput::Elements(1));
        group.bench_function(name, |b| {
            b.iter(|| {
                let headers = WebhookHeaders::from_pairs([
                    ("X-ClarusWMS-Subdomain", "acme"),
                    ("X-ClarusWMS-Automation-ID", "12"),
                ]);
                WebhookDelivery::parse(headers, black_box(&body), Some(route)).unwrap()
            })
        });
    }
    group.finish();
}

fn graphql_pages(c: &mut Criterion) {
    let mut group = c.benchmark_group("graphql_page_decode");
    let rows = 500;
    let stocks = stock_page(rows);
    let lines = line_page(rows);
    group.throughput(Throughput::Elements(rows as u64));
    group.bench_function("stocks_500_rows", |b| {
        b.iter(|| decode_page::<StockNode>(black_box(&stocks)).unwrap())
    });
    group.bench_function("goods_out_lines_500_rows", |b| {
        b.iter(|| decode_page::<GoodsOutLineNode>(black_box(&lines)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, webhooks, graphql_pages);
criterion_main!(benches);
