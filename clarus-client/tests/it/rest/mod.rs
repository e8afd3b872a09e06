//! REST mutations against wiremock: exact method, path, headers and body per endpoint, and
//! every body checked against the operation's request schema in the OpenAPI file. One module per
//! REST area; the helpers below are shared by all of them.

mod automations;
mod errors;
mod goods_in;
mod goods_out;
mod products;
mod shipments;
mod stock_checks;
mod stocks;

use crate::fuzz_inputs;
use crate::support::*;
use clarus_client::rest::automations::{
    Automation, AutomationAction, AutomationCondition, AutomationParameter, AutomationUpdate,
};
use clarus_client::rest::common::{Address, Change, GenericFields};
use clarus_client::rest::goods_in::{GoodsInLine, GoodsInReceipt};
use clarus_client::rest::goods_out::{GoodsOut, GoodsOutLine, ShortOrderLines};
use clarus_client::rest::products::{
    Product, ProductStorageUnit, StockConfiguration, UnitOfMeasure,
};
use clarus_client::rest::shipments::{Package, PackageDimensions, Shipment, ShipmentPackage};
use clarus_client::rest::stock_checks::{StockCheckAttempt, StockCheckOutcome};
use clarus_client::rest::stocks::StockHold;
use clarus_client::{ClarusId, Error};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn id(n: i64) -> ClarusId {
    ClarusId::new(n)
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Mounts a mock that only matches the exact method, path, auth and subdomain headers and,
/// when given, the exact JSON body.
async fn expect(
    server: &MockServer,
    m: &str,
    p: &str,
    body: Option<Value>,
    response: ResponseTemplate,
) {
    let mut mock = Mock::given(method(m))
        .and(path(p))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("x-clarus-subdomain", SUBDOMAIN));
    if let Some(b) = body {
        mock = mock
            .and(header("content-type", "application/json"))
            .and(body_json(b));
    }
    mock.respond_with(response).expect(1).mount(server).await;
}

/// Checks the single request received has no body (action endpoints without a schema).
async fn assert_no_body(server: &MockServer) {
    let r = single_request(server).await;
    assert!(r.body.is_empty(), "unexpected body {:?}", r.body);
}

/// Checks the single request received satisfies `op_id`'s request schema.
async fn assert_spec(server: &MockServer, op_id: &str) -> Value {
    let r = single_request(server).await;
    let b = body(&r);
    assert_valid(op_id, &b);
    b
}

fn address() -> Address {
    Address {
        name: Some("Jane Smith".into()),
        address_1: Some("456 High Street".into()),
        address_3: Some("Leeds".into()),
        postcode: Some("LS1 4AB".into()),
        country_code: Some("GB".into()),
        email_address: Some("jane@example.com".into()),
        phone_number: Some("+44 113 000000".into()),
        ..Address::default()
    }
}
