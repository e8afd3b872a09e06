//! The Clarus checks: credentials, warehouses and carriers of the mapping tables, the GraphQL
//! fields the engine reads, the webhook automations, and a test delivery to the intake.
//!
//! Every GraphQL read asks only for documented fields with documented filters (checked against
//! `DocumentedSchema` before it is sent), and nothing is written to Clarus. The nodes read are in
//! [`nodes`], the GraphQL field check in [`fields`], and the automation and test-delivery checks
//! in [`webhooks`].

mod fields;
mod nodes;
mod webhooks;

use std::collections::BTreeMap;

use clarus_client::graphql::documented::DocumentedSchema;
use clarus_client::graphql::{Filter, ListQuery, Node};
use clarus_client::{ClarusClient, ClarusError, ClarusId};
use futures_util::TryStreamExt;
use serde_json::json;

pub use fields::schema;
use nodes::{CarrierRow, ProductId, ServiceRow, WarehouseRow};
pub use webhooks::{automations, delivery};

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
