//! Tests of the Clarus schema check: the comparison over introspection answers and the
//! exception it raises and resolves.

use clarus_client::graphql::DocumentedSchema;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::nodes::engine_reads;
use super::compare::{parse_selection, read_tree};
use super::*;
use crate::job::Connection;
use crate::store::SqliteStore;

fn named(name: &str) -> Value {
    json!({"name": name, "kind": "OBJECT", "ofType": null})
}

fn field(name: &str, ty: Value) -> Value {
    json!({"name": name, "type": ty})
}

fn leaf(name: &str) -> Value {
    field(
        name,
        json!({"name": "String", "kind": "SCALAR", "ofType": null}),
    )
}

fn object(name: &str, fields: Vec<Value>) -> Value {
    json!({"name": name, "kind": "OBJECT", "fields": fields})
}

/// An introspection answer serving `root` with node type `node` whose fields are `fields`
/// (plus nested objects), wrapped as graphql-ruby wraps them.
fn schema(root: &str, node: &str, node_fields: Vec<Value>, nested: Vec<Value>) -> Value {
    let query_type = format!("{node}sQuery");
    let connection = format!("{node}Connection");
    let edge = format!("{node}Edge");
    let mut types = vec![
        object("Query", vec![field(root, named(&query_type))]),
        object(
            &query_type,
            vec![field(
                "all",
                json!({"name": null, "kind": "NON_NULL", "ofType": named(&connection)}),
            )],
        ),
        object(
            &connection,
            vec![
                field(
                    "pageInfo",
                    json!({"name": null, "kind": "NON_NULL", "ofType": named("PageInfo")}),
                ),
                field(
                    "edges",
                    json!({"name": null, "kind": "LIST", "ofType": {"name": null, "kind": "NON_NULL", "ofType": named(&edge)}}),
                ),
            ],
        ),
        object(&edge, vec![leaf("cursor"), field("node", named(node))]),
        object("PageInfo", vec![leaf("hasNextPage"), leaf("endCursor")]),
        object(node, node_fields),
        json!({"name": "String", "kind": "SCALAR", "fields": null}),
    ];
    types.extend(nested);
    json!({"__schema": {"queryType": {"name": "Query"}, "types": types}})
}

const PACKAGES: (&str, &str) = ("packages", "id tracking_number shipment { id }");

#[test]
fn a_schema_offering_every_field_is_complete_with_its_extras() {
    let answer = schema(
        "packages",
        "Package",
        vec![
            leaf("id"),
            leaf("tracking_number"),
            field("shipment", named("PackageShipment")),
            leaf("weight_kg"),
        ],
        vec![object(
            "PackageShipment",
            vec![leaf("id"), leaf("reference"), leaf("secret_note")],
        )],
    );
    let report = compare_schema(&answer, &[PACKAGES]).unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.message(), None);
    // packages, all, pageInfo { 2 }, edges, cursor, node { 3 + shipment { 1 } }
    assert_eq!(report.checked, 12);
    let documented = DocumentedSchema::get().root("packages").unwrap();
    let extras = &report.extras["Package"];
    assert!(extras.contains(&"weight_kg".to_owned()), "{extras:?}");
    for f in extras {
        assert!(documented.field(f).is_none(), "{f} is documented");
    }
    assert!(
        report.extras["PackageShipment"].contains(&"secret_note".to_owned()),
        "{report:?}"
    );
    // The same answer wrapped in its response's `data` reads the same.
    assert_eq!(
        compare_schema(&json!({ "data": answer }), &[PACKAGES]).unwrap(),
        report
    );
}

#[test]
fn missing_fields_are_named_by_type_with_their_flow() {
    // `tracking_number` renamed, `shipment` made a plain id: neither can be read.
    let answer = schema(
        "packages",
        "Package",
        vec![leaf("id"), leaf("tracking_code"), leaf("shipment")],
        vec![],
    );
    let report = compare_schema(
        &answer,
        &[
            PACKAGES,
            ("transactions", "id created_at"),
            ("goods_in_receipts", "id"),
        ],
    )
    .unwrap();
    assert!(!report.is_complete());
    let missing: Vec<(String, &str, &str)> = report
        .missing
        .iter()
        .map(|m| (m.path(), m.root.as_str(), m.flow()))
        .collect();
    assert_eq!(
        missing,
        vec![
            (
                "Query.goods_in_receipts".into(),
                "goods_in_receipts",
                "inbound and returns"
            ),
            (
                "Package.tracking_number".into(),
                "packages",
                "order to cash"
            ),
            ("PackageShipment.id".into(), "packages", "order to cash"),
            (
                "Query.transactions".into(),
                "transactions",
                "adjustments and despatch dates"
            ),
        ]
    );
    assert_eq!(report.extras["Package"], ["tracking_code"]);
    let message = report.message().unwrap();
    assert!(message.contains("lacks 4 fields"), "{message}");
    assert!(
        message.contains("Package.tracking_number (needed by order to cash)"),
        "{message}"
    );
    assert!(
        message.contains("Query.transactions (needed by adjustments and despatch dates)"),
        "{message}"
    );
}

