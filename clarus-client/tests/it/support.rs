//! Shared test helpers: a wiremock server with a token endpoint, a client pointed at it, and
//! validation of request bodies against Clarus's OpenAPI request schemas (the project-owned
//! `spec/clarus-requests.json`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use clarus_client::{ClarusClient, ClarusConfig, Credentials, DeleteChangeType, Secret};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The project-owned subset of Clarus's OpenAPI file (request schemas, components, the GraphQL
/// list operations with their examples); see `spec_files.rs` beside this module.
pub const SPEC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/clarus-requests.json");
pub const TOKEN: &str = "tok-1";
pub const SUBDOMAIN: &str = "acme-warehouse";

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(SPEC_PATH)
            .unwrap_or_else(|e| panic!("cannot read the Clarus spec at {SPEC_PATH}: {e}"));
        serde_json::from_str(&text).expect("spec is JSON")
    })
}

/// `(path, method)` of an operation id.
fn operation(op_id: &str) -> (String, String) {
    for (p, item) in spec()["paths"].as_object().unwrap() {
        for (m, op) in item.as_object().unwrap() {
            if op.get("operationId").and_then(Value::as_str) == Some(op_id) {
                return (p.clone(), m.clone());
            }
        }
    }
    panic!("no operation {op_id} in the spec");
}

/// JSON-pointer escaping, then percent-encoding of the characters a URI fragment cannot hold.
fn escape(segment: &str) -> String {
    segment
        .replace('~', "~0")
        .replace('/', "~1")
        .replace('%', "%25")
        .replace('{', "%7B")
        .replace('}', "%7D")
        .replace('#', "%23")
}

type Validator = jsonschema::Validator;

fn validator(op_id: &str) -> &'static Validator {
    static CACHE: OnceLock<Mutex<HashMap<String, &'static Validator>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(op_id) {
        return v;
    }
    let (p, m) = operation(op_id);
    let pointer = format!(
        "#/paths/{}/{}/requestBody/content/application~1json/schema",
        escape(&p),
        m
    );
    // The whole document is the schema resource, and its root is a `$ref` to the operation's
    // request schema, so every `$ref` inside resolves within the document. OpenAPI 3.0 schemas
    // use the draft-4 style boolean `exclusiveMinimum`, hence draft 4.
    let mut root = spec().clone();
    root.as_object_mut()
        .unwrap()
        .insert("$ref".into(), Value::String(pointer));
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("cannot compile the schema of {op_id}: {e}"));
    let v: &'static Validator = Box::leak(Box::new(v));
    cache.lock().unwrap().insert(op_id.to_owned(), v);
    v
}

/// Fails the test if `body` does not satisfy the request schema of `op_id`.
pub fn assert_valid(op_id: &str, body: &Value) {
    let v = validator(op_id);
    let errors: Vec<String> = v
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "body for {op_id} fails the spec:\n{}\nbody: {body:#}",
        errors.join("\n")
    );
}

/// Whether `body` satisfies the request schema of `op_id`.
pub fn is_valid(op_id: &str, body: &Value) -> bool {
    validator(op_id).is_valid(body)
}

pub async fn server() -> MockServer {
    let server = MockServer::start().await;
    mount_token(&server, TOKEN).await;
    server
}

pub async fn mount_token(server: &MockServer, token: &str) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token, "token_type": "Bearer", "expires_in": 7200,
            "scope": "", "created_at": 1_700_000_000
        })))
        .mount(server)
        .await;
}

/// Answers every `http_method endpoint` request on `server` with `response`.
pub async fn mount_answer(
    server: &MockServer,
    http_method: &str,
    endpoint: &str,
    response: impl Respond + 'static,
) {
    Mock::given(method(http_method))
        .and(path(endpoint))
        .respond_with(response)
        .mount(server)
        .await;
}

pub fn config(server: &MockServer) -> clarus_client::ClarusConfigBuilder {
    ClarusConfig::builder(
        SUBDOMAIN,
        Credentials::client_credentials("client-1", Secret::new("secret-1")),
    )
    .base_url(&server.uri())
    .allow_insecure_http(true)
}

pub fn client(server: &MockServer) -> ClarusClient {
    ClarusClient::new(config(server).build().unwrap()).unwrap()
}

pub fn client_with_remove(server: &MockServer) -> ClarusClient {
    ClarusClient::new(
        config(server)
            .delete_change_type(DeleteChangeType::Remove)
            .build()
            .unwrap(),
    )
    .unwrap()
}

/// Requests the server received, except token requests.
pub async fn api_requests(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() != "/oauth/token")
        .collect()
}

pub async fn token_requests(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/oauth/token")
        .count()
}

/// The one API request received, with the standard headers checked.
pub async fn single_request(server: &MockServer) -> Request {
    let mut requests = api_requests(server).await;
    assert_eq!(requests.len(), 1, "expected exactly one API request");
    let r = requests.remove(0);
    assert_standard_headers(&r);
    r
}

pub fn assert_standard_headers(r: &Request) {
    assert_eq!(
        r.headers.get("authorization").unwrap(),
        &format!("Bearer {TOKEN}")
    );
    assert_eq!(r.headers.get("x-clarus-subdomain").unwrap(), SUBDOMAIN);
}

pub fn body(r: &Request) -> Value {
    serde_json::from_slice(&r.body).expect("request body is JSON")
}

pub fn data_response(id: i64, kind: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "data": {"id": id, "type": kind, "attributes": {"reference": "R"}}
    }))
}

/// The status and body the next request to a fuzzed endpoint is answered with; each fuzz case
/// sets it before it calls the client.
pub type FuzzedAnswer = Arc<Mutex<(u16, Vec<u8>)>>;

/// A runtime for the fuzz tests, which drive the async client from proptest's synchronous
/// runner.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A runtime, and the server `start` gives with a `POST endpoint` mock answering whatever the
/// returned [`FuzzedAnswer`] holds when a request arrives.
pub fn fuzzed_endpoint(
    start: impl Future<Output = MockServer>,
    endpoint: &str,
) -> (tokio::runtime::Runtime, MockServer, FuzzedAnswer) {
    let rt = runtime();
    let answer = FuzzedAnswer::default();
    let shared = answer.clone();
    let server = rt.block_on(async {
        let server = start.await;
        Mock::given(method("POST"))
            .and(path(endpoint))
            .respond_with(move |_: &Request| {
                let (status, body) = shared.lock().unwrap().clone();
                ResponseTemplate::new(status).set_body_bytes(body)
            })
            .mount(&server)
            .await;
        server
    });
    (rt, server, answer)
}
