//! The schema validation used by the endpoint tests does reject bodies that break the spec.

use crate::support;

use serde_json::json;

#[test]
fn validator_rejects_bodies_that_break_the_spec() {
    // Missing required `stock_unit_type_id`.
    assert!(!support::is_valid(
        "createProduct",
        &json!({"data":{"type":"products","attributes":{"description":"x"}}})
    ));
    // Wrong envelope type.
    assert!(!support::is_valid(
        "createProduct",
        &json!({"data":{"type":"goods_outs","attributes":{"description":"x","stock_unit_type_id":1}}})
    ));
    // Quantity must be > 0 (boolean exclusiveMinimum, resolved through $ref).
    assert!(!support::is_valid(
        "negativeAdjustmentStock",
        &json!({"data":{"type":"stocks","attributes":{"quantity":0}}})
    ));
    // Delete word outside the schema enum.
    assert!(!support::is_valid(
        "updateGoodsOut",
        &json!({"data":{"type":"goods_outs","attributes":{
            "goods_out_type":"sales_order","account_id":1,"reference":"R",
            "expected_date_of_dispatch":"2026-01-01T00:00:00Z",
            "lines_changes":[{"type":"REMOVE","id":3}]}}})
    ));
    // Bad date-time format.
    assert!(!support::is_valid(
        "createStockCheck",
        &json!({"data":{"type":"stock_checks","attributes":{"location_id":1,"expected_completion_date":"tomorrow"}}})
    ));
    // And a good body passes.
    support::assert_valid(
        "createProduct",
        &json!({"data":{"type":"products","attributes":{"description":"x","stock_unit_type_id":1}}}),
    );
}
