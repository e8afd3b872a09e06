//! A console over a store an engine runs on: the NetSuite simulator holds sales order SO1023,
//! Clarus despatched part of it, and NetSuite refused the fulfilment (the accounting period was
//! closed), so an `action-failed` exception is open. The engine keeps running in the background
//! (its request handler and its outbox), as `sync run` does, so a retry asked for in the console
//! is carried out and posted.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use netsuite_client::NetSuiteClient;
use netsuite_client::auth::StaticBearer;
use netsuite_client::retry::Backoff;
use rust_decimal::Decimal;
use sim::Fault;
use sim::netsuite::{
    GOOD, InternalId, ItemKind, NetSuiteConfig, NetSuiteSim, NewItem, NewOrder, NewOrderLine,
    OrderKind, RecordType, RunningNetSuite,
};
use sync_console::{Console, ConsoleOptions, EngineProbe, Links};
use sync_core::{
    Despatch, DespatchLine, Event, GoodsOutId, LineNo, LocationMapping, MappingTables, Mappings,
    Package, Payload, PlannedAction, Revision, SourceId, System, TrackingNumber, WarehouseId,
};
use sync_engine::console_settings::SessionKey;
use sync_engine::engine::Engine;
use sync_engine::exceptions::{ACTION_FAILED_KIND, RequestHandler};
use sync_engine::netsuite::{ExecutorConfig, NetSuiteExecutor, NetSuitePoller, PollerConfig};
use sync_engine::outbox::{ActionExecutor, ExecutionError, Outbox, OutboxConfig};
use sync_engine::router::Router;
use sync_engine::store::{SqliteStore, Store};
use tokio::task::JoinHandle;

use crate::support::users;

/// Stands in for Clarus: every Clarus action succeeds.
struct ClarusAccepts;

#[async_trait]
impl ActionExecutor for ClarusAccepts {
    async fn execute(&self, action: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        Ok(Some(format!("clarus-{}", action.key)))
    }
    async fn find_applied(&self, _: &PlannedAction) -> Result<Option<String>, ExecutionError> {
        Ok(None)
    }
}

/// A client of the simulator, authenticated with a token from its token endpoint.
async fn netsuite_client(ns: &RunningNetSuite) -> NetSuiteClient {
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
        .backoff(Backoff {
            base: Duration::from_millis(2),
            cap: Duration::from_millis(20),
        })
        .build()
        .expect("client")
}

/// Clarus despatched 3 of the 5 mugs of line 1 of sales order `so`.
fn despatch(so: InternalId, now: Timestamp) -> Event {
    Event {
        source: SourceId {
            system: System::Clarus,
            resource: "goods_out".into(),
            id: "55".into(),
            event: "despatched".into(),
            revision: Revision::Sequence(1),
        },
        occurred_at: now,
        payload: Payload::Despatch(Despatch {
            tenant: "acme".into(),
            goods_out: GoodsOutId(55),
            despatch: "7".into(),
            order: so.to_string().into(),
            warehouse: WarehouseId(10),
            carrier: None,
            service: None,
            despatched_at: now,
            lines: vec![DespatchLine {
                order_line: LineNo(1),
                sku: "MUG".into(),
                requested: Decimal::from(5),
                quantity: Decimal::from(3),
                lots: vec![],
                serials: vec![],
            }],
            packages: vec![Package {
                tracking_number: Some(TrackingNumber::new("1Z999AA10123456784")),
                weight_kg: None,
            }],
        }),
    }
}

/// The simulator, the engine running on the store, and the console over that store.
pub struct Live {
    /// The console's address.
    pub base: String,
    ns: RunningNetSuite,
    so: InternalId,
    store: Arc<dyn Store>,
    engine: JoinHandle<()>,
    console: JoinHandle<std::io::Result<()>>,
}

