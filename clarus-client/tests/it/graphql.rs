//! GraphQL reads: query text, filters, Relay paging as a stream, typed errors with HTTP 200,
//! look-ups, and decoding of the spec's own example responses.

use crate::fuzz_inputs;
use crate::support::*;
use clarus_client::graphql::{
    AutomationNode, Filter, GoodsInReceiptNode, GoodsOutLineNode, GoodsOutNode, ListQuery, Node,
    PackageNode, ProductNode, ProductStorageUnitNode, ShipmentNode, StockBalanceNode, StockNode,
    TransactionNode, decode_page, query_text,
};
use clarus_client::{ClarusId, Error};
use futures_util::{StreamExt, TryStreamExt};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

fn spec() -> Value {
    serde_json::from_str(&std::fs::read_to_string(SPEC_PATH).unwrap()).unwrap()
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The node selection and the example response of the spec's list operation for `N`.
fn check_against_spec<N: Node + std::fmt::Debug>(spec: &Value, op_path: &str) -> Vec<N> {
    let op = &spec["paths"][op_path]["post"];
    let example_query = op["requestBody"]["content"]["application/json"]["example"]["query"]
        .as_str()
        .unwrap();
    let selection = format!("node {{ {} }}", N::FIELDS);
    assert!(
        collapse(example_query).contains(&selection),
        "{op_path}: selection {selection:?} is not the documented one: {example_query}"
    );
    assert!(example_query.contains(N::FILTER_TYPE));
    assert!(example_query.contains(&format!("{} {{ all(", N::ROOT)));
    let example = op["responses"]["200"]["content"]["application/json"]["example"].to_string();
    decode_page::<N>(&example)
        .unwrap_or_else(|e| panic!("{op_path}: documented example does not decode: {e}"))
        .nodes
}

#[test]
fn nodes_match_the_documented_queries_and_examples() {
    let spec = spec();
    let stocks: Vec<StockNode> = check_against_spec(&spec, "/graphql#ListStocks");
    assert_eq!(stocks[0].id, ClarusId::new(48211));
    assert_eq!(stocks[0].quantity, Some(Decimal::from(240)));
    assert_eq!(
        stocks[0].product.as_ref().unwrap().code.as_deref(),
        Some("WIDGET-RED-500")
    );
    assert!(stocks[0].fifo_date.as_ref().unwrap().timestamp().is_some());
    let balances: Vec<StockBalanceNode> = check_against_spec(&spec, "/graphql#ListStockBalances");
    assert_eq!(balances[0].available, Some(Decimal::from(1380)));
    let outs: Vec<GoodsOutNode> = check_against_spec(&spec, "/graphql#ListGoodsOuts");
    assert_eq!(
        outs[0].goods_out_status.as_ref().unwrap().code.as_deref(),
        Some("PENDING")
    );
    assert!(
        outs[0]
            .expected_date_of_dispatch
            .as_ref()
            .unwrap()
            .timestamp()
            .is_some()
    );
    let lines: Vec<GoodsOutLineNode> = check_against_spec(&spec, "/graphql#ListGoodsOutLines");
    assert_eq!(lines[0].pick_quantity, Some(Decimal::from(100)));
    assert_eq!(lines[0].goods_out.as_ref().unwrap().id, ClarusId::new(3301));
    let receipts: Vec<GoodsInReceiptNode> =
        check_against_spec(&spec, "/graphql#ListGoodsInReceipts");
    assert_eq!(receipts[0].status.as_deref(), Some("receiving"));
    let shipments: Vec<ShipmentNode> = check_against_spec(&spec, "/graphql#ListShipments");
    assert_eq!(shipments[0].packages_count, Some(2));
    let packages: Vec<PackageNode> = check_against_spec(&spec, "/graphql#ListPackages");
    assert_eq!(
        packages[0].tracking_number.as_deref(),
        Some("1Z999AA10123456784")
    );
    let transactions: Vec<TransactionNode> = check_against_spec(&spec, "/graphql#ListTransactions");
    assert_eq!(transactions[0].subtype.as_deref(), Some("PICK"));
    let units: Vec<ProductStorageUnitNode> =
        check_against_spec(&spec, "/graphql#ListProductStorageUnits");
    assert_eq!(units[0].priority, Some(0));
    let automations: Vec<AutomationNode> = check_against_spec(&spec, "/graphql#ListAutomations");
    assert_eq!(automations[0].enabled, Some(true));
    let products: Vec<ProductNode> = check_against_spec(&spec, "/graphql#ListProducts");
    assert_eq!(products[0].code.as_deref(), Some("SKU-001"));
}

#[test]
fn filters_serialise_every_operator() {
    let f = Filter::new()
        .eq("reference", "SO-1")
        .ilike("product_code", "WIDGET")
        .like("description", "Blue")
        .any_of("goods_out_id", [ClarusId::new(1), ClarusId::new(2)])
        .between("quantity", Decimal::new(15, 1), Decimal::from(10))
        .gt("allocated", 0i64)
        .lt("picked", 5i64)
        .lteq("available", 9i64)
        .from("created_at", "2026-01-01T00:00:00Z")
        .to("created_at", "2026-02-01T00:00:00Z")
        .filled("carrier_id", true)
        .eq("enabled", true);
    assert_eq!(
        serde_json::to_value(&f).unwrap(),
        json!({
            "reference": {"eq": "SO-1"},
            "product_code": {"ilike": "WIDGET"},
            "description": {"like": "Blue"},
            "goods_out_id": {"in": ["1", "2"]},
            "quantity": {"between": ["1.5", "10"]},
            "allocated": {"gt": 0},
            "picked": {"lt": 5},
            "available": {"lteq": 9},
            "created_at": {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"},
            "carrier_id": {"filled": true},
            "enabled": {"eq": true}
        })
    );
}

/// Serves three pages of stocks keyed by the `after` variable.
struct ThreePages;

impl Respond for ThreePages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let after = body["variables"]["after"].as_str().map(str::to_owned);
        let (ids, next) = match after.as_deref() {
            None => (vec![1, 2], Some("c2")),
            Some("c2") => (vec![3, 4], Some("c4")),
            Some("c4") => (vec![5], None),
            other => panic!("unexpected cursor {other:?}"),
        };
        let edges: Vec<Value> = ids
            .iter()
            .map(|i| json!({"cursor": format!("c{i}"), "node": {"id": i.to_string(), "quantity": "1.5", "status": "available"}}))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"data":{"stocks":{"all":{
            "pageInfo":{"hasNextPage": next.is_some(), "hasPreviousPage": after.is_some(), "startCursor": null, "endCursor": next},
            "edges": edges}}}}))
    }
}

