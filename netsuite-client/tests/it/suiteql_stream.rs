//! SuiteQL streaming: exact requests, lenient typed rows, paging past the 100,000-row cap.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::loopback::{LoopRequest, LoopResponse, serve};
use common::{ExactQuery, client};
use futures_util::{StreamExt, TryStreamExt};
use netsuite_client::suiteql::{Keyset, KeysetError, Query, StreamOptions, lenient};
use netsuite_client::{Error, NetSuiteClient};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Debug, Deserialize, PartialEq)]
struct ItemRow {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    itemid: String,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    quantityonhand: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    isinactive: Option<bool>,
}

#[tokio::test]
async fn pages_with_exact_requests_and_lenient_rows() {
    let server = MockServer::start().await;
    let q = "SELECT id, itemid, quantityonhand, isinactive FROM item WHERE itemid LIKE 'x'' OR ''1''=''1' ORDER BY id";
    for (offset, has_more, items) in [
        (
            0,
            true,
            json!([
                {"links": [], "id": "1", "itemid": "A", "quantityonhand": "2.50", "isinactive": "F"},
                {"links": [], "id": "2", "itemid": "B"}
            ]),
        ),
        (
            2,
            false,
            json!([{"links": [], "id": 3, "itemid": "C", "quantityonhand": 7, "isinactive": "T"}]),
        ),
    ] {
        let query = if offset == 0 {
            "limit=2&offset=0"
        } else {
            "limit=2&offset=2"
        };
        Mock::given(method("POST"))
            .and(path("/services/rest/query/v1/suiteql"))
            .and(ExactQuery(Some(query)))
            .and(header("prefer", "transient"))
            .and(header("content-type", "application/json"))
            .and(body_json(json!({ "q": q })))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "links": [], "count": items.as_array().unwrap().len(), "hasMore": has_more,
                "items": items, "offset": offset, "totalResults": 3
            })))
            .expect(1)
            .mount(&server)
            .await;
    }
    let query = Query::new(
        "SELECT id, itemid, quantityonhand, isinactive FROM item WHERE itemid LIKE ? ORDER BY id",
    )
    .bind("x' OR '1'='1");
    let rows: Vec<ItemRow> = client(&server)
        .suiteql(
            query,
            StreamOptions {
                page_size: 2,
                prefetch: 1,
            },
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![
            ItemRow {
                id: 1,
                itemid: "A".into(),
                quantityonhand: Some(Decimal::new(250, 2)),
                isinactive: Some(false)
            },
            ItemRow {
                id: 2,
                itemid: "B".into(),
                quantityonhand: None,
                isinactive: None
            },
            ItemRow {
                id: 3,
                itemid: "C".into(),
                quantityonhand: Some(Decimal::from(7)),
                isinactive: Some(true)
            },
        ]
    );
}

#[tokio::test]
async fn a_row_that_does_not_decode_is_an_error_with_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "hasMore": false, "items": [{"id": "x1", "itemid": "A"}]
        })))
        .mount(&server)
        .await;
    let mut s = client(&server).suiteql::<ItemRow>("SELECT id FROM item", StreamOptions::default());
    let err = s.next().await.unwrap().unwrap_err();
    let Error::Decode { body, .. } = &err else {
        panic!("{err}")
    };
    assert!(body.contains("x1"));
    assert!(s.next().await.is_none());
}