impl Live {
    pub async fn start() -> Live {
        let ns = NetSuiteSim::start(NetSuiteConfig::default())
            .await
            .expect("simulator starts");
        let h = ns.handle();
        let main = h.add_location("Main", None).unwrap();
        let mug = h
            .add_item(NewItem::new("MUG", ItemKind::Inventory))
            .unwrap();
        h.set_on_hand(mug, main, GOOD, Decimal::from(10));
        let so = h
            .add_order(
                OrderKind::SalesOrder,
                NewOrder {
                    tran_id: Some("SO1023".into()),
                    location: Some(main),
                    lines: vec![NewOrderLine {
                        item: mug,
                        quantity: Decimal::from(5),
                        location: None,
                    }],
                    ..NewOrder::default()
                },
            )
            .unwrap();
        let mappings = Mappings::new(MappingTables {
            locations: vec![LocationMapping {
                location: main.to_string().into(),
                warehouse: WarehouseId(10),
            }],
            ..MappingTables::default()
        })
        .unwrap();

        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let engine = Arc::new(Engine::open(store.clone(), mappings).await.unwrap());
        let client = netsuite_client(&ns).await;
        NetSuitePoller::new(client.clone(), engine.clone(), PollerConfig::default())
            .poll_once()
            .await
            .unwrap();
        let now = Timestamp::now();
        engine.ingest(&despatch(so, now), now).await.unwrap();
        let router = Arc::new(Router::new(
            Arc::new(ClarusAccepts),
            Arc::new(NetSuiteExecutor::new(client, ExecutorConfig::default())),
        ));
        let outbox = Outbox::new(
            store.clone(),
            router,
            OutboxConfig {
                backoff_base: Duration::from_millis(1),
                backoff_max: Duration::from_millis(5),
                ..OutboxConfig::default()
            },
        );

        // NetSuite refuses the fulfilment: the outbox gives up and raises an exception.
        h.inject_fault(Fault::Refuse);
        let mut failed = false;
        for _ in 0..200 {
            outbox.run_due().await.unwrap();
            let open = store.open_exceptions().await.unwrap();
            if open.iter().any(|e| e.exception.kind == ACTION_FAILED_KIND) {
                failed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            failed,
            "the refused fulfilment raises an action-failed exception"
        );
        assert_eq!(h.count(RecordType::ItemFulfillment), 0);

        // The engine runs on: requests people queue are carried out, the outbox posts.
        let handler = RequestHandler::new(None, Duration::from_millis(100));
        let running = engine.clone();
        let engine_task = tokio::spawn(async move {
            loop {
                handler.handle(&running).await.expect("requests handled");
                outbox.run_due().await.expect("outbox runs");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });

        let options = ConsoleOptions {
            users: users(),
            session_key: Some(SessionKey::new(vec![7u8; 32]).unwrap()),
            session_ttl: SignedDuration::from_hours(8),
            secure_cookies: false,
            failures_per_user: 5,
            failures_per_address: 50,
            throttle_window: SignedDuration::from_mins(15),
            max_requests: 64,
            header_timeout: std::time::Duration::from_secs(10),
            links: Links {
                netsuite_account: Some("1234567_SB1".into()),
                clarus_url: Some("https://acme.clarus.example".into()),
            },
            health: None,
            probe: EngineProbe::InProcess,
            clock: sync_engine::clock::system(),
            time_zone: jiff::tz::TimeZone::UTC,
            close_rules: Default::default(),
        };
        let console = Console::new(store.clone(), options).unwrap();
        let listener = sync_console::bind("127.0.0.1:0".parse().unwrap(), 16).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let console = tokio::spawn(console.serve(listener, std::future::pending()));
        Live {
            base,
            ns,
            so,
            store,
            engine: engine_task,
            console,
        }
    }

    /// NetSuite holds exactly one fulfilment of the order, for the 3 despatched mugs, and the
    /// store no open exception.
    pub async fn assert_posted_once(&self) {
        let h = self.ns.handle();
        assert_eq!(h.count(RecordType::ItemFulfillment), 1);
        let lines = h.order_lines(OrderKind::SalesOrder, self.so);
        assert_eq!(lines[0].processed, Decimal::from(3));
        assert!(self.store.open_exceptions().await.unwrap().is_empty());
    }

    /// Stops the engine, the console and the simulator.
    pub async fn stop(self) {
        self.engine.abort();
        self.console.abort();
        self.ns.shutdown().await;
    }
}