#[tokio::test]
async fn stream_follows_cursors_to_the_end() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(ThreePages)
        .expect(3)
        .mount(&server)
        .await;
    let query = ListQuery::new(
        Filter::new()
            .eq("product_code", "SKU-1")
            .eq("status", "available"),
        2,
    );
    let nodes: Vec<StockNode> = client(&server).list_all(query).try_collect().await.unwrap();
    assert_eq!(
        nodes.iter().map(|n| n.id.get()).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert!(
        nodes
            .iter()
            .all(|n| n.quantity == Some(Decimal::new(15, 1)))
    );

    let requests = api_requests(&server).await;
    let afters: Vec<Value> = requests
        .iter()
        .map(|r| body(r)["variables"]["after"].clone())
        .collect();
    assert_eq!(afters, vec![Value::Null, json!("c2"), json!("c4")]);
    for r in &requests {
        assert_standard_headers(r);
        let b = body(r);
        assert_valid("listStocks", &b);
        assert_eq!(b["query"], query_text::<StockNode>(false));
        assert_eq!(b["variables"]["first"], 2);
        assert_eq!(
            b["variables"]["filter"],
            json!({"product_code":{"eq":"SKU-1"},"status":{"eq":"available"}})
        );
    }
}

#[tokio::test]
async fn stream_is_lazy() {
    let server = server().await;
    mount_answer(&server, "POST", "/graphql", ThreePages).await;
    let c = client(&server);
    let mut stream = Box::pin(c.list_all::<StockNode>(ListQuery::new(Filter::new(), 2)));
    stream.next().await.unwrap().unwrap();
    stream.next().await.unwrap().unwrap();
    assert_eq!(
        api_requests(&server).await.len(),
        1,
        "second page fetched before it was needed"
    );
    stream.next().await.unwrap().unwrap();
    assert_eq!(api_requests(&server).await.len(), 2);
}

