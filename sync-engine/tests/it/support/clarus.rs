//! Shared set-up of the Clarus tests: a simulator, a client for it, a store, the webhook intake
//! subscribed to the simulator's automations, and builders of planned actions.

use std::sync::Arc;
use std::time::Duration;

use clarus_client::webhook::{WebhookSecret, WebhookTarget};
use clarus_client::{ClarusClient, ClarusConfig, Credentials, HttpUrl, Secret};
use jiff::Timestamp;
use rust_decimal::Decimal;
use sim::clarus::{ClarusSim, MAIN_WAREHOUSE, RunningClarus, StockStatus};
use sync_core::*;
use sync_engine::clarus::{ClarusDecoder, ClarusExecutor, ExecutorSettings, SYNC_SUBSCRIPTIONS};
use sync_engine::intake::{IntakeConfig, router};
use sync_engine::outbox::ActionExecutor;
use sync_engine::store::{Delivery, SqliteStore, Store};

/// The tenant name in idempotency keys.
pub const TENANT: &str = "acme";
/// The simulator's subdomain.
pub const SUBDOMAIN: &str = "acme-warehouse";
const WEBHOOK_SECRET: &str = "a-long-shared-secret-0123456789abcdef";

/// A simulator, a client, a store and an intake receiving the simulator's webhooks.
pub struct Rig {
    /// The simulator.
    pub sim: RunningClarus,
    /// A client of the simulator.
    pub client: ClarusClient,
    /// The store the intake writes deliveries to.
    pub store: Arc<dyn Store>,
}

