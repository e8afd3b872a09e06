//! A console over a seeded temporary store, and a client that signs in.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use rust_decimal::Decimal;
use serde_json::json;
use sync_console::auth::hash_password_with;
use sync_console::{Console, ConsoleOptions, EngineProbe, Links};
use sync_core::{
    Despatch, DespatchLine, Event, GoodsOutId, Item, LineNo, LocationId, LocationMapping,
    MappingTables, Mappings, Name, Order, OrderLine, OrderRef, OrderStatus, Payload, Revision,
    SourceId, System, Tracking, WarehouseId,
};
use sync_engine::clock::ManualClock;
use sync_engine::close::CloseRules;
use sync_engine::console_settings::{ConsoleRole, ConsoleUserSettings, SessionKey};
use sync_engine::drift_history::DriftRunSummary;
use sync_engine::engine::Engine;
use sync_engine::store::{NewException, SqliteStore, Store};

pub const START: &str = "2026-12-01T09:00:00Z";
/// The hostile exception's key: markup and quotes in a URL path segment too.
pub const HOSTILE_KEY: &str = "EX-<i>\"hostile\"'";
pub const HOSTILE_TEXT: &str =
    "<script>alert(\"x\")</script> 'single' \"double\" <img src=x onerror=alert(1)>";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// People of the test console, each with password `pw-<name>`.
pub const PEOPLE: [(&str, ConsoleRole); 4] = [
    ("ops", ConsoleRole::Operations),
    ("fin", ConsoleRole::Finance),
    ("view", ConsoleRole::Viewer),
    ("admin", ConsoleRole::Admin),
];

pub fn password(name: &str) -> String {
    format!("pw-{name}")
}

/// The console users for [`PEOPLE`], with their passwords hashed (cheaply: these are tests).
pub fn users() -> Vec<ConsoleUserSettings> {
    PEOPLE
        .iter()
        .map(|(name, role)| ConsoleUserSettings {
            name: (*name).into(),
            role: *role,
            password_hash: hash_password_with(&password(name), 8, 1).unwrap(),
        })
        .collect()
}

/// How the test console is set up.
pub struct Setup {
    pub probe: EngineProbe,
    pub failures_per_user: u32,
    pub failures_per_address: u32,
    pub secure_cookies: bool,
    pub metrics_token: Option<&'static str>,
    pub header_timeout: std::time::Duration,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            probe: EngineProbe::InProcess,
            failures_per_user: 5,
            failures_per_address: 50,
            secure_cookies: false,
            metrics_token: None,
            header_timeout: std::time::Duration::from_secs(10),
        }
    }
}

pub struct Harness {
    pub base: String,
    pub clock: ManualClock,
    pub store: Arc<dyn Store>,
    pub store_path: PathBuf,
    pub http: reqwest::Client,
    dir: PathBuf,
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn exception(
    key: &str,
    owner: &str,
    kind: &str,
    severity: &str,
    document: &str,
    message: &str,
) -> NewException {
    NewException {
        key: key.into(),
        kind: kind.into(),
        owner: owner.into(),
        severity: severity.into(),
        document: document.into(),
        message: message.into(),
        runbook: format!("operations.md#{kind}"),
        payload: json!({ "action": "act-1", "detail": message }),
    }
}

fn mappings() -> Mappings {
    let tables = MappingTables {
        locations: vec![LocationMapping {
            location: LocationId::new("1"),
            warehouse: WarehouseId(10),
        }],
        ..MappingTables::default()
    };
    Mappings::new(tables).unwrap()
}

async fn seed(store: Arc<dyn Store>, at: Timestamp) {
    let order = Event {
        source: SourceId {
            system: System::NetSuite,
            resource: "salesOrder".into(),
            id: Name::new("4411"),
            event: "updated".into(),
            revision: Revision::Sequence(1),
        },
        occurred_at: at,
        payload: Payload::Order(Order {
            order: OrderRef::sales("4411"),
            tran_id: "SO1023".into(),
            status: OrderStatus::Open,
            location: LocationId::new("1"),
            ship_method: None,
            expected_date: None,
            lines: Vec::new(),
        }),
    };
    // Planned by the engine as it would be: the ledger records the order with its number.
    let engine = Engine::open(store.clone(), mappings()).await.unwrap();
    engine.ingest(&order, at).await.unwrap();
    for e in [
        exception(
            "EX-OPS-1",
            "operations",
            "action-failed",
            "error",
            "SO 4411",
            "Fulfilment of SO1023 failed",
        ),
        exception(
            "EX-OPS-WARN",
            "operations",
            "short-despatch",
            "warning",
            "SO 9999",
            "Short despatch on another order",
        ),
        exception(
            "EX-FIN-1",
            "finance",
            "missing-account-mapping",
            "error",
            "stock movement 9 (acme)",
            "No account for the adjustment",
        ),
        NewException {
            payload: json!({ "hostile": HOSTILE_TEXT }),
            ..exception(
                HOSTILE_KEY,
                "operations",
                "<b>kind</b>",
                "error",
                HOSTILE_TEXT,
                HOSTILE_TEXT,
            )
        },
    ] {
        store.raise_exception(e, at).await.unwrap();
    }
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::with(Setup::default()).await
    }

