//! A plain HTTP client of the Clarus simulator (OAuth client credentials, the subdomain header,
//! JSON:API and GraphQL bodies), the goods-out body the tests create orders with, and a loopback
//! webhook receiver.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sim::clarus::{ClarusConfig, ClarusId, GraphqlProfile, MAIN_WAREHOUSE, RunningClarus};

use super::dec;

/// Asks the simulator for a token with the client credentials of `sim-client` and `secret`.
pub async fn request_token(
    http: &reqwest::Client,
    sim: &RunningClarus,
    secret: &str,
) -> reqwest::Response {
    http.post(format!("{}/oauth/token", sim.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sim-client"),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap()
}

/// A client holding a token of the simulator.
pub struct Client {
    http: reqwest::Client,
    base: String,
    /// The bearer token the simulator issued.
    pub token: String,
}

impl Client {
    /// Takes a token with client credentials, checking the token answer's shape.
    pub async fn connect(sim: &RunningClarus) -> Client {
        let http = reqwest::Client::new();
        let response = request_token(&http, sim, "sim-secret").await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token_type"], json!("Bearer"));
        assert!(body["expires_in"].is_u64());
        Client {
            http,
            base: sim.base_url().to_string(),
            token: body["access_token"].as_str().unwrap().to_string(),
        }
    }

    /// Sends an authorised request; an empty answer reads as `null`.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("X-Clarus-Subdomain", "acme-warehouse");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap()
            },
        )
    }

    /// `POST`s a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// Creates an enabled automation named `name` sending `resource.event` webhooks to `url`.
    pub async fn subscribe(&self, resource: &str, event: &str, name: &str, url: &str) {
        let parameters = json!([
            {"type": "ADD", "attributes": {"parameter_code": "webhook_url", "value": url}}
        ]);
        self.automation(resource, event, name, parameters).await;
    }

    /// Creates the enabled automation "stock to ERP" `POST`ing positive stock adjustments to
    /// `url`, its webhook method given explicitly.
    pub async fn subscribe_stock_to_erp(&self, url: &str) {
        let parameters = json!([
            {"type": "ADD", "attributes": {"parameter_code": "webhook_url", "value": url}},
            {"type": "ADD", "attributes": {"parameter_code": "webhook_method", "value": "POST"}}
        ]);
        self.automation("stock", "positively_adjusted", "stock to ERP", parameters)
            .await;
    }

    /// Creates an enabled webhook automation with the action parameter changes `parameters`.
    async fn automation(&self, resource: &str, event: &str, name: &str, parameters: Value) {
        let automation = json!({"data": {"type": "automations", "attributes": {
            "resource_name": resource, "event": event, "name": name, "enabled": true,
            "actions_changes": [{"type": "ADD", "attributes": {"destination_type": "webhook", "destination_code": "erp", "parameters_changes": parameters}}]
        }}});
        let (status, body) = self.post("/api/automations", automation).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Creates a sales-order goods out (see [`goods_out_body`]) with `(product, quantity)` lines,
    /// checking that it was accepted; answers its id.
    pub async fn create_goods_out(&self, reference: &str, lines: &[(ClarusId, i64)]) -> ClarusId {
        let lines: Vec<(u64, i64)> = lines.iter().map(|(p, q)| (p.0, *q)).collect();
        let (status, created) = self
            .post("/api/goods_outs", goods_out_body(reference, &lines))
            .await;
        assert_eq!(status, StatusCode::OK, "{created}");
        ClarusId(created["data"]["id"].as_u64().unwrap())
    }

    /// Sends a GraphQL query; GraphQL answers 200 even with errors.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self
            .post("/graphql", json!({"query": query, "variables": variables}))
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "GraphQL answers 200 even with errors"
        );
        body
    }
}

/// The body creating a sales-order goods out with `(product id, quantity)` lines, to a fixed
/// address.
pub fn goods_out_body(reference: &str, lines: &[(u64, i64)]) -> Value {
    let changes: Vec<Value> = lines
        .iter()
        .map(|(p, q)| json!({"type": "ADD", "attributes": {"product_id": p, "order_quantity": q}}))
        .collect();
    json!({"data": {"type": "goods_outs", "attributes": {
        "goods_out_type": "sales_order", "account_id": 1, "reference": reference,
        "expected_date_of_dispatch": "2026-11-30T10:00:00Z", "warehouse_id": 1, "lines_changes": changes
    }, "relationships": {"address": {"data": {"type": "addresses", "attributes": {"name": "A Customer", "address_1": "1 Street", "postcode": "AB1 2CD", "country_code": "GB"}}}}}})
}

/// Adds product `SKU-W` and answers a function that finds one more unit of it in the main
/// warehouse's default location: a positive adjustment, as the "stock to ERP" automation sends.
pub fn stock_finder(sim: &RunningClarus) -> impl Fn() + use<> {
    let handle = sim.handle();
    let product = handle.add_product("SKU-W", "Webhooked").unwrap();
    let location = handle.default_location(MAIN_WAREHOUSE).unwrap();
    let warehouse = sim.warehouse();
    move || {
        warehouse
            .adjust(product, location, dec(1), "found")
            .unwrap();
    }
}

/// The tenant profile serving every field the simulator builds, not only the documented ones.
pub fn extended() -> ClarusConfig {
    ClarusConfig {
        graphql_profile: GraphqlProfile::Extended,
        ..ClarusConfig::default()
    }
}

/// Every webhook delivery a [`receiver`] took: its headers and its JSON body.
pub type Deliveries = Arc<Mutex<Vec<(axum::http::HeaderMap, Value)>>>;

/// A loopback receiver that records every webhook delivery; answers its URL.
pub async fn receiver() -> (String, Deliveries) {
    let received: Deliveries = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let sink = sink.clone();
                async move {
                    sink.lock()
                        .unwrap()
                        .push((headers, serde_json::from_slice(&body).unwrap()));
                    StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}
