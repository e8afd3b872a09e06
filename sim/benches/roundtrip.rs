//! What the simulators cost per request over loopback, and whether the NetSuite simulator sustains
//! the limit/latency bound (so an engine benchmark against it measures the engine, not the sim).

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, criterion_group, criterion_main};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sim::clarus::{ClarusConfig, ClarusSim};
use sim::netsuite::{
    GOOD, ItemKind, NetSuiteConfig, NetSuiteHandle, NetSuiteSim, NewItem, NewOrder, NewOrderLine,
    OrderKind,
};

/// Sends `request` and answers its JSON body.
async fn json_answer(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// Sends a token request and answers the access token.
async fn access_token(request: reqwest::RequestBuilder) -> String {
    json_answer(request).await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn netsuite_token(http: &reqwest::Client, base: &str) -> String {
    access_token(
        http.post(format!("{base}/services/rest/auth/oauth2/v1/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c"),
    )
    .await
}

async fn clarus_token(http: &reqwest::Client, base: &str) -> String {
    access_token(http.post(format!("{base}/oauth/token")).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "sim-client"),
        ("client_secret", "sim-secret"),
    ]))
    .await
}

/// A `POST` to the Clarus simulator's `path`, authorised with `token` for the default tenant.
fn clarus_post(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
) -> reqwest::RequestBuilder {
    http.post(format!("{base}{path}"))
        .bearer_auth(token)
        .header("X-Clarus-Subdomain", "acme-warehouse")
}

/// A benchmark group taking `samples` samples over `seconds`.
fn bench_group<'c>(
    c: &'c mut Criterion,
    name: &str,
    samples: usize,
    seconds: u64,
) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(samples)
        .measurement_time(Duration::from_secs(seconds));
    group
}

fn seed(
    handle: &NetSuiteHandle,
    items: usize,
) -> (sim::netsuite::InternalId, Vec<sim::netsuite::InternalId>) {
    let location = handle.add_location("Main", None).unwrap();
    let ids: Vec<_> = (0..items)
        .map(|n| {
            let id = handle
                .add_item(NewItem::new(format!("SKU-{n}"), ItemKind::Inventory))
                .unwrap();
            handle.set_on_hand(id, location, GOOD, Decimal::from(1_000_000));
            id
        })
        .collect();
    (location, ids)
}

