//! Shared set-up of the NetSuite tests: a simulator on an ephemeral port and a client for it,
//! the mappings of its locations, and a stand-in for Clarus.

use std::sync::Arc;

use async_trait::async_trait;
use netsuite_client::NetSuiteClient;
use netsuite_client::auth::StaticBearer;
use netsuite_client::retry::Backoff;
use sim::netsuite::{
    InternalId, ItemKind, NetSuiteConfig, NetSuiteHandle, NetSuiteSim, NewItem, RunningNetSuite,
};
use sync_core::{LocationMapping, MappingTables, Mappings, PlannedAction, WarehouseId};
use sync_engine::outbox::{ActionExecutor, ExecutionError};

/// A simulator with the default settings.
pub async fn start() -> RunningNetSuite {
    NetSuiteSim::start(NetSuiteConfig::default())
        .await
        .expect("simulator starts")
}

/// A client of the simulator, authenticated with a token from its token endpoint.
pub async fn client(ns: &RunningNetSuite) -> NetSuiteClient {
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
        .await
        .expect("token request")
        .json()
        .await
        .expect("token body");
    let token = response["access_token"].as_str().expect("access token");
    NetSuiteClient::builder(Arc::new(StaticBearer::new(token).expect("token")))
        .base_url(format!("{}/services/rest", ns.base_url()))
        .allow_insecure_http(true)
        // The default width, as the engine's tests count requests: no governanceLimits read.
        .size_from_governance_limits(false)
        .backoff(Backoff {
            base: std::time::Duration::from_millis(2),
            cap: std::time::Duration::from_millis(20),
        })
        .build()
        .expect("client")
}

/// A new item of `kind` with SKU `sku` in the simulator.
pub fn item(h: &NetSuiteHandle, sku: &str, kind: ItemKind) -> InternalId {
    h.add_item(NewItem::new(sku, kind)).unwrap()
}

/// The simulator's `location`s as Clarus warehouses: `(location, warehouse)` pairs.
pub fn locations(pairs: &[(InternalId, u64)]) -> Vec<LocationMapping> {
    pairs
        .iter()
        .map(|(location, warehouse)| LocationMapping {
            location: location.to_string().into(),
            warehouse: WarehouseId(*warehouse),
        })
        .collect()
}

/// The mappings of one simulator `location`: Clarus warehouse 10.
pub fn one_location(location: InternalId) -> Mappings {
    Mappings::new(MappingTables {
        locations: locations(&[(location, 10)]),
        ..MappingTables::default()
    })
    .unwrap()
}

/// Stands in for Clarus: every Clarus action (an item's product, an order's goods out)
/// succeeds.
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
