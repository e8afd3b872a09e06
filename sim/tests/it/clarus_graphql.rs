//! The Clarus simulator's GraphQL profiles over HTTP: the documented profile serves exactly what
//! Clarus documents and refuses anything else with graphql-ruby's validation errors; the extended
//! profile serves the extras too; introspection lists what the active profile offers.

use crate::support::clarus::Client;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sim::clarus::{ClarusConfig, ClarusSim, GraphqlProfile, RunningClarus};

/// The project-owned request schemas, which carry the spec's example GraphQL queries.
const REQUESTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../clarus-client/spec/clarus-requests.json"
);

async fn start(profile: GraphqlProfile) -> (RunningClarus, Client) {
    let sim = ClarusSim::start(ClarusConfig {
        graphql_profile: profile,
        ..ClarusConfig::default()
    })
    .await
    .unwrap();
    let product = sim.handle().add_product("SKU-G", "Widget").unwrap();
    let client = Client::connect(&sim).await;
    for reference in ["SO-1", "SO-2", "SO-3"] {
        let body = json!({"data": {"type": "goods_outs", "attributes": {
            "goods_out_type": "sales_order", "account_id": 1, "reference": reference,
            "external_system_reference1": format!("NS-{reference}"),
            "expected_date_of_dispatch": "2026-11-30T10:00:00Z", "warehouse_id": 1,
            "lines_changes": [{"type": "ADD", "attributes": {"product_id": product.0, "order_quantity": 1}}]
        }, "relationships": {"address": {"data": {"type": "addresses", "attributes": {
            "name": "A Customer", "address_1": "1 Street", "postcode": "AB1 2CD", "country_code": "GB"}}}}}});
        let (status, created) = client.post("/api/goods_outs", body).await;
        assert_eq!(status, StatusCode::OK, "{created}");
    }
    (sim, client)
}

/// The spec's own example request of a list operation.
fn example(operation_path: &str) -> (String, Value) {
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(REQUESTS).unwrap()).unwrap();
    let example = &spec["paths"][operation_path]["post"]["requestBody"]["content"]["application/json"]
        ["example"];
    (
        example["query"].as_str().unwrap().to_string(),
        example["variables"].clone(),
    )
}

const WITH_EXTRA_FIELD: &str =
    "{ goods_outs { all { edges { node { id reference external_system_reference1 } } } } }";
const WITH_EXTRA_FILTER: &str = "query($filter: GoodsOutsFilterType) { goods_outs { all(filter: $filter) { edges { node { id reference } } } } }";

