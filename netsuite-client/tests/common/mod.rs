//! Shared test helpers: a test-only authenticator and wiremock matchers.
#![allow(dead_code)]

pub mod loopback;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use netsuite_client::NetSuiteClient;
use netsuite_client::auth::{AuthError, AuthScheme, Authenticator};
use netsuite_client::retry::Backoff;
use wiremock::{Match, MockServer, Request, ResponseTemplate};

/// Adds `Authorization: Bearer token-<n>` where n counts invalidations.
#[derive(Debug, Default)]
pub struct TestAuth {
    pub invalidations: AtomicUsize,
}

#[async_trait]
impl Authenticator for TestAuth {
    async fn authorize(&self, request: &mut reqwest::Request) -> Result<(), AuthError> {
        let n = self.invalidations.load(Ordering::SeqCst);
        request.headers_mut().insert(
            "authorization",
            format!("Bearer token-{n}").parse().unwrap(),
        );
        Ok(())
    }

    fn invalidate(&self) {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
    }

    fn scheme(&self) -> AuthScheme {
        AuthScheme::StaticBearer
    }
}

/// A `204 No Content` answer whose `Location` names a created record, e.g. `salesOrder/5`.
pub fn created(record: &str) -> ResponseTemplate {
    ResponseTemplate::new(204).insert_header(
        "location",
        format!("https://x/services/rest/record/v1/{record}"),
    )
}

pub fn base(server: &MockServer) -> String {
    format!("{}/services/rest", server.uri())
}

/// A client against the mock server with fast backoff.
pub fn client(server: &MockServer) -> NetSuiteClient {
    client_with(server, Arc::new(TestAuth::default()), 5)
}

pub fn client_with(server: &MockServer, auth: Arc<TestAuth>, concurrency: usize) -> NetSuiteClient {
    NetSuiteClient::builder(auth)
        .base_url(base(server))
        .allow_insecure_http(true)
        .concurrency_limit(concurrency)
        .backoff(Backoff {
            base: std::time::Duration::from_millis(2),
            cap: std::time::Duration::from_millis(20),
        })
        .build()
        .unwrap()
}

/// Matches the raw query string exactly (`None` = no query at all).
pub struct ExactQuery(pub Option<&'static str>);

impl Match for ExactQuery {
    fn matches(&self, request: &Request) -> bool {
        request.url.query() == self.0
    }
}

/// Matches when a header is absent.
pub struct NoHeader(pub &'static str);

impl Match for NoHeader {
    fn matches(&self, request: &Request) -> bool {
        !request.headers.contains_key(self.0)
    }
}