#[tokio::test]
async fn graphql_errors_with_http_200_are_typed() {
    let server = server().await;
    let raw = json!({"data": null, "errors": [{"message": "Field 'bogus' doesn't exist on type 'Stock'", "locations": [{"line": 1, "column": 5}], "path": ["query", "stocks"], "extensions": {"code": "undefinedField"}}]});
    mount_answer(
        &server,
        "POST",
        "/graphql",
        ResponseTemplate::new(200).set_body_json(raw.clone()),
    )
    .await;
    let err = client(&server)
        .list_page::<StockNode>(&ListQuery::default(), None)
        .await
        .unwrap_err();
    match err {
        Error::GraphQl { errors, raw_body } => {
            assert_eq!(
                errors[0].message,
                "Field 'bogus' doesn't exist on type 'Stock'"
            );
            assert_eq!(
                errors[0].extensions.as_ref().unwrap()["code"],
                "undefinedField"
            );
            assert_eq!(errors[0].path.as_ref().unwrap()[1], "stocks");
            assert!(errors[0].other.contains_key("locations"));
            assert_eq!(serde_json::from_str::<Value>(&raw_body).unwrap(), raw);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn errors_next_to_partial_or_odd_data_are_still_typed() {
    let partial = r#"{"data":{"stocks":{"all":{"edges":[{"node":{"id":"1"}}]}}},"errors":[{"message":"quantity unavailable"}]}"#;
    assert!(matches!(
        decode_page::<StockNode>(partial),
        Err(Error::GraphQl { .. })
    ));
    let odd = r#"{"data":{"stocks":{"all":{"edges":[{"node":{"id":{"weird":true}}}]}}},"errors":[{"message":"boom"}]}"#;
    assert!(matches!(
        decode_page::<StockNode>(odd),
        Err(Error::GraphQl { .. })
    ));
    let missing_root = r#"{"data":{"other":{}}}"#;
    assert!(matches!(
        decode_page::<StockNode>(missing_root),
        Err(Error::Decode { .. })
    ));
    let null_root = r#"{"data":{"stocks":null}}"#;
    assert!(matches!(
        decode_page::<StockNode>(null_root),
        Err(Error::Decode { .. })
    ));
}

#[tokio::test]
async fn stuck_cursor_stops_with_an_error() {
    let server = server().await;
    Mock::given(method("POST")).and(path("/graphql"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data":{"stocks":{"all":{
            "pageInfo":{"hasNextPage":true,"endCursor":"same"},"edges":[{"cursor":"same","node":{"id":"1"}}]}}}})))
        .mount(&server).await;
    let results: Vec<Result<StockNode, Error>> = client(&server)
        .list_all(ListQuery::new(Filter::new(), 1))
        .collect()
        .await;
    assert!(results.len() <= 3, "stream did not stop");
    assert!(matches!(results.last().unwrap(), Err(Error::Decode { .. })));
}

fn empty_page(root: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(
        json!({"data":{root:{"all":{"pageInfo":{"hasNextPage":false,"endCursor":null},"edges":[
        {"cursor":"MQ","node":{"id":"3301","reference":"SO-1"}}]}}}}),
    )
}