impl Rig {
    /// Starts everything and subscribes the intake to the sync's webhooks.
    pub async fn start() -> Rig {
        let sim = ClarusSim::start(sim::clarus::ClarusConfig::default())
            .await
            .expect("simulator starts");
        let client = client_of(&sim, "sim-secret");
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().expect("store"));
        let secret = WebhookSecret::new(Secret::new(WEBHOOK_SECRET));
        let app = router(
            store.clone(),
            IntakeConfig {
                secret: secret.clone(),
                max_body_bytes: 1 << 20,
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let target = WebhookTarget::new(
            HttpUrl::parse(&format!("http://{addr}/webhooks/clarus")).unwrap(),
            Some(secret),
            "netsuite-sync",
        );
        client
            .ensure_webhook_automations(&target, SYNC_SUBSCRIPTIONS)
            .await
            .expect("subscribed");
        Rig { sim, client, store }
    }

    /// An executor for account 1, recording line orders in the store.
    pub fn executor(&self) -> ClarusExecutor {
        ClarusExecutor::new(
            self.client.clone(),
            ExecutorSettings {
                account_id: clarus_client::ClarusId::new(1),
                stock_unit_type_id: clarus_client::ClarusId::new(1),
            },
        )
        .with_store(self.store.clone())
    }

    /// Marks every delivery received so far processed, as the processor would once it had
    /// planned them: a test that decodes deliveries itself stands in for the processor, and
    /// the sweeps leave records alone while Clarus webhooks wait in the intake.
    pub async fn caught_up(&self) {
        assert!(
            self.sim
                .handle()
                .wait_for_webhooks(Duration::from_secs(5))
                .await
        );
        for delivery in self
            .store
            .unprocessed_deliveries(Timestamp::now(), 10_000)
            .await
            .unwrap()
        {
            self.store
                .mark_delivery_processed(delivery.id, None, Timestamp::now())
                .await
                .unwrap();
        }
    }

    /// Waits for the simulator's webhooks, then answers the stored deliveries of one pair.
    pub async fn deliveries(&self, resource: &str, event: &str) -> Vec<Delivery> {
        assert!(
            self.sim
                .handle()
                .wait_for_webhooks(Duration::from_secs(5))
                .await
        );
        self.store
            .unprocessed_deliveries(Timestamp::now(), 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|d| {
                d.delivery.headers["resource_name"] == resource
                    && d.delivery.headers["event"] == event
            })
            .collect()
    }
}

/// A whole-number decimal.
/// The decoder of the rig's deliveries.
pub fn decoder(rig: &Rig) -> ClarusDecoder {
    ClarusDecoder::new(
        rig.client.clone(),
        SUBDOMAIN.into(),
        TENANT.into(),
        rig.store.clone(),
    )
}

/// The product of item `item` (`sku`) created in Clarus, with 10 available at the main
/// warehouse.
pub async fn stocked_product(rig: &Rig, item: &str, sku: &str) -> sim::clarus::ClarusId {
    let created = rig
        .executor()
        .execute(&create_product(item, sku))
        .await
        .unwrap();
    let product = sim::clarus::ClarusId(created.expect("an id").parse().expect("numeric id"));
    let handle = rig.sim.handle();
    let location = handle.default_location(MAIN_WAREHOUSE).unwrap();
    handle
        .seed_stock(product, location, dec(10), StockStatus::Available, None)
        .unwrap();
    product
}

pub fn dec(n: i64) -> Decimal {
    Decimal::from(n)
}

/// A planned action.
pub fn planned(key: &str, document: DocumentRef, action: Action) -> PlannedAction {
    PlannedAction {
        key: IdempotencyKey::parse(key).unwrap(),
        document,
        action,
    }
}

/// A product spec for NetSuite item `item`.
pub fn product_spec(item: &str, sku: &str) -> ProductSpec {
    ProductSpec {
        item: item.into(),
        product: None,
        sku: sku.into(),
        barcode: Some(format!("500{item}").as_str().into()),
        description: format!("Product {sku}"),
        tracking: Tracking::None,
        inactive: false,
    }
}

/// `CreateProduct` for NetSuite item `item`.
pub fn create_product(item: &str, sku: &str) -> PlannedAction {
    planned(
        &format!("CLR-PROD-{item}"),
        DocumentRef::Item { id: item.into() },
        Action::CreateProduct(product_spec(item, sku)),
    )
}

/// A warehouse order for NetSuite order `id` (`tranId` `reference`) at warehouse 1.
pub fn warehouse_order(
    kind: OrderKind,
    id: &str,
    reference: &str,
    lines: &[(u64, &str, i64)],
) -> WarehouseOrder {
    WarehouseOrder {
        order: OrderRef {
            kind,
            id: id.into(),
        },
        reference: reference.into(),
        warehouse: WarehouseId(1),
        carrier: Some(CarrierService {
            carrier: CarrierId(1),
            service: None,
        }),
        expected_date: Some("2026-11-30".parse().unwrap()),
        lines: lines
            .iter()
            .map(|(line, sku, quantity)| WarehouseOrderLine {
                order_line: LineNo(*line),
                sku: (*sku).into(),
                quantity: dec(*quantity),
            })
            .collect(),
    }
}

/// `CreateGoodsOut` for sales order `id`.
pub fn create_goods_out(id: &str, reference: &str, lines: &[(u64, &str, i64)]) -> PlannedAction {
    let order = warehouse_order(OrderKind::Sales, id, reference, lines);
    planned(
        &format!("CLR-GO-{id}"),
        DocumentRef::Order {
            order: order.order.clone(),
        },
        Action::CreateGoodsOut(order),
    )
}

/// `CreateGoodsIn` for a purchase order or return authorisation.
pub fn create_goods_in(
    kind: OrderKind,
    id: &str,
    reference: &str,
    lines: &[(u64, &str, i64)],
) -> PlannedAction {
    let order = warehouse_order(kind, id, reference, lines);
    planned(
        &format!("CLR-GI-{id}"),
        DocumentRef::Order {
            order: order.order.clone(),
        },
        Action::CreateGoodsIn(order),
    )
}

/// A client of `sim`'s tenant ([`SUBDOMAIN`]) as the rig's: client `sim-client` with the given
/// client secret, plain HTTP, 5 s timeout.
pub fn client_of(sim: &RunningClarus, secret: &str) -> ClarusClient {
    ClarusClient::new(
        ClarusConfig::builder(
            SUBDOMAIN,
            Credentials::client_credentials("sim-client", Secret::new(secret)),
        )
        .base_url(sim.base_url())
        .allow_insecure_http(true)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("config"),
    )
    .expect("client")
}

/// The mappings of the simulator's main warehouse: NetSuite location `1` is Clarus warehouse 1,
/// its sellable and quarantined stock NetSuite inventory statuses `1` and `2`.
pub fn main_warehouse() -> MappingTables {
    MappingTables {
        locations: vec![LocationMapping {
            location: "1".into(),
            warehouse: WarehouseId(1),
        }],
        stock_statuses: vec![StatusMapping {
            location: "1".into(),
            sellable: StockPlace::Status { status: "1".into() },
            quarantine: StockPlace::Status { status: "2".into() },
        }],
        ..MappingTables::default()
    }
}

/// [`main_warehouse`], and the simulator's DPD despatches as NetSuite ship method `900`.
pub fn mappings() -> Mappings {
    Mappings::new(MappingTables {
        ship_methods: vec![ShipMethodMapping {
            carrier: CarrierId(sim::clarus::DPD.0),
            service: None,
            ship_method: "900".into(),
        }],
        ..main_warehouse()
    })
    .unwrap()
}

/// A NetSuite record `id` updated (revision 1) now: the simulator keeps real time.
pub fn netsuite_event(id: &str, payload: Payload) -> Event {
    super::events::netsuite_event_at(id, payload, Timestamp::now())
}