#[test]
fn a_field_missing_from_a_shared_type_is_named_once_with_every_flow() {
    let mut answer = schema("packages", "Package", vec![leaf("id")], vec![]);
    // A second root on the same PageInfo, which lacks endCursor.
    let types = answer["__schema"]["types"].as_array_mut().unwrap();
    for t in types.iter_mut() {
        if t["name"] == "PageInfo" {
            *t = object("PageInfo", vec![leaf("hasNextPage")]);
        }
        if t["name"] == "Query" {
            t["fields"]
                .as_array_mut()
                .unwrap()
                .push(field("stocks", named("PackagesQuery")));
        }
    }
    let report = compare_schema(&answer, &[("packages", "id"), ("stocks", "id")]).unwrap();
    assert_eq!(report.missing.len(), 2);
    assert_eq!(
        report.missing_by_field()["PageInfo.endCursor"],
        BTreeSet::from(["order to cash", "reconciliation"])
    );
    assert!(
        report
            .message()
            .unwrap()
            .contains("lacks 1 field the integration reads")
    );
}

#[test]
fn an_answer_without_a_schema_is_unusable() {
    for answer in [
        json!({"__schema": null}),
        json!({"__type": {"name": "GoodsOut"}}),
        json!({"__schema": {"queryType": {"name": "Query"}, "types": []}}),
        json!("nonsense"),
    ] {
        assert!(
            matches!(
                compare_schema(&answer, &engine_reads()),
                Err(IntrospectionError::Unusable(_))
            ),
            "{answer}"
        );
    }
}

#[test]
fn every_engine_read_parses() {
    for (root, selection) in engine_reads() {
        let tree = read_tree(root, selection).unwrap();
        assert_eq!(tree.name, root);
        assert!(
            DocumentedSchema::get().root(root).is_some(),
            "{root} is documented"
        );
    }
    assert!(parse_selection("a { b").is_err());
    assert!(parse_selection("a }").is_err());
    let aliased = parse_selection("x: id product { code }").unwrap();
    assert_eq!(aliased[0].name, "id");
    assert_eq!(aliased[1].children[0].name, "code");
}

#[tokio::test]
async fn the_exception_is_raised_refreshed_when_the_set_changes_and_resolved() {
    let store = SqliteStore::open_in_memory().unwrap();
    let now = Timestamp::from_second(1_800_000_000).unwrap();
    let answer = schema(
        "packages",
        "Package",
        vec![leaf("id"), leaf("shipment")],
        vec![],
    );
    let report = compare_schema(&answer, &[PACKAGES]).unwrap();
    assert_eq!(
        apply_schema_report(&store, &report, now).await.unwrap(),
        SchemaExceptionChange::Raised
    );
    let e = store.exception(CLARUS_SCHEMA_KEY).await.unwrap().unwrap();
    assert_eq!(e.exception.kind, "clarus-schema");
    assert_eq!(e.exception.owner, "integration");
    assert_eq!(e.exception.severity, "error");
    assert_eq!(e.exception.runbook, "operations.md#clarus-schema");
    assert!(
        e.exception
            .message
            .contains("Package.tracking_number (needed by order to cash)")
    );
    assert_eq!(e.exception.payload["missing"][0]["flow"], "order to cash");

    // The same set again: nothing written.
    assert_eq!(
        apply_schema_report(&store, &report, now).await.unwrap(),
        SchemaExceptionChange::Unchanged
    );
    // One more field missing: refreshed, still one exception.
    let mut worse = report.clone();
    worse.missing.push(MissingField {
        root: "products".into(),
        type_name: "Product".into(),
        field: "barcode".into(),
    });
    assert_eq!(
        apply_schema_report(&store, &worse, now).await.unwrap(),
        SchemaExceptionChange::Refreshed
    );
    let open = store.open_exceptions().await.unwrap();
    assert_eq!(open.len(), 1);
    assert!(
        open[0]
            .exception
            .message
            .contains("Product.barcode (needed by item master)")
    );
    let audit: Vec<String> = store
        .exception_audit(CLARUS_SCHEMA_KEY)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.change)
        .collect();
    assert_eq!(audit, ["raised", "updated"]);

    // Complete: resolved; complete again: nothing.
    let complete = SchemaReport::default();
    assert_eq!(
        apply_schema_report(&store, &complete, now).await.unwrap(),
        SchemaExceptionChange::Resolved
    );
    assert!(store.open_exceptions().await.unwrap().is_empty());
    assert_eq!(
        apply_schema_report(&store, &complete, now).await.unwrap(),
        SchemaExceptionChange::Nothing
    );
    // Missing again later: raised again.
    assert_eq!(
        apply_schema_report(&store, &report, now).await.unwrap(),
        SchemaExceptionChange::Raised
    );
    assert_eq!(store.open_exceptions().await.unwrap().len(), 1);
}

#[test]
fn outcomes_become_job_results() {
    let incomplete = SchemaReport {
        missing: vec![MissingField {
            root: "stocks".into(),
            type_name: "Stock".into(),
            field: "status".into(),
        }],
        ..SchemaReport::default()
    };
    let err = SchemaCheckOutcome::Incomplete(incomplete)
        .into_job_result()
        .unwrap_err();
    assert!(err.is_persistent());
    assert_eq!(err.connection(), Some(Connection::Clarus));
    assert!(
        err.message()
            .contains("Stock.status (needed by reconciliation)")
    );
    assert_eq!(
        SchemaCheckOutcome::Unknown {
            error: IntrospectionError::Unusable("x".into()),
            still_open: None
        }
        .into_job_result(),
        Ok(0)
    );
    let kept = SchemaCheckOutcome::Unknown {
        error: IntrospectionError::Unusable("x".into()),
        still_open: Some("lacks Stock.status".into()),
    }
    .into_job_result()
    .unwrap_err();
    assert!(kept.is_persistent() && kept.message().contains("Stock.status"));
}