#[tokio::test]
async fn look_ups_send_the_documented_filters() {
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "goods_outs",
            "listGoodsOuts",
            json!({"reference":{"eq":"SO-1"}}),
        ),
        (
            "goods_outs",
            "listGoodsOuts",
            json!({"external_system_reference1":{"eq":"NS-SO-1"}}),
        ),
        (
            "goods_in_receipts",
            "listGoodsInReceipts",
            json!({"reference":{"eq":"PO-1"}}),
        ),
        (
            "goods_in_receipts",
            "listGoodsInReceipts",
            json!({"external_system_reference1":{"eq":"NS-PO-1"}}),
        ),
        (
            "shipments",
            "listShipments",
            json!({"reference":{"eq":"SH-1"}}),
        ),
        ("products", "listProducts", json!({"code":{"eq":"SKU-1"}})),
        ("products", "listProducts", json!({"barcode":{"eq":"501"}})),
        (
            "products",
            "listProducts",
            json!({"external_system_reference1":{"eq":"NS-ITEM-1"}}),
        ),
    ];
    for (i, (root, op, filter)) in cases.into_iter().enumerate() {
        let server = server().await;
        Mock::given(method("POST"))
            .and(path("/graphql"))
            .respond_with(empty_page(root))
            .expect(1)
            .mount(&server)
            .await;
        let c = client(&server);
        let found = match i {
            0 => c.find_goods_outs_by_reference("SO-1").await.unwrap().len(),
            1 => c
                .find_goods_outs_by_external_reference("NS-SO-1")
                .await
                .unwrap()
                .len(),
            2 => c
                .find_goods_in_receipts_by_reference("PO-1")
                .await
                .unwrap()
                .len(),
            3 => c
                .find_goods_in_receipts_by_external_reference("NS-PO-1")
                .await
                .unwrap()
                .len(),
            4 => c.find_shipments_by_reference("SH-1").await.unwrap().len(),
            5 => c.find_products_by_code("SKU-1").await.unwrap().len(),
            6 => c.find_products_by_barcode("501").await.unwrap().len(),
            _ => c
                .find_products_by_external_reference("NS-ITEM-1")
                .await
                .unwrap()
                .len(),
        };
        assert_eq!(found, 1);
        let r = single_request(&server).await;
        let b = body(&r);
        assert_valid(op, &b);
        assert_eq!(b["variables"]["filter"], filter, "case {i}");
        assert!(
            b["query"]
                .as_str()
                .unwrap()
                .contains(&format!("{root} {{ all("))
        );
    }
}

#[tokio::test]
async fn transactions_can_include_archived() {
    let server = server().await;
    mount_answer(&server, "POST", "/graphql", empty_page("transactions")).await;
    let query = ListQuery {
        filter: Filter::new().eq("goods_out_id", ClarusId::new(3301)),
        page_size: Some(100),
        include_archived: Some(true),
    };
    let page = client(&server)
        .list_page::<TransactionNode>(&query, None)
        .await
        .unwrap();
    assert_eq!(page.nodes.len(), 1);
    let b = body(&single_request(&server).await);
    assert_valid("listTransactions", &b);
    assert_eq!(b["variables"]["include_archived"], true);
    assert_eq!(
        b["variables"]["filter"],
        json!({"goods_out_id":{"eq":"3301"}})
    );
    let q = b["query"].as_str().unwrap();
    assert!(
        q.contains("$include_archived: Boolean")
            && q.contains("include_archived: $include_archived")
    );
}

// ---------------------------------------------------------------- fuzzing (see docs/decisions/fuzzing.md)

/// The spec's example response of every list operation, plus an error answer.
fn page_seeds() -> Vec<Value> {
    let spec = spec();
    let mut seeds: Vec<Value> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(p, _)| p.starts_with("/graphql#"))
        .map(|(_, op)| {
            op["post"]["responses"]["200"]["content"]["application/json"]["example"].clone()
        })
        .filter(|v| !v.is_null())
        .collect();
    assert!(!seeds.is_empty());
    seeds.push(
        json!({"data": null, "errors": [{"message": "boom", "path": ["stocks", 0],
        "locations": [{"line": 1, "column": 2}], "extensions": {"code": "X"}}]}),
    );
    seeds
}