    pub async fn with(setup: Setup) -> Harness {
        let dir = std::env::temp_dir().join(format!(
            "sync-console-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let store_path = dir.join("store.sqlite");
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&store_path).unwrap());
        let start: Timestamp = START.parse().unwrap();
        let clock = ManualClock::new(start);
        seed(store.clone(), start - SignedDuration::from_hours(2)).await;
        let probe = match setup.probe {
            EngineProbe::SqliteLock(_) => EngineProbe::SqliteLock(store_path.clone()),
            other => other,
        };
        let options = ConsoleOptions {
            users: users(),
            session_key: Some(SessionKey::new(vec![42u8; 32]).unwrap()),
            session_ttl: SignedDuration::from_hours(8),
            secure_cookies: setup.secure_cookies,
            failures_per_user: setup.failures_per_user,
            failures_per_address: setup.failures_per_address,
            throttle_window: SignedDuration::from_mins(15),
            max_requests: 64,
            header_timeout: setup.header_timeout,
            links: Links {
                netsuite_account: Some("1234567_SB1".into()),
                clarus_url: Some("https://acme.clarus.example".into()),
            },
            health: None,
            probe,
            clock: clock.shared(),
            time_zone: jiff::tz::TimeZone::UTC,
            close_rules: CloseRules::default(),
        };
        let mut console = Console::new(store.clone(), options).unwrap();
        if let Some(token) = setup.metrics_token {
            console = console.with_metrics_token(token).unwrap();
        }
        let listener = sync_console::bind("127.0.0.1:0".parse().unwrap(), 16).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(console.serve(listener, std::future::pending()));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Harness {
            base,
            clock,
            store,
            store_path,
            http,
            dir,
        }
    }

    /// Whether the exception `key` is resolved in the store.
    pub async fn is_resolved(&self, key: &str) -> bool {
        let exception = self.store.exception(key).await.unwrap();
        exception.unwrap().resolved_at.is_some()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The sign-in form's cookie and CSRF token.
    pub async fn sign_in_form(&self) -> (String, String) {
        let response = self.http.get(self.url("/sign-in")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let cookie = cookie_of(&response).expect("the sign-in form sets a cookie");
        let body = response.text().await.unwrap();
        (
            cookie,
            csrf_in(&body).expect("the sign-in form has a CSRF token"),
        )
    }

    /// Tries to sign in; the answer as sent.
    pub async fn try_sign_in(&self, name: &str, password: &str) -> reqwest::Response {
        let (cookie, csrf) = self.sign_in_form().await;
        self.http
            .post(self.url("/sign-in"))
            .header(COOKIE, cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("name", name),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Signs `name` in.
    pub async fn sign_in(&self, name: &str) -> Client<'_> {
        let response = self.try_sign_in(name, &password(name)).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "sign-in of {name}"
        );
        let cookie = cookie_of(&response).expect("a session cookie");
        let client = Client {
            harness: self,
            cookie,
        };
        let home = client.get("/").await;
        assert_eq!(home.0, StatusCode::OK);
        client
    }
}

/// The `name=value` of the first `Set-Cookie`.
pub fn cookie_of(response: &reqwest::Response) -> Option<String> {
    let header = response.headers().get(SET_COOKIE)?.to_str().ok()?;
    Some(header.split(';').next()?.to_owned())
}

/// The first CSRF token of a page.
pub fn csrf_in(body: &str) -> Option<String> {
    let start = body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}

/// A signed-in person.
pub struct Client<'a> {
    pub harness: &'a Harness,
    pub cookie: String,
}

impl Client<'_> {
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .harness
            .http
            .get(self.harness.url(path))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// The CSRF token of this session (read from the home page).
    pub async fn csrf(&self) -> String {
        csrf_in(&self.get("/").await.1).unwrap()
    }

    /// Posts `fields` with this session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf().await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts `fields` as they are (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.harness
            .http
            .post(self.harness.url(path))
            .header(COOKIE, &self.cookie)
            .form(fields)
            .send()
            .await
            .unwrap()
    }
}

/// Where a redirect points.
pub fn location(response: &reqwest::Response) -> Option<String> {
    Some(response.headers().get(LOCATION)?.to_str().ok()?.to_owned())
}

