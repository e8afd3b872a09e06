//! REST mutations against wiremock: exact method, path, headers and body per endpoint, and
//! every body checked against the operation's request schema in the OpenAPI file. One module per
//! REST area; the helpers below are shared by all of them.

mod actions;
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
use clarus_client::{ClarusClient, ClarusId, Error};
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

/// One REST call checked end to end: a fresh server answers exactly this request (method,
/// path, auth and subdomain headers and, when one is expected, the JSON body) once.
struct Exchange {
    method: &'static str,
    path: String,
    body: Option<Value>,
    /// The operation whose request schema the body must satisfy; `None` checks the wire form
    /// only.
    schema: Option<&'static str>,
    response: ResponseTemplate,
}

/// `method path` with no body (action endpoints without a schema), answered 204.
fn request(method: &'static str, path: impl Into<String>) -> Exchange {
    Exchange {
        method,
        path: path.into(),
        body: None,
        schema: None,
        response: ResponseTemplate::new(204),
    }
}

/// A `POST` to `path`.
fn post(path: impl Into<String>) -> Exchange {
    request("POST", path)
}

/// A `PATCH` to `path`.
fn patch(path: impl Into<String>) -> Exchange {
    request("PATCH", path)
}

impl Exchange {
    /// Expects exactly `body`, which must also satisfy `op_id`'s request schema.
    fn body(self, op_id: &'static str, body: Value) -> Self {
        Self {
            body: Some(body),
            schema: Some(op_id),
            ..self
        }
    }

    /// Expects exactly `body`, checked on the wire only (for bodies the schema does not allow).
    fn wire_body(self, body: Value) -> Self {
        Self {
            body: Some(body),
            schema: None,
            ..self
        }
    }

    /// Answers with `response` instead of an empty 204.
    fn answer(self, response: ResponseTemplate) -> Self {
        Self { response, ..self }
    }

    /// Answers with a JSON:API record.
    fn record(self, id: i64, kind: &str) -> Self {
        self.answer(data_response(id, kind))
    }

    /// [`Self::run_with`] on the default client.
    async fn run<T>(self, call: impl AsyncFnOnce(&ClarusClient) -> Result<T, Error>) -> T {
        self.run_with(client, call).await
    }

    /// Runs `call` on a client of the fresh server, then checks the single request received:
    /// no body when none was expected, else a body valid for the schema when one is named.
    /// Returns what the call returned.
    async fn run_with<T>(
        self,
        make_client: fn(&MockServer) -> ClarusClient,
        call: impl AsyncFnOnce(&ClarusClient) -> Result<T, Error>,
    ) -> T {
        let server = server().await;
        let mut mock = Mock::given(method(self.method))
            .and(path(self.path))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .and(header("x-clarus-subdomain", SUBDOMAIN));
        if let Some(b) = &self.body {
            mock = mock
                .and(header("content-type", "application/json"))
                .and(body_json(b));
        }
        mock.respond_with(self.response)
            .expect(1)
            .mount(&server)
            .await;
        let out = call(&make_client(&server)).await.unwrap();
        let r = single_request(&server).await;
        match (&self.body, self.schema) {
            (None, _) => assert!(r.body.is_empty(), "unexpected body {:?}", r.body),
            (Some(_), Some(op_id)) => assert_valid(op_id, &body(&r)),
            (Some(_), None) => {}
        }
        out
    }
}

/// The change array of the update tests: line 456 gets `attributes`, line 789 is deleted.
fn update_456_delete_789<L>(attributes: L) -> Vec<Change<L>> {
    vec![
        Change::Update {
            id: id(456),
            attributes,
        },
        Change::Delete(id(789)),
    ]
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

/// [`address`] as it is sent: in `data.relationships`, never among the attributes.
fn address_relationship() -> Value {
    json!({"address":{"data":{"type":"addresses","attributes":{
        "name":"Jane Smith","address_1":"456 High Street","address_3":"Leeds","postcode":"LS1 4AB",
        "country_code":"GB","email_address":"jane@example.com","phone_number":"+44 113 000000"}}}})
}
