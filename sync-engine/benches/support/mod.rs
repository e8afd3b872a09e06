//! What the engine benchmarks share: a stand-in for Clarus, a NetSuite client of the simulator,
//! and NetSuite events.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use sim::netsuite::RunningNetSuite;
use sync_core::{Event, Payload, PlannedAction, Revision, SourceId, System};
use sync_engine::outbox::{ActionExecutor, ExecutionError};

/// A benchmark's error.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;

/// Stands in for Clarus: every action is accepted at once (the benchmarks measure NetSuite and
/// the store, not Clarus).
pub struct ClarusAccepts;

#[async_trait]
impl ActionExecutor for ClarusAccepts {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        Ok(Some(format!("clarus-{}", action.key)))
    }
    async fn find_applied(&self, _: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        Ok(None)
    }
}

/// A client of the simulated account with `slots` requests in flight at most, authenticated
/// with a token from the simulator's token endpoint.
pub async fn client(
    ns: &RunningNetSuite,
    slots: usize,
) -> Result<netsuite_client::NetSuiteClient, BenchError> {
    let response: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "{}/services/rest/auth/oauth2/v1/token",
            ns.base_url()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", "header.payload.signature"),
        ])
        .send()
        .await?
        .json()
        .await?;
    let token = response["access_token"]
        .as_str()
        .ok_or("the token endpoint returned no access token")?;
    Ok(netsuite_client::NetSuiteClient::builder(Arc::new(
        netsuite_client::auth::StaticBearer::new(token)?,
    ))
    .base_url(format!("{}/services/rest", ns.base_url()))
    .allow_insecure_http(true)
    .concurrency_limit(slots)
    .build()?)
}

/// A NetSuite record of `resource` `id`, as the poller ingests it.
pub fn netsuite_event(resource: &str, id: &str, at: Timestamp, payload: Payload) -> Event {
    Event {
        source: SourceId {
            system: System::NetSuite,
            resource: resource.into(),
            id: id.into(),
            event: "updated".into(),
            revision: Revision::ModifiedAt(at),
        },
        occurred_at: at,
        payload,
    }
}
