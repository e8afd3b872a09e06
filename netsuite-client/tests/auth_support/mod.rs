//! Helpers shared by the auth tests: a clock tests can move, the fixture keys, and the token
//! endpoint of the OAuth 2.0 fuzz tests.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use netsuite_client::auth::Clock;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A clock that stands still until a test moves it.
pub struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    pub fn new() -> Self {
        // 2026-01-01T00:00:00Z
        ManualClock(Mutex::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600),
        ))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

pub const RSA_PRIVATE: &[u8] = include_bytes!("../fixtures/auth_rsa3072_private.pem");
pub const RSA_PUBLIC: &[u8] = include_bytes!("../fixtures/auth_rsa3072_public.pem");
pub const P256_PRIVATE: &[u8] = include_bytes!("../fixtures/auth_ec_p256_private.pem");
pub const P256_PUBLIC: &[u8] = include_bytes!("../fixtures/auth_ec_p256_public.pem");
pub const P384_PRIVATE: &[u8] = include_bytes!("../fixtures/auth_ec_p384_private.pem");
pub const P384_PUBLIC: &[u8] = include_bytes!("../fixtures/auth_ec_p384_public.pem");

/// The form fields of a recorded request body.
pub fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// One form field, which must appear exactly once.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    let found: Vec<&str> = fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(found.len(), 1, "field {name} in {fields:?}");
    found[0]
}

/// A bare request to authorize.
pub fn request(url: &str) -> reqwest::Request {
    reqwest::Request::new(reqwest::Method::GET, url.parse().unwrap())
}

/// The Authorization header of a request, as text.
pub fn authorization(request: &reqwest::Request) -> String {
    request
        .headers()
        .get(reqwest::header::AUTHORIZATION)
        .expect("an Authorization header")
        .to_str()
        .unwrap()
        .to_owned()
}

/// Where the OAuth 2.0 tests' token endpoint is.
pub const TOKEN_PATH: &str = "/services/rest/auth/oauth2/v1/token";

// ---------------------------------------------------------------- token-response fuzzing (see docs/decisions/fuzzing.md)

/// Token responses to start fuzzing from: a token with secrets in it, and an OAuth error.
pub fn token_seeds() -> Vec<serde_json::Value> {
    vec![
        json!({"access_token": "at-SECRET-1", "expires_in": "3600", "token_type": "bearer",
            "refresh_token": "rt-SECRET-1", "scope": "rest_webservices"}),
        json!({"error": "invalid_grant", "error_description": "expired", "error_uri": "https://x"}),
    ]
}

/// The token endpoint answers the current body with the current status, for every case.
pub struct FuzzTokenEndpoint {
    pub rt: tokio::runtime::Runtime,
    pub server: MockServer,
    pub answer: Arc<std::sync::Mutex<(u16, Vec<u8>)>>,
}

impl FuzzTokenEndpoint {
    pub fn start() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let answer = Arc::new(std::sync::Mutex::new((200, Vec::new())));
        let shared = answer.clone();
        let server = rt.block_on(async {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .and(path(TOKEN_PATH))
                .respond_with(move |_: &wiremock::Request| {
                    let (status, body) = shared.lock().unwrap().clone();
                    ResponseTemplate::new(status).set_body_bytes(body)
                })
                .mount(&server)
                .await;
            server
        });
        Self { rt, server, answer }
    }
}

pub fn fuzz_statuses() -> impl proptest::strategy::Strategy<Value = u16> {
    proptest::sample::select(vec![200u16, 200, 201, 400, 401, 403, 500])
}