fn netsuite(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(NetSuiteSim::start(NetSuiteConfig {
            concurrency_limit: None,
            ..NetSuiteConfig::default()
        }))
        .unwrap();
    let handle = sim.handle();
    let (location, items) = seed(&handle, 1000);
    let http = reqwest::Client::new();
    let base = sim.base_url().to_string();
    let token = rt.block_on(netsuite_token(&http, &base));
    let order = |n: usize| NewOrder {
        location: Some(location),
        lines: (0..3)
            .map(|l| NewOrderLine {
                item: items[(n + l) % items.len()],
                quantity: Decimal::from(2),
                location: None,
            })
            .collect(),
        ..NewOrder::default()
    };
    let so = handle.add_order(OrderKind::SalesOrder, order(0)).unwrap();

    let mut group = bench_group(c, "netsuite", 30, 5);
    group.bench_function("get_sales_order_expanded", |b| {
        b.iter(|| {
            rt.block_on(async {
                let response = http
                    .get(format!(
                        "{base}/services/rest/record/v1/salesOrder/{so}?expandSubResources=true"
                    ))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success());
                response.bytes().await.unwrap()
            })
        })
    });
    let mut n = 1;
    group.bench_function("transform_3_line_fulfilment", |b| {
        b.iter_batched(
            || {
                n += 1;
                handle.add_order(OrderKind::SalesOrder, order(n)).unwrap()
            },
            |so| {
                rt.block_on(async {
                    let response = http
                        .post(format!("{base}/services/rest/record/v1/salesOrder/{so}/!transform/itemFulfillment"))
                        .bearer_auth(&token)
                        .json(&json!({"item": {"items": [{"orderLine": 4, "itemReceive": false}]}}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status().as_u16(), 204);
                })
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("suiteql_1000_items_page", |b| {
        b.iter(|| {
            rt.block_on(async {
                let body = json_answer(
                    http.post(format!(
                        "{base}/services/rest/query/v1/suiteql?limit=1000&offset=0"
                    ))
                    .bearer_auth(&token)
                    .header("Prefer", "transient")
                    .json(
                        &json!({"q": "SELECT id, itemid, lastmodifieddate FROM item ORDER BY id"}),
                    ),
                )
                .await;
                assert_eq!(body["count"], json!(1000));
            })
        })
    });
    group.finish();
    rt.block_on(sim.shutdown());
}

/// 300 reads with 15 in flight at 50 ms latency: the ideal is 300 / (15 / 0.05 s) = 1.0 s.
fn governance_bound(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let config = NetSuiteConfig {
        concurrency_limit: Some(15),
        latency: Duration::from_millis(50),
        ..NetSuiteConfig::default()
    };
    let sim = rt.block_on(NetSuiteSim::start(config)).unwrap();
    let http = reqwest::Client::new();
    let base = sim.base_url().to_string();
    let token = rt.block_on(netsuite_token(&http, &base));
    let mut group = bench_group(c, "netsuite_governance", 10, 12);
    group.bench_function("300_reads_limit_15_latency_50ms", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let start = Instant::now();
                rt.block_on(async {
                    let permits = Arc::new(tokio::sync::Semaphore::new(15));
                    let mut tasks = Vec::new();
                    for _ in 0..300 {
                        let permit = permits.clone().acquire_owned().await.unwrap();
                        let (http, base, token) = (http.clone(), base.clone(), token.clone());
                        tasks.push(tokio::spawn(async move {
                            let status = http
                                .get(format!("{base}/services/rest/record/v1/inventoryStatus/1"))
                                .bearer_auth(&token)
                                .send()
                                .await
                                .unwrap()
                                .status();
                            drop(permit);
                            assert!(status.is_success(), "no 429 at the limit: {status}");
                        }));
                    }
                    for task in tasks {
                        task.await.unwrap();
                    }
                });
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
    assert_eq!(sim.handle().stats().throttled, 0);
    rt.block_on(sim.shutdown());
}

fn clarus(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(ClarusSim::start(ClarusConfig::default()))
        .unwrap();
    let handle = sim.handle();
    for n in 0..1000 {
        handle.add_product(&format!("P-{n}"), "Product").unwrap();
    }
    let http = reqwest::Client::new();
    let base = sim.base_url().to_string();
    let token = rt.block_on(clarus_token(&http, &base));
    let mut group = bench_group(c, "clarus", 30, 5);
    group.bench_function("graphql_products_page_100", |b| {
        b.iter(|| {
            rt.block_on(async {
                let request = clarus_post(&http, &base, &token, "/graphql").json(&json!({"query": "query($first: Int) { products { all(first: $first) { pageInfo { hasNextPage endCursor } edges { cursor node { id code barcode description } } } } }", "variables": {"first": 100}}));
                let body = json_answer(request).await;
                assert_eq!(body["data"]["products"]["all"]["edges"].as_array().map(Vec::len), Some(100));
            })
        })
    });
    let mut n = 0;
    group.bench_function("create_goods_out_validated", |b| {
        b.iter(|| {
            n += 1;
            rt.block_on(async {
                let response = clarus_post(&http, &base, &token, "/api/goods_outs")
                    .json(&json!({"data": {"type": "goods_outs", "attributes": {"goods_out_type": "sales_order", "account_id": 1, "reference": format!("SO-{n}"), "expected_date_of_dispatch": "2026-11-30T10:00:00Z", "lines_changes": [{"type": "ADD", "attributes": {"product_id": 1001, "order_quantity": 1}}]}}}))
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success());
            })
        })
    });
    group.finish();
    rt.block_on(sim.shutdown());
}

criterion_group!(benches, netsuite, governance_bound, clarus);
criterion_main!(benches);