/// The path of exception `key`'s page.
pub fn exception_path(key: &str) -> String {
    format!(
        "/exceptions/{}",
        percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// The month [`Harness::seed_close_month`] fills.
pub const CLOSE_MONTH: &str = "2026-10";
/// Finance's open error in [`CLOSE_MONTH`].
pub const CLOSE_FINANCE_KEY: &str = "EX-FIN-OCT";
/// When the warehouse worked in [`CLOSE_MONTH`].
const CLOSE_MONTH_AT: &str = "2026-10-20T10:00:00Z";

fn source(system: System, resource: &str, id: &str) -> SourceId {
    SourceId {
        system,
        resource: resource.into(),
        id: Name::new(id),
        event: "updated".into(),
        revision: Revision::Sequence(1),
    }
}

/// Sales order `id` for 5 of item MUG-1.
fn mug_order(id: &str, at: Timestamp) -> Event {
    Event {
        source: source(System::NetSuite, "salesOrder", id),
        occurred_at: at,
        payload: Payload::Order(Order {
            order: OrderRef::sales(id),
            tran_id: format!("SO{id}"),
            status: OrderStatus::Open,
            location: LocationId::new("1"),
            ship_method: None,
            expected_date: None,
            lines: vec![OrderLine {
                line: LineNo(3),
                item: "701".into(),
                sku: "MUG-1".into(),
                quantity: Decimal::from(5),
                quantity_done: Decimal::ZERO,
                closed: false,
            }],
        }),
    }
}

/// Clarus despatched `quantity` of the 5 of order `order` in goods out `goods_out`.
fn mug_despatch(goods_out: u64, order: &str, quantity: i64, at: Timestamp) -> Event {
    Event {
        source: source(System::Clarus, "goods_out", &goods_out.to_string()),
        occurred_at: at,
        payload: Payload::Despatch(Despatch {
            tenant: "acme".into(),
            goods_out: GoodsOutId(goods_out),
            despatch: "1".into(),
            order: order.into(),
            warehouse: WarehouseId(10),
            carrier: None,
            service: None,
            despatched_at: at,
            lines: vec![DespatchLine {
                order_line: LineNo(3),
                sku: "MUG-1".into(),
                requested: Decimal::from(5),
                quantity: Decimal::from(quantity),
                lots: vec![],
                serials: vec![],
            }],
            packages: vec![],
        }),
    }
}

impl Harness {
    /// A month of warehouse work in [`CLOSE_MONTH`], planned by the engine: SO6001 despatched
    /// short (4 of 5: a short-despatch warning) with its fulfilment still queued, SO6002
    /// despatched in full and its fulfilment posted; finance's error [`CLOSE_FINANCE_KEY`]
    /// raised in the month; and a reconciliation at the month's end.
    pub async fn seed_close_month(&self) {
        let at: Timestamp = CLOSE_MONTH_AT.parse().unwrap();
        let engine = Engine::open(self.store.clone(), mappings()).await.unwrap();
        let item = Event {
            source: source(System::NetSuite, "inventoryItem", "701"),
            occurred_at: at,
            payload: Payload::Item(Item {
                netsuite_id: "701".into(),
                sku: "MUG-1".into(),
                barcode: None,
                description: "Mug".into(),
                tracking: Tracking::None,
                inactive: false,
            }),
        };
        for event in [item, mug_order("6001", at), mug_order("6002", at)] {
            engine.ingest(&event, at).await.unwrap();
        }
        // Clarus has both goods outs.
        self.complete_actions("create_goods_out", at).await;
        let later = at + SignedDuration::from_hours(2);
        for event in [
            mug_despatch(9001, "6001", 4, later),
            mug_despatch(9002, "6002", 5, later),
        ] {
            engine.ingest(&event, later).await.unwrap();
        }
        // NetSuite has SO6002's fulfilment; SO6001's waits in the outbox.
        let fulfilments: Vec<String> = self
            .store
            .actions()
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.action.kind == "fulfil_sales_order")
            .map(|a| a.action.key)
            .collect();
        assert_eq!(fulfilments.len(), 2, "{fulfilments:?}");
        let posted = fulfilments
            .iter()
            .find(|k| k.contains("9002"))
            .unwrap_or_else(|| panic!("no fulfilment of goods out 9002 in {fulfilments:?}"));
        self.store
            .complete_action(posted, Some("IF-9002".into()), later)
            .await
            .unwrap();
        // Finance's own error of the month: a stock count with no account to post to.
        self.store
            .raise_exception(
                exception(
                    CLOSE_FINANCE_KEY,
                    "finance",
                    "missing-account-mapping",
                    "error",
                    "stock movement 77 (acme)",
                    "No account for the October stock count",
                ),
                at,
            )
            .await
            .unwrap();
        let summary = DriftRunSummary {
            positions: 12,
            in_step: 12,
            explained_by_in_flight: 0,
            drift: 0,
            unexplained_units: Decimal::ZERO,
            value_impact: Default::default(),
            net_value_impact: Default::default(),
            drift_without_cost: 0,
            valued: false,
            thresholds: Default::default(),
        };
        let end_of_month: Timestamp = "2026-10-31T22:00:00Z".parse().unwrap();
        sync_engine::drift_history::record(&*self.store, end_of_month, summary, Vec::new())
            .await
            .unwrap();
    }

    async fn complete_actions(&self, kind: &str, at: Timestamp) {
        for a in self.store.actions().await.unwrap() {
            if a.action.kind == kind {
                self.store
                    .complete_action(&a.action.key, Some(format!("id-{}", a.action.key)), at)
                    .await
                    .unwrap();
            }
        }
    }
}