/// A fake NetSuite with `total` rows whose ids are 3, 6, 9, …, enforcing the 100,000-row cap
/// (an offset at or past it is refused as NetSuite does) and keyset conditions `id > N`.
async fn capped_server(total: u64, requests: Arc<AtomicUsize>) -> NetSuiteClient {
    let handler = move |req: LoopRequest| {
        let requests = requests.clone();
        Box::pin(async move {
            requests.fetch_add(1, Ordering::SeqCst);
            let limit: u64 = req.query("limit").unwrap().parse().unwrap();
            let offset: u64 = req.query("offset").unwrap().parse().unwrap();
            assert_eq!(offset % limit, 0, "offset must be a multiple of limit");
            assert!(limit <= 1000);
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
            let q = body["q"].as_str().unwrap().to_owned();
            assert!(q.ends_with("ORDER BY id"), "{q}");
            assert!(q.matches("WHERE").count() <= 1, "one WHERE: {q}");
            if offset + limit > 100_000 {
                return LoopResponse::new(
                    400,
                    r#"{"status":400,"o:errorDetails":[{"detail":"Offset beyond the row limit.","o:errorCode":"INVALID_PARAMETER"}]}"#,
                );
            }
            let after: u64 = q
                .split("id > ")
                .nth(1)
                .map(|s| s.split(' ').next().unwrap().parse().unwrap())
                .unwrap_or(0);
            let first_index = after / 3; // rows with id <= after
            let remaining = total - first_index.min(total);
            let start = offset.min(remaining);
            let end = (offset + limit).min(remaining);
            let items: Vec<String> = (start..end)
                .map(|i| {
                    let id = (first_index + i + 1) * 3;
                    format!(r#"{{"links":[],"id":"{id}","itemid":"SKU-{id}"}}"#)
                })
                .collect();
            let body = format!(
                r#"{{"links":[],"count":{},"hasMore":{},"items":[{}],"offset":{offset},"totalResults":{remaining}}}"#,
                items.len(),
                end < remaining,
                items.join(",")
            );
            LoopResponse::new(200, body)
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = LoopResponse> + Send>>
    };
    let addr = serve(Arc::new(handler)).await;
    NetSuiteClient::builder(Arc::new(common::TestAuth::default()))
        .base_url(format!("http://{addr}/services/rest"))
        .allow_insecure_http(true)
        .concurrency_limit(5)
        .build()
        .unwrap()
}

#[derive(Debug, Deserialize)]
struct KeyRow {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    itemid: String,
}

#[tokio::test]
async fn keyset_paging_continues_past_the_100000_row_cap() {
    const TOTAL: u64 = 230_500;
    let requests = Arc::new(AtomicUsize::new(0));
    let client = capped_server(TOTAL, requests.clone()).await;
    let keyset = Keyset::new("SELECT id, itemid FROM item", "id");
    let mut stream = client.suiteql_keyset::<KeyRow, _>(keyset, |r| r.id, StreamOptions::default());
    let mut expected = 3i64;
    let mut n = 0u64;
    while let Some(row) = stream.next().await {
        let row = row.unwrap();
        assert_eq!(row.id, expected, "rows in order, none lost or repeated");
        assert_eq!(row.itemid, format!("SKU-{expected}"));
        expected += 3;
        n += 1;
    }
    assert_eq!(n, TOTAL);
    // 100 + 100 + 31 pages: two full segments and the rest.
    assert_eq!(requests.load(Ordering::SeqCst), 231);
}

#[tokio::test]
async fn keyset_paging_of_a_query_with_its_own_where_continues_past_the_cap() {
    const TOTAL: u64 = 230_500;
    let requests = Arc::new(AtomicUsize::new(0));
    let client = capped_server(TOTAL, requests.clone()).await;
    let keyset = Keyset::parse(
        "SELECT id, itemid FROM item WHERE itemid LIKE 'SKU-%'",
        "id",
    )
    .expect("a trailing WHERE is a filter");
    let rows: Vec<KeyRow> = client
        .suiteql_keyset::<KeyRow, _>(keyset, |r| r.id, StreamOptions::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len() as u64, TOTAL);
    assert!(rows.windows(2).all(|w| w[1].id == w[0].id + 3));
    assert_eq!(requests.load(Ordering::SeqCst), 231);
}

#[tokio::test]
async fn keyset_queries_it_cannot_page_are_refused_before_sending() {
    let requests = Arc::new(AtomicUsize::new(0));
    let client = capped_server(10, requests.clone()).await;
    let err = Keyset::parse("SELECT id, itemid FROM item ORDER BY itemid", "id").unwrap_err();
    assert_eq!(err, KeysetError::OrderBy { key: "id".into() });
    // A select with its own WHERE next to a filter: refused by the stream, nothing sent.
    let keyset = Keyset::new(
        "SELECT id, itemid FROM item WHERE itemid LIKE 'SKU-%'",
        "id",
    )
    .filter(Query::new("isinactive = ?").bind(false));
    let rows: Vec<Result<KeyRow, Error>> = client
        .suiteql_keyset::<KeyRow, _>(keyset, |r| r.id, StreamOptions::default())
        .collect()
        .await;
    assert!(
        matches!(
            rows.as_slice(),
            [Err(Error::Keyset(KeysetError::WhereAndFilter))]
        ),
        "{rows:?}"
    );
    assert_eq!(requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn plain_paging_stops_at_the_cap_with_a_clear_error() {
    let requests = Arc::new(AtomicUsize::new(0));
    let client = capped_server(100_500, requests.clone()).await;
    let mut stream = client.suiteql::<KeyRow>(
        "SELECT id, itemid FROM item ORDER BY id",
        StreamOptions::default(),
    );
    let mut n = 0u64;
    let err = loop {
        match stream.next().await {
            Some(Ok(_)) => n += 1,
            Some(Err(e)) => break e,
            None => panic!("stream ended without reporting the cap"),
        }
    };
    assert_eq!(n, 100_000);
    assert!(
        matches!(err, Error::SuiteQlRowCap { cap: 100_000 }),
        "{err}"
    );
    assert_eq!(requests.load(Ordering::SeqCst), 100);
}

#[tokio::test]
async fn invalid_page_sizes_are_refused_before_sending() {
    let server = MockServer::start().await;
    let mut s = client(&server).suiteql::<KeyRow>(
        "SELECT id FROM item",
        StreamOptions {
            page_size: 1001,
            prefetch: 1,
        },
    );
    assert!(matches!(
        s.next().await,
        Some(Err(Error::InvalidRequest(_)))
    ));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn dropping_the_stream_stops_fetching() {
    let requests = Arc::new(AtomicUsize::new(0));
    let client = capped_server(50_000, requests.clone()).await;
    let mut stream = client.suiteql::<KeyRow>(
        "SELECT id, itemid FROM item ORDER BY id",
        StreamOptions::default(),
    );
    for _ in 0..1500 {
        stream.next().await.unwrap().unwrap();
    }
    drop(stream);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let after_drop = requests.load(Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        requests.load(Ordering::SeqCst),
        after_drop,
        "no request after the drop"
    );
    // Two pages consumed; beyond them at most twice the prefetch window (requests in flight and
    // pages decoding) and the channel's pages.
    assert!(after_drop <= 2 + 2 * 2 + 2, "{after_drop} requests");
}

#[tokio::test]
async fn keyset_rows_out_of_order_are_an_error() {
    let server = MockServer::start().await;
    for (query, ids, more) in [
        ("limit=2&offset=0", [10, 20], true),
        ("limit=2&offset=2", [5, 6], false),
    ] {
        Mock::given(method("POST"))
            .and(ExactQuery(Some(query)))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "hasMore": more, "totalResults": 4,
                "items": [{"id": ids[0].to_string(), "itemid": "A"}, {"id": ids[1].to_string(), "itemid": "B"}]
            })))
            .expect(1)
            .mount(&server)
            .await;
    }
    let rows: Vec<Result<KeyRow, Error>> = client(&server)
        .suiteql_keyset::<KeyRow, _>(
            Keyset::new("SELECT id, itemid FROM item", "id"),
            |r| r.id,
            StreamOptions {
                page_size: 2,
                prefetch: 1,
            },
        )
        .collect()
        .await;
    assert_eq!(rows.len(), 3, "two rows, then the error");
    let err = rows[2].as_ref().unwrap_err();
    assert!(err.to_string().contains("not ordered"), "{err}");
}

// ---------------------------------------------------------------- fuzzing (see docs/decisions/fuzzing.md)

fn page_seeds() -> Vec<serde_json::Value> {
    vec![json!({
        "links": [{"rel": "self", "href": "https://x/query/v1/suiteql?limit=2&offset=0"}],
        "count": 2, "hasMore": true, "offset": 0, "totalResults": 3,
        "items": [
            {"links": [], "id": "1", "itemid": "A", "quantityonhand": "2.50", "isinactive": "F"},
            {"links": [], "id": 2, "itemid": "B", "quantityonhand": 7, "isinactive": "T"}
        ]
    })]
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct LenientRow {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    quantityonhand: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    isinactive: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_date")]
    itemid: Option<jiff::civil::Date>,
}

/// A SuiteQL endpoint answering the fuzzed body to the first request of a case and an empty
/// last page to any later one (so a lying `hasMore` or `totalResults` ends).
#[test]
fn fuzz_suiteql_pages_never_panic() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = Arc::new(std::sync::Mutex::new((0usize, Vec::<u8>::new())));
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        let shared = body.clone();
        Mock::given(method("POST"))
            .and(path("/services/rest/query/v1/suiteql"))
            .respond_with(move |_: &wiremock::Request| {
                let mut g = shared.lock().unwrap();
                g.0 += 1;
                if g.0 == 1 {
                    ResponseTemplate::new(200).set_body_bytes(g.1.clone())
                } else {
                    ResponseTemplate::new(200).set_body_json(json!({"items": [], "hasMore": false}))
                }
            })
            .mount(&server)
            .await;
        server
    });
    let client = client(&server);
    let mut runner = proptest::test_runner::TestRunner::new(Default::default());
    runner
        .run(&fuzz_inputs::body(page_seeds()), |bytes| {
            let reset = |bytes: &Vec<u8>| *body.lock().unwrap() = (0, bytes.clone());
            rt.block_on(async {
                reset(&bytes);
                let _ = client.suiteql_page::<ItemRow>("SELECT 1", 2, 0).await;
                reset(&bytes);
                let _ = client.suiteql_page::<LenientRow>("SELECT 1", 2, 0).await;
                reset(&bytes);
                let r = client
                    .suiteql::<serde_json::Value>("SELECT 1", StreamOptions::default())
                    .try_collect::<Vec<_>>()
                    .await;
                if let Err(e) = r {
                    let text = e.to_string();
                    // A panic in a page task would surface as a failed task.
                    proptest::prop_assert!(!text.contains("task failed"), "{text}");
                }
                Ok(())
            })
        })
        .unwrap();
}

/// Structure-aware inputs for the parser fuzz tests: a valid document with one to three of its
/// values replaced by hostile ones (huge, negative or unrepresentable numbers, wrong types, deep
/// nesting, long strings, NUL and control characters), plus raw number tokens no `Value` holds.
use crate::fuzz_inputs;