#[tokio::test]
async fn the_documented_profile_answers_the_spec_examples() {
    let (sim, client) = start(GraphqlProfile::Documented).await;
    let (query, _) = example("/graphql#ListGoodsOuts");
    let body = client
        .graphql(
            &query,
            json!({"filter": {"goods_out_status_code": {"eq": "PENDING"}}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let edges = body["data"]["goods_outs"]["all"]["edges"]
        .as_array()
        .unwrap();
    assert_eq!(edges.len(), 3);
    let node = &edges[0]["node"];
    assert_eq!(node["reference"], "SO-1");
    assert_eq!(
        node["goods_out_status"],
        json!({"code": "PENDING", "name": "Pending"})
    );
    assert_eq!(node["warehouse"], json!({"id": "1", "code": "WH1"}));
    // Every served root's documented example validates and runs.
    for path in [
        "/graphql#ListProducts",
        "/graphql#ListStocks",
        "/graphql#ListStockBalances",
        "/graphql#ListGoodsInReceipts",
        "/graphql#ListGoodsOutLines",
        "/graphql#ListShipments",
        "/graphql#ListPackages",
        "/graphql#ListTransactions",
        "/graphql#ListAutomations",
        "/graphql#ListPickProcessingRequests",
    ] {
        let (query, variables) = example(path);
        let body = client.graphql(&query, variables).await;
        assert!(body.get("errors").is_none(), "{path}: {body}");
        assert!(body["data"].is_object(), "{path}: {body}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn the_documented_profile_refuses_undocumented_fields_and_filters() {
    let (sim, client) = start(GraphqlProfile::Documented).await;
    let body = client.graphql(WITH_EXTRA_FIELD, json!({})).await;
    assert_eq!(
        body,
        json!({"errors": [{
            "message": "Field 'external_system_reference1' doesn't exist on type 'GoodsOut'",
            "locations": [{"line": 1, "column": 50}],
            "path": ["query", "goods_outs", "all", "edges", "node", "external_system_reference1"],
            "extensions": {"code": "undefinedField", "typeName": "GoodsOut", "fieldName": "external_system_reference1"}
        }]})
    );
    // A filter the documentation does not list, passed as a variable or written in the query.
    let expected = json!({"errors": [{
        "message": "InputObject 'GoodsOutsFilterType' doesn't accept argument 'updated_at'",
        "locations": [{"line": 1, "column": 56}],
        "path": ["query", "goods_outs", "all", "filter", "updated_at"],
        "extensions": {"code": "argumentNotAccepted", "name": "GoodsOutsFilterType", "typeName": "InputObject", "argumentName": "updated_at"}
    }]});
    let body = client
        .graphql(
            WITH_EXTRA_FILTER,
            json!({"filter": {"updated_at": {"from": "2026-01-01T00:00:00Z"}}}),
        )
        .await;
    assert_eq!(body, expected);
    let literal = "query { goods_outs { all(filter: {updated_at: {from: \"2026-01-01T00:00:00Z\"}}) { edges { node { id } } } } }";
    let body = client.graphql(literal, json!({})).await;
    assert_eq!(
        body["errors"][0]["message"],
        expected["errors"][0]["message"]
    );
    assert!(body.get("data").is_none());
    // `id` is not a documented filter of goods outs; `gt` is not an operator of `reference`.
    let body = client
        .graphql(
            WITH_EXTRA_FILTER,
            json!({"filter": {"id": {"eq": "1"}, "reference": {"gt": "SO-1"}}}),
        )
        .await;
    let messages: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "InputObject 'GoodsOutsFilterType' doesn't accept argument 'id'",
            "InputObject 'StringInputType' doesn't accept argument 'gt'"
        ]
    );
    assert_eq!(
        body["errors"][1]["path"],
        json!(["query", "goods_outs", "all", "filter", "reference", "gt"])
    );
    // Arguments and connection fields beyond the documented envelope.
    let body = client
        .graphql(
            "{ goods_outs { all(include_archived: true) { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["message"],
        "Field 'all' doesn't accept argument 'include_archived'"
    );
    assert_eq!(
        body["errors"][1]["message"],
        "Field 'totalCount' doesn't exist on type 'GoodsOutConnection'"
    );
    let body = client
        .graphql(
            "{ transactions { all(include_archived: true) { edges { node { id } } } } }",
            json!({}),
        )
        .await;
    assert!(
        body.get("errors").is_none(),
        "documented on transactions: {body}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_extended_profile_serves_the_extras() {
    let (sim, client) = start(GraphqlProfile::Extended).await;
    let body = client.graphql(WITH_EXTRA_FIELD, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["goods_outs"]["all"]["edges"][0]["node"]["external_system_reference1"],
        "NS-SO-1"
    );
    let body = client
        .graphql(
            WITH_EXTRA_FILTER,
            json!({"filter": {"updated_at": {"from": "2000-01-01T00:00:00Z"}}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["goods_outs"]["all"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn filter_in_on_reference_works_as_documented() {
    let (sim, client) = start(GraphqlProfile::Documented).await;
    let body = client
        .graphql(
            "query($filter: GoodsOutsFilterType, $first: Int, $after: String) { goods_outs { all(filter: $filter, first: $first, after: $after) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { __typename id reference goods_out_status { __typename code } } } } } }",
            json!({"filter": {"reference": {"in": ["SO-1", "SO-3"]}}, "first": 1}),
        )
        .await;
    let all = &body["data"]["goods_outs"]["all"];
    assert_eq!(all["edges"][0]["node"]["reference"], "SO-1", "{body}");
    assert_eq!(all["edges"][0]["node"]["__typename"], "GoodsOut");
    assert_eq!(
        all["edges"][0]["node"]["goods_out_status"]["__typename"],
        "GoodsOutStatus"
    );
    assert_eq!(all["pageInfo"]["hasNextPage"], true);
    let body = client
        .graphql(
            "query($filter: GoodsOutsFilterType, $after: String) { goods_outs { all(filter: $filter, after: $after) { edges { node { reference } } } } }",
            json!({"filter": {"reference": {"in": ["SO-1", "SO-3"]}}, "after": all["pageInfo"]["endCursor"]}),
        )
        .await;
    assert_eq!(
        body["data"]["goods_outs"]["all"]["edges"],
        json!([{"node": {"reference": "SO-3"}}])
    );
    sim.shutdown().await;
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect()
}

/// The field named `name` of the introspected type `ty`.
fn field<'a>(ty: &'a Value, name: &str) -> &'a Value {
    ty["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap()
}

const TYPE_QUERY: &str = "query { __type(name: \"GoodsOut\") { name kind fields { name type { name kind ofType { name kind } } } } }";

#[tokio::test]
async fn introspection_lists_what_the_profile_offers() {
    let (sim, client) = start(GraphqlProfile::Documented).await;
    let body = client.graphql(TYPE_QUERY, json!({})).await;
    let ty = &body["data"]["__type"];
    assert_eq!(ty["name"], "GoodsOut");
    assert_eq!(ty["kind"], "OBJECT");
    let fields = names(&ty["fields"]);
    assert!(fields.contains(&"reference"));
    assert!(!fields.contains(&"updated_at"));
    let status = field(ty, "goods_out_status");
    assert_eq!(
        status["type"],
        json!({"name": "GoodsOutStatus", "kind": "OBJECT", "ofType": null})
    );
    let id = field(ty, "id");
    assert_eq!(
        id["type"],
        json!({"name": null, "kind": "NON_NULL", "ofType": {"name": "ID", "kind": "SCALAR"}})
    );
    let body = client
        .graphql(
            "{ __type(name: \"GoodsOutsFilterType\") { kind inputFields { name } } missing: __type(name: \"Nope\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["__type"]["kind"], "INPUT_OBJECT");
    let filters = names(&body["data"]["__type"]["inputFields"]);
    assert!(
        filters.contains(&"reference")
            && !filters.contains(&"updated_at")
            && !filters.contains(&"id")
    );
    assert_eq!(body["data"]["missing"], Value::Null);
    let body = client
        .graphql(
            "{ __schema { queryType { name } types { name kind fields { name } inputFields { name } } } }",
            json!({}),
        )
        .await;
    let schema = &body["data"]["__schema"];
    assert_eq!(schema["queryType"]["name"], "Query");
    let types = schema["types"].as_array().unwrap();
    let query = types.iter().find(|t| t["name"] == "Query").unwrap();
    assert!(names(&query["fields"]).contains(&"goods_outs"));
    let status = types
        .iter()
        .find(|t| t["name"] == "GoodsOutStatus")
        .unwrap();
    assert_eq!(names(&status["fields"]), ["code", "name"]);
    let strings = types
        .iter()
        .find(|t| t["name"] == "StringInputType")
        .unwrap();
    assert_eq!(strings["kind"], "INPUT_OBJECT");
    assert!(names(&strings["inputFields"]).contains(&"in"));
    sim.shutdown().await;

    let (sim, client) = start(GraphqlProfile::Extended).await;
    let body = client.graphql(TYPE_QUERY, json!({})).await;
    let fields = names(&body["data"]["__type"]["fields"]);
    assert!(fields.contains(&"reference") && fields.contains(&"updated_at"));
    let body = client
        .graphql(
            "{ __type(name: \"GoodsOutsFilterType\") { inputFields { name } } }",
            json!({}),
        )
        .await;
    assert!(names(&body["data"]["__type"]["inputFields"]).contains(&"updated_at"));
    sim.shutdown().await;
}
