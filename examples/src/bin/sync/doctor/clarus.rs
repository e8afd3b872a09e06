//! The Clarus checks: credentials, warehouses and carriers of the mapping tables, the GraphQL
//! fields the engine reads, the webhook automations, and a test delivery to the intake.
//!
//! Every GraphQL read asks only for documented fields with documented filters (checked against
//! `DocumentedSchema` before it is sent), and nothing is written to Clarus.

use std::collections::BTreeMap;
use std::time::Duration;

use clarus_client::graphql::documented::DocumentedSchema;
use clarus_client::graphql::{
    AutomationNode, Filter, ListQuery, Node, ProductNode, StockBalanceNode,
};
use clarus_client::webhook::{WebhookSecret, WebhookTarget, subscription_url};
use clarus_client::{ClarusClient, ClarusError, ClarusId, HttpUrl, Secret};
use futures_util::TryStreamExt;
use serde::Deserialize;
use serde_json::json;
use sync_engine::alerts::{Alert, AlertExample, AlertSink, DeliveryError, WebhookSink};
use sync_engine::clarus::SYNC_SUBSCRIPTIONS;
use sync_engine::clarus::{ClarusSchemaCheck, SchemaReport};

use super::{Check, Context, one_line, some_of};

pub const CREDENTIALS: &str = "Clarus credentials";
pub const WAREHOUSES: &str = "Clarus warehouses";
pub const CARRIERS: &str = "Clarus carriers";
pub const SCHEMA: &str = "Clarus GraphQL fields";
pub const AUTOMATIONS: &str = "Clarus automations";
pub const DELIVERY: &str = "Webhook test delivery";

/// The resource and event of the test delivery; the engine's decoder ignores them.
pub const TEST_ROUTE: (&str, &str) = ("doctor", "ping");

/// The client, or the failed check saying why there is none.
pub fn client<'a>(ctx: &'a Context<'_>, name: &'static str) -> Result<&'a ClarusClient, Check> {
    ctx.clarus.as_ref().map_err(|e| {
        Check::fail(
            name,
            format!("no Clarus client: {e}"),
            "set CLARUS_CLIENT_ID and CLARUS_CLIENT_SECRET, and [clarus] base_url / subdomain",
        )
    })
}

/// Every node of `N` matching `filter`, once the selection and the filter are known to be
/// documented (an undocumented one is never sent).
pub async fn read<N: Node>(client: &ClarusClient, filter: Filter) -> Result<Vec<N>, String> {
    let root = DocumentedSchema::get()
        .root(N::ROOT)
        .ok_or_else(|| format!("`{}` is not a documented GraphQL root", N::ROOT))?;
    root.check_selection(N::FIELDS)
        .and_then(|()| root.check_filters(&filter))
        .map_err(|e| format!("not asked: {e}"))?;
    client
        .list_all::<N>(ListQuery::new(filter, 100))
        .try_collect()
        .await
        .map_err(|e| error_line(&e))
}

/// A Clarus error on one line.
pub fn error_line(e: &ClarusError) -> String {
    one_line(&e.to_string())
}