fn decode_every_node(body: &str) {
    let _ = decode_page::<StockNode>(body);
    let _ = decode_page::<StockBalanceNode>(body);
    let _ = decode_page::<GoodsOutNode>(body);
    let _ = decode_page::<GoodsOutLineNode>(body);
    let _ = decode_page::<GoodsInReceiptNode>(body);
    let _ = decode_page::<ShipmentNode>(body);
    let _ = decode_page::<PackageNode>(body);
    let _ = decode_page::<ProductNode>(body);
    let _ = decode_page::<ProductStorageUnitNode>(body);
    let _ = decode_page::<TransactionNode>(body);
    let _ = decode_page::<AutomationNode>(body);
}

proptest::proptest! {
    #[test]
    fn fuzz_numeric_and_datetime_text_never_panics(
        text in "[ +-]{0,2}[0-9]{0,40}(\\.[0-9]{0,40})?([eE][+-]?[0-9]{0,25})?",
        when in "[0-9]{0,6}-[0-9]{0,3}-[0-9]{0,3}([ T][0-9:.Z+-]{0,30})?",
    ) {
        let _ = clarus_client::graphql::ClarusDateTime(when.clone()).timestamp();
        for quantity in [json!(text), Value::String(String::new())] {
            let page = json!({"data": {"stocks": {"all": {"pageInfo": {"hasNextPage": false},
                "edges": [{"cursor": "c", "node": {"id": text, "quantity": quantity,
                    "fifo_date": when}}]}}}});
            decode_every_node(&page.to_string());
        }
        let raw = format!(r#"{{"data":{{"stocks":{{"all":{{"pageInfo":{{"hasNextPage":false}},"edges":[{{"cursor":"c","node":{{"id":{text},"quantity":{text}}}}}]}}}}}}}}"#);
        decode_every_node(&raw);
    }

    #[test]
    fn fuzz_graphql_pages_never_panic(bytes in fuzz_inputs::body(page_seeds())) {
        decode_every_node(&String::from_utf8_lossy(&bytes));
    }
}

/// Through the client: the fuzzed body answers the first request of a case, an empty last page
/// any later one (so a lying `hasNextPage` ends).
#[test]
fn fuzz_graphql_pages_through_the_client_are_values_or_typed_errors() {
    let rt = runtime();
    let body = std::sync::Arc::new(std::sync::Mutex::new((0usize, Vec::<u8>::new())));
    let server = rt.block_on(async {
        let server = server().await;
        let shared = body.clone();
        mount_answer(&server, "POST", "/graphql", move |_: &Request| {
            let mut g = shared.lock().unwrap();
            g.0 += 1;
            if g.0 == 1 {
                ResponseTemplate::new(200).set_body_bytes(g.1.clone())
            } else {
                ResponseTemplate::new(200).set_body_json(json!({"data": {"stocks": {"all": {
                        "pageInfo": {"hasNextPage": false}, "edges": []}}}}))
            }
        })
        .await;
        server
    });
    let c = client(&server);
    let mut runner = proptest::test_runner::TestRunner::new(Default::default());
    runner
        .run(&fuzz_inputs::body(page_seeds()), |bytes| {
            rt.block_on(async {
                *body.lock().unwrap() = (0, bytes.clone());
                let _ = c.list_page::<StockNode>(&ListQuery::default(), None).await;
                *body.lock().unwrap() = (0, bytes);
                let all: Vec<Result<StockNode, Error>> = c
                    .list_all(ListQuery::new(Filter::new(), 2))
                    .take(50)
                    .collect()
                    .await;
                proptest::prop_assert!(all.len() < 50, "a fuzzed page must not loop");
                Ok(())
            })
        })
        .unwrap();
}