/// Declares a GraphQL node read by the checks.
macro_rules! node {
    ($(#[$doc:meta])* $name:ident, $root:literal, $filter:literal, $fields:expr, { $($body:tt)* }) => {
        $(#[$doc])*
        #[derive(Debug, Deserialize)]
        pub struct $name { $($body)* }

        impl Node for $name {
            const ROOT: &'static str = $root;
            const FILTER_TYPE: &'static str = $filter;
            const FIELDS: &'static str = $fields;
        }
    };
}

node!(
    /// A product id: the cheapest authenticated GraphQL read.
    ProductId, "products", "ProductsFilterType", "id", {}
);

node!(
    /// A warehouse (documented: `id code name`).
    WarehouseRow, "warehouses", "WarehouseFilterType", "id code name", {
        id: ClarusId,
        #[serde(default)]
        code: Option<String>,
    }
);

node!(
    /// A carrier.
    CarrierRow, "carriers", "CarrierFilterType", "id code name active", {
        id: ClarusId,
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        active: Option<bool>,
    }
);

/// A reference to a record by id.
#[derive(Debug, Deserialize)]
pub struct IdOnly {
    id: ClarusId,
}

node!(
    /// A carrier service and its carrier.
    ServiceRow, "carrier_services", "CarrierServiceFilterType", "id code active carrier { id }", {
        id: ClarusId,
        #[serde(default)]
        active: Option<bool>,
        #[serde(default)]
        carrier: Option<IdOnly>,
    }
);

// The engine's reads as types, for a tenant that refuses introspection:
// `sync_engine::clarus::engine_reads()` lists them as text, a read needs them as `Node` types, and
// `the_probes_are_the_engines_reads` keeps the two equal.
node!(
    EngineGoodsOut,
    "goods_outs",
    "GoodsOutsFilterType",
    "id reference goods_out_status { code name } warehouse { id } carrier { id }",
    {}
);
node!(
    EngineGoodsOutLine,
    "goods_out_lines",
    "GoodsOutLineFilterType",
    "id order_quantity dispatch_quantity product { id code }",
    {}
);
node!(
    EngineShipment,
    "shipments",
    "ShipmentFilterType",
    "id status carrier { id } carrier_service { id }",
    {}
);
node!(
    EnginePackage,
    "packages",
    "PackageFilterType",
    "id tracking_number shipment { id }",
    {}
);
node!(
    EngineGoodsIn,
    "goods_in_receipts",
    "InboundGoodFilterType",
    "id reference status actual_date_of_receipt warehouse { id }",
    {}
);
node!(
    EngineStock,
    "stocks",
    "StockFilterType",
    "id quantity status product { id code }",
    {}
);
node!(
    EngineStockBalance,
    "stock_balances",
    "StockBalancesFilterType",
    <StockBalanceNode as Node>::FIELDS,
    {}
);
node!(
    EngineTransaction,
    "transactions",
    "TransactionFilterType",
    "id subtype quantity created_at product { id code } location_from { id } location_to { id }",
    {}
);
node!(
    EngineProduct,
    "products",
    "ProductsFilterType",
    <ProductNode as Node>::FIELDS,
    {}
);

pub async fn credentials(ctx: &Context<'_>) -> Vec<Check> {
    let client = match client(ctx, CREDENTIALS) {
        Ok(c) => c,
        Err(check) => return vec![check],
    };
    let check = match client
        .list_page::<ProductId>(&ListQuery::new(Filter::new(), 1), None)
        .await
    {
        Ok(_) => Check::pass(
            CREDENTIALS,
            format!(
                "token obtained; a GraphQL read answered ({}, tenant {})",
                ctx.config.clarus.base_url, ctx.config.clarus.subdomain
            ),
        ),
        Err(e @ (ClarusError::Auth(_) | ClarusError::Unauthorized { .. })) => Check::fail(
            CREDENTIALS,
            error_line(&e),
            "check CLARUS_CLIENT_ID / CLARUS_CLIENT_SECRET and clarus.subdomain; use a dedicated API user (a web-UI login as the same user ends the integration's session)",
        ),
        Err(e @ ClarusError::Transport(_)) => Check::fail(
            CREDENTIALS,
            error_line(&e),
            "check clarus.base_url and the network path (proxy, firewall)",
        ),
        Err(e) => Check::fail(
            CREDENTIALS,
            format!(
                "token obtained, but the GraphQL read failed: {}",
                error_line(&e)
            ),
            "give the API user read access to products (and the other records the engine reads)",
        ),
    };
    vec![check]
}

pub async fn warehouses(ctx: &Context<'_>) -> Vec<Check> {
    let client = match client(ctx, WAREHOUSES) {
        Ok(c) => c,
        Err(check) => return vec![check],
    };
    let mapped: Vec<(i64, String)> = ctx
        .config
        .mappings
        .locations
        .iter()
        .map(|m| (m.warehouse.0 as i64, m.location.as_str().to_owned()))
        .collect();
    if mapped.is_empty() {
        return vec![Check::warn(
            WAREHOUSES,
            "no warehouse is mapped",
            "add a [[mappings.locations]] row per NetSuite location Clarus manages",
        )];
    }
    let listed = |m: &[(i64, String)]| {
        m.iter()
            .map(|(w, l)| format!("{w} (location {l})"))
            .collect::<Vec<_>>()
    };
    let all: Vec<WarehouseRow> = match read(client, Filter::new()).await {
        Ok(all) => all,
        Err(e) => {
            return vec![Check::warn(
                WAREHOUSES,
                format!("could not read Clarus warehouses: {e}"),
                format!(
                    "check by hand that these warehouses exist in Clarus: {}",
                    some_of(&listed(&mapped), 10)
                ),
            )];
        }
    };
    let known: BTreeMap<i64, String> = all
        .iter()
        .map(|w| (w.id.get(), w.code.clone().unwrap_or_default()))
        .collect();
    let (found, missing): (Vec<_>, Vec<_>) = mapped
        .iter()
        .cloned()
        .partition(|(w, _)| known.contains_key(w));
    let data = json!({
        "mapped": mapped.iter().map(|(w, l)| json!({"warehouse": w, "location": l})).collect::<Vec<_>>(),
        "missing": missing.iter().map(|(w, _)| w).collect::<Vec<_>>(),
        "tenant_warehouses": known.iter().map(|(id, code)| json!({"id": id, "code": code})).collect::<Vec<_>>(),
    });
    let check = if missing.is_empty() {
        Check::pass(
            WAREHOUSES,
            format!(
                "{} of {} mapped warehouses found: {}",
                found.len(),
                mapped.len(),
                some_of(
                    &found
                        .iter()
                        .map(|(w, l)| format!("{w} {} (location {l})", known[w]))
                        .collect::<Vec<_>>(),
                    10
                )
            ),
        )
    } else {
        let tenant: Vec<String> = known.iter().map(|(id, c)| format!("{id} {c}")).collect();
        Check::fail(
            WAREHOUSES,
            format!(
                "not found in Clarus: warehouse {}; the tenant has {}",
                some_of(&listed(&missing), 10),
                if tenant.is_empty() {
                    "none".to_owned()
                } else {
                    some_of(&tenant, 10)
                }
            ),
            "correct warehouse in [[mappings.locations]] (the Clarus warehouse id): orders of that location would be refused by Clarus",
        )
    };
    vec![check.with_data(data)]
}

pub async fn carriers(ctx: &Context<'_>) -> Vec<Check> {
    let client = match client(ctx, CARRIERS) {
        Ok(c) => c,
        Err(check) => return vec![check],
    };
    let rows = &ctx.config.mappings.ship_methods;
    if rows.is_empty() {
        return vec![Check::pass(
            CARRIERS,
            "no carrier is mapped ([[mappings.ship_methods]] is empty)",
        )];
    }
    let mut wanted: Vec<i64> = rows.iter().map(|r| r.carrier.0 as i64).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let all: Vec<CarrierRow> = match read(client, Filter::new()).await {
        Ok(all) => all,
        Err(e) => {
            return vec![Check::warn(
                CARRIERS,
                format!("could not read Clarus carriers: {e}"),
                format!(
                    "check by hand that these carriers exist in Clarus: {}",
                    some_of(&wanted, 10)
                ),
            )];
        }
    };
    let known: BTreeMap<i64, &CarrierRow> = all.iter().map(|c| (c.id.get(), c)).collect();
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    for carrier in &wanted {
        match known.get(carrier) {
            None => problems.push(format!("carrier {carrier} not found")),
            Some(c) if c.active == Some(false) => warnings.push(format!(
                "carrier {carrier} {} is inactive",
                c.code.as_deref().unwrap_or("")
            )),
            Some(_) => {}
        }
    }
    let services: Vec<(i64, i64)> = rows
        .iter()
        .filter_map(|r| r.service.as_ref().map(|s| (s.0 as i64, r.carrier.0 as i64)))
        .collect();
    if !services.is_empty() {
        let filter = Filter::new().any_of(
            "carrier_id",
            wanted.iter().map(|c| ClarusId::new(*c)).collect::<Vec<_>>(),
        );
        match read::<ServiceRow>(client, filter).await {
            Ok(found) => {
                for (service, carrier) in &services {
                    match found.iter().find(|s| s.id.get() == *service) {
                        None => problems
                            .push(format!("service {service} not found for carrier {carrier}")),
                        Some(s) if s.carrier.as_ref().is_some_and(|c| c.id.get() != *carrier) => {
                            problems.push(format!(
                                "service {service} belongs to another carrier than {carrier}"
                            ))
                        }
                        Some(s) if s.active == Some(false) => {
                            warnings.push(format!("service {service} is inactive"))
                        }
                        Some(_) => {}
                    }
                }
            }
            Err(e) => warnings.push(format!("carrier services not readable: {e}")),
        }
    }
    let data = json!({"carriers": wanted, "problems": problems, "warnings": warnings});
    let check = if !problems.is_empty() {
        Check::fail(
            CARRIERS,
            some_of(&problems, 5),
            "correct carrier / service in [[mappings.ship_methods]] (Clarus ids)",
        )
    } else if !warnings.is_empty() {
        Check::warn(
            CARRIERS,
            some_of(&warnings, 5),
            "check the carriers and services in Clarus, or remove their [[mappings.ship_methods]] rows",
        )
    } else {
        let names: Vec<String> = wanted
            .iter()
            .map(|c| format!("{c} {}", known[c].code.as_deref().unwrap_or("")))
            .collect();
        Check::pass(
            CARRIERS,
            format!(
                "{} mapped carrier(s){} found: {}",
                wanted.len(),
                if services.is_empty() {
                    ""
                } else {
                    " and their services"
                },
                some_of(&names, 10)
            ),
        )
    };
    vec![check.with_data(data)]
}

/// `Field 'x' doesn't exist on type 'Y'` (graphql-ruby's wording) as `Y.x`.
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Field '")?;
    let (field, rest) = rest.split_once('\'')?;
    let rest = rest.strip_prefix(" doesn't exist on type '")?;
    let (type_name, _) = rest.split_once('\'')?;
    Some(format!("{type_name}.{field}"))
}

/// Reads one node of `N` with the engine's selection: the root's type name, and the fields the
/// tenant does not offer (or another failure).
async fn probe<N: Node>(client: &ClarusClient) -> (String, Result<(), Vec<String>>) {
    let type_name = DocumentedSchema::get()
        .root(N::ROOT)
        .map_or_else(|| N::ROOT.to_owned(), |r| r.type_name.clone());
    let answer = client
        .list_page::<N>(&ListQuery::new(Filter::new(), 1), None)
        .await;
    let outcome = match answer {
        Ok(_) => Ok(()),
        Err(ClarusError::GraphQl { errors, .. }) => {
            let missing: Vec<String> = errors
                .iter()
                .filter_map(|e| missing_field(&e.message))
                .collect();
            if missing.is_empty() {
                Err(vec![format!(
                    "{} ({type_name}): {}",
                    N::ROOT,
                    one_line(
                        &errors
                            .iter()
                            .map(|e| e.message.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                )])
            } else {
                Err(missing)
            }
        }
        Err(e) => Err(vec![format!(
            "{} ({type_name}): {}",
            N::ROOT,
            error_line(&e)
        )]),
    };
    (type_name, outcome)
}

/// What to do when the tenant lacks a field the engine reads.
const SCHEMA_HINT: &str = "the engine's reads of these types would be refused: ask Clarus to offer the documented fields to this tenant and API user";

pub async fn schema(ctx: &Context<'_>) -> Vec<Check> {
    let client = match client(ctx, SCHEMA) {
        Ok(c) => c,
        Err(check) => return vec![check],
    };
    // The engine's own check (its `clarus-schema` job), which only reads.
    match ClarusSchemaCheck::new(client.clone()).report().await {
        Ok(report) => vec![schema_report(&report)],
        Err(e) => vec![schema_by_reads(client, &one_line(&e.to_string())).await],
    }
}

/// The check from an introspection of the tenant.
fn schema_report(report: &SchemaReport) -> Check {
    let extras: Vec<String> = report
        .extras
        .iter()
        .filter(|(_, fields)| !fields.is_empty())
        .map(|(type_name, fields)| {
            format!("{type_name} +{} ({})", fields.len(), some_of(fields, 3))
        })
        .collect();
    let data = json!({
        "checked": report.checked,
        "missing": report.missing.iter().map(|m| json!({"field": m.path(), "flow": m.flow()})).collect::<Vec<_>>(),
        "extras": report.extras,
    });
    let beyond = if extras.is_empty() {
        "nothing beyond the documentation".to_owned()
    } else {
        format!("beyond the documentation: {}", some_of(&extras, 4))
    };
    if report.is_complete() {
        Check::pass(
            SCHEMA,
            format!(
                "the tenant offers every field the engine reads ({} fields looked up by introspection); {beyond}",
                report.checked
            ),
        )
    } else {
        let missing: Vec<String> = report
            .missing_by_field()
            .into_iter()
            .map(|(path, flows)| {
                format!("{path} ({})", flows.into_iter().collect::<Vec<_>>().join(", "))
            })
            .collect();
        Check::fail(SCHEMA, format!("not offered: {}", some_of(&missing, 8)), SCHEMA_HINT)
    }
    .with_data(data)
}

/// The check by reading one node with each of the engine's selections, for a tenant that does
/// not answer introspection.
async fn schema_by_reads(client: &ClarusClient, introspection: &str) -> Check {
    let probes = vec![
        probe::<EngineGoodsOut>(client).await,
        probe::<EngineGoodsOutLine>(client).await,
        probe::<EngineShipment>(client).await,
        probe::<EnginePackage>(client).await,
        probe::<EngineGoodsIn>(client).await,
        probe::<EngineStock>(client).await,
        probe::<EngineStockBalance>(client).await,
        probe::<EngineTransaction>(client).await,
        probe::<EngineProduct>(client).await,
    ];
    let types: Vec<&str> = probes.iter().map(|(t, _)| t.as_str()).collect();
    let missing: Vec<String> = probes
        .iter()
        .filter_map(|(_, o)| o.as_ref().err())
        .flatten()
        .cloned()
        .collect();
    let data = json!({"types": types, "missing": missing, "introspection": introspection});
    if missing.is_empty() {
        Check::pass(
            SCHEMA,
            format!(
                "every read of the engine answered with its fields ({}); fields beyond the documentation are not listed (no introspection: {introspection})",
                types.join(", ")
            ),
        )
    } else {
        Check::fail(SCHEMA, format!("not offered: {}", some_of(&missing, 8)), SCHEMA_HINT)
    }
    .with_data(data)
}

pub async fn automations(ctx: &Context<'_>) -> Vec<Check> {
    let client = match client(ctx, AUTOMATIONS) {
        Ok(c) => c,
        Err(check) => return vec![check],
    };
    let webhook = &ctx.config.webhook;
    let base = match HttpUrl::parse(&webhook.public_url) {
        Ok(url) => url,
        Err(e) => {
            return vec![Check::fail(
                AUTOMATIONS,
                format!(
                    "webhook.public_url {:?} is not a URL: {e}",
                    webhook.public_url
                ),
                "set webhook.public_url to the https:// address Clarus reaches the intake at",
            )];
        }
    };
    let target = WebhookTarget::new(base, None, &webhook.automation_prefix);
    let names: Vec<String> = SYNC_SUBSCRIPTIONS
        .iter()
        .map(|(r, e)| target.automation_name(r, e))
        .collect();
    let found: Vec<AutomationNode> = match read(client, Filter::new().any_of("name", names.clone()))
        .await
    {
        Ok(found) => found,
        Err(e) => {
            return vec![Check::fail(
                AUTOMATIONS,
                format!("could not read automations: {e}"),
                "give the API user access to automations: `sync run` creates its webhooks there on start and stops when it cannot",
            )];
        }
    };
    let mut missing = Vec::new();
    let mut disabled = Vec::new();
    for ((resource, event), name) in SYNC_SUBSCRIPTIONS.iter().zip(&names) {
        let automation = found.iter().find(|a| {
            a.name.as_deref() == Some(name.as_str())
                && a.resource_name.as_deref().is_none_or(|r| r == *resource)
                && a.event.as_deref().is_none_or(|e| e == *event)
        });
        match automation {
            None => missing.push(format!("{resource}.{event}")),
            Some(a) if a.enabled == Some(false) => disabled.push(format!("{resource}.{event}")),
            Some(_) => {}
        }
    }
    let total = SYNC_SUBSCRIPTIONS.len();
    let data = json!({"needed": total, "missing": missing, "disabled": disabled});
    let check = if missing.is_empty() && disabled.is_empty() {
        Check::pass(
            AUTOMATIONS,
            format!(
                "{total} of {total} present and enabled (\"{} …\"); where they send cannot be read without changing them: `sync run` points them at webhook.public_url on start",
                webhook.automation_prefix
            ),
        )
    } else {
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!(
                "{} of {total} missing: {}",
                missing.len(),
                some_of(&missing, 4)
            ));
        }
        if !disabled.is_empty() {
            parts.push(format!("disabled: {}", some_of(&disabled, 4)));
        }
        Check::warn(
            AUTOMATIONS,
            parts.join("; "),
            "`sync run` creates and enables them on start, pointing at webhook.public_url (or run `clarus subscribe --url <public_url>`)",
        )
    };
    vec![check.with_data(data)]
}

/// Whether a URL's host is this machine: plain http is fine there (simulators, tests, a
/// TLS-terminating proxy forwarding to the intake on the same machine), as the token in the
/// query never crosses a network in clear.
fn loopback(url: &HttpUrl) -> bool {
    let host = url.host().trim_matches(['[', ']']);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub async fn delivery(ctx: &Context<'_>, limit: Duration) -> Vec<Check> {
    let webhook = &ctx.config.webhook;
    let shown = format!(
        "{}/{}/{}",
        webhook.public_url.trim_end_matches('/'),
        TEST_ROUTE.0,
        TEST_ROUTE.1
    );
    let Some(secret) = crate::env("CLARUS_WEBHOOK_SECRET") else {
        return vec![Check::fail(
            DELIVERY,
            "CLARUS_WEBHOOK_SECRET is not set: nothing was sent",
            "set CLARUS_WEBHOOK_SECRET to the shared secret the engine checks (?token=)",
        )];
    };
    let base = match HttpUrl::parse(&webhook.public_url) {
        Ok(url) => url,
        Err(e) => {
            return vec![Check::fail(
                DELIVERY,
                format!(
                    "webhook.public_url {:?} is not a URL: {e}",
                    webhook.public_url
                ),
                "set webhook.public_url to the https:// address Clarus reaches the intake at",
            )];
        }
    };
    let plain_http = base.scheme() != "https" && !loopback(&base);
    let target = WebhookTarget::new(
        base,
        Some(WebhookSecret::new(Secret::new(secret.clone()))),
        &webhook.automation_prefix,
    );
    let url = subscription_url(&target, TEST_ROUTE.0, TEST_ROUTE.1);
    // A little under the check's own limit, so a slow intake reads as such.
    let sink = match url::Url::parse(url.as_str())
        .map_err(|e| e.to_string())
        .and_then(|url| {
            WebhookSink::new("sync-doctor", url, limit.mul_f32(0.9)).map_err(|e| e.to_string())
        }) {
        Ok(sink) => sink,
        Err(e) => {
            return vec![Check::fail(
                DELIVERY,
                one_line(&e),
                "check webhook.public_url",
            )];
        }
    };
    let now = jiff::Timestamp::now();
    let ping = Alert {
        owner: "integration".into(),
        kind: "doctor-ping".into(),
        severity: "info".into(),
        count: 1,
        first_raised_at: now,
        last_raised_at: now,
        examples: vec![AlertExample {
            key: "doctor-ping".into(),
            document: "sync doctor".into(),
            message: "test delivery; the engine ignores it".into(),
        }],
        runbook: "guide.md#6-deploy".into(),
    };
    let check = match sink.deliver(&ping).await {
        Ok(()) if plain_http => Check::fail(
            DELIVERY,
            format!(
                "POST {shown} was accepted, but the URL is plain http: the webhook token (?token=) would cross the network in clear"
            ),
            "Clarus delivers webhooks to HTTPS endpoints only, and the webhook token in the URL's query must never cross a network in clear: set webhook.public_url to the https:// address of a TLS-terminating proxy; plain http is fine only on loopback, from a proxy on the same machine to webhook.listen",
        ),
        Ok(()) => Check::pass(
            DELIVERY,
            format!("POST {shown} was accepted: the intake stored the test delivery"),
        ),
        Err(DeliveryError::Rejected { status: 401, .. }) => Check::fail(
            DELIVERY,
            format!("POST {shown}: the intake refused the token (401)"),
            "CLARUS_WEBHOOK_SECRET here differs from the running engine's; use the same secret",
        ),
        Err(DeliveryError::Rejected { status, body }) => Check::fail(
            DELIVERY,
            format!("POST {shown} answered {status}: {}", one_line(&body)),
            if status == 404 || status == 405 {
                "webhook.public_url does not lead to the intake's /webhooks/clarus route: check the proxy's path"
            } else {
                "check the reverse proxy and the engine's log (RUST_LOG=info,sync_engine=debug)"
            },
        ),
        Err(e) => Check::fail(
            DELIVERY,
            format!("POST {shown} did not arrive: {}", one_line(&e.to_string())),
            "start `sync run` (the intake listens on webhook.listen) and make webhook.public_url reach it (DNS, TLS proxy, firewall)",
        ),
    };
    // A proxy's error page may echo the URL: the secret never shows.
    let mut check = check;
    check.detail = check.detail.replace(&secret, "***");
    vec![check]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documented<N: Node>() {
        let root = DocumentedSchema::get()
            .root(N::ROOT)
            .unwrap_or_else(|| panic!("{} is not documented", N::ROOT));
        assert_eq!(root.filter_type, N::FILTER_TYPE, "{}", N::ROOT);
        root.check_selection(N::FIELDS)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn every_read_is_documented() {
        documented::<ProductId>();
        documented::<WarehouseRow>();
        documented::<CarrierRow>();
        documented::<ServiceRow>();
        documented::<EngineGoodsOut>();
        documented::<EngineGoodsOutLine>();
        documented::<EngineShipment>();
        documented::<EnginePackage>();
        documented::<EngineGoodsIn>();
        documented::<EngineStock>();
        documented::<EngineStockBalance>();
        documented::<EngineTransaction>();
        documented::<EngineProduct>();
        let carrier_services = DocumentedSchema::get().root("carrier_services").unwrap();
        carrier_services
            .check_filters(&Filter::new().any_of("carrier_id", [ClarusId::new(1)]))
            .unwrap();
        let automations = DocumentedSchema::get().root("automations").unwrap();
        automations
            .check_filters(&Filter::new().any_of("name", ["netsuite-sync goods_out.completed"]))
            .unwrap();
    }

    /// The probes read exactly what the engine reads.
    #[test]
    fn the_probes_are_the_engines_reads() {
        let probes = [
            (EngineGoodsOut::ROOT, EngineGoodsOut::FIELDS),
            (EngineGoodsOutLine::ROOT, EngineGoodsOutLine::FIELDS),
            (EngineShipment::ROOT, EngineShipment::FIELDS),
            (EnginePackage::ROOT, EnginePackage::FIELDS),
            (EngineGoodsIn::ROOT, EngineGoodsIn::FIELDS),
            (EngineStock::ROOT, EngineStock::FIELDS),
            (EngineTransaction::ROOT, EngineTransaction::FIELDS),
            (EngineStockBalance::ROOT, EngineStockBalance::FIELDS),
            (EngineProduct::ROOT, EngineProduct::FIELDS),
        ];
        let mut probes = probes.to_vec();
        let mut engine = sync_engine::clarus::engine_reads();
        probes.sort_unstable();
        engine.sort_unstable();
        assert_eq!(probes, engine);
    }

    #[test]
    fn missing_fields_are_read_from_graphql_ruby_errors() {
        assert_eq!(
            missing_field("Field 'carrier' doesn't exist on type 'GoodsOut'").as_deref(),
            Some("GoodsOut.carrier")
        );
        assert_eq!(missing_field("Parse error"), None);
    }

    #[test]
    fn plain_http_is_fine_on_this_machine_only() {
        assert!(loopback(
            &HttpUrl::parse("http://127.0.0.1:8080/x").unwrap()
        ));
        assert!(loopback(&HttpUrl::parse("http://localhost/x").unwrap()));
        assert!(!loopback(
            &HttpUrl::parse("http://sync.example.com/x").unwrap()
        ));
    }
}
