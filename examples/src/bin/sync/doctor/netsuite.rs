//! The NetSuite checks: credentials, governance limits, record types and features, SuiteQL, the
//! NetSuite side of the mapping tables, OneWorld subsidiaries. Reads only.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::TryStreamExt;
use netsuite_client::suiteql::{Query, StreamOptions};
use netsuite_client::{Error, NetSuiteClient, RecordType};
use serde_json::{Map, Value, json};
use sync_core::StockPlace;

use super::{Check, Context, one_line, some_of};

pub const CREDENTIALS: &str = "NetSuite credentials";
pub const GOVERNANCE: &str = "NetSuite concurrency";
pub const RECORD_TYPES: &str = "NetSuite record types";
pub const FEATURES: &str = "NetSuite features";
pub const SUITEQL: &str = "NetSuite SuiteQL";
pub const LOCATIONS: &str = "NetSuite locations";
pub const STATUSES: &str = "NetSuite inventory statuses";
pub const ACCOUNTS: &str = "NetSuite adjustment accounts";
pub const SHIP_METHODS: &str = "NetSuite ship methods";
pub const ONE_WORLD: &str = "NetSuite OneWorld";

/// A SuiteQL row, columns in lower case.
pub type Row = Map<String, Value>;

/// The client, or the failed check saying why there is none.
pub fn client<'a>(ctx: &'a Context<'_>, name: &'static str) -> Result<&'a NetSuiteClient, Check> {
    ctx.netsuite.as_ref().map_err(|e| {
        Check::fail(
            name,
            format!("no NetSuite client: {e}"),
            "set the NETSUITE_* variables (`sync --help` lists them) and [netsuite] account_id",
        )
    })
}

/// Every row of a query.
pub async fn rows(client: &NetSuiteClient, query: Query) -> Result<Vec<Row>, Error> {
    client
        .suiteql::<Row>(query, StreamOptions::default())
        .try_collect()
        .await
}

/// A column as text (SuiteQL answers strings, the odd number).
pub fn text(row: &Row, column: &str) -> Option<String> {
    match row.get(column)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A NetSuite error on one line.
pub fn error_line(e: &Error) -> String {
    one_line(&e.to_string())
}

/// What to do about a NetSuite error, by its kind.
fn error_hint(e: &Error) -> &'static str {
    match e {
        Error::Auth(_) | Error::Unauthorized { .. } => {
            "check the NETSUITE_* credentials and the integration role; NetSuite's Login Audit Trail shows why a login was refused"
        }
        Error::Transport(_) => {
            "check [netsuite] account_id / base_url and the network path (proxy, firewall)"
        }
        _ => "give the integration role the permission named in the error",
    }
}

pub async fn credentials(ctx: &Context<'_>) -> Vec<Check> {
    let client = match client(ctx, CREDENTIALS) {
        Ok(c) => c,
        Err(check) => return vec![check],
    };
    let scheme = client.auth_scheme();
    let check = match client
        .list_as(RecordType::from_static("location"))
        .limit(1)
        .send()
        .await
    {
        Ok(_) => Check::pass(
            CREDENTIALS,
            format!(
                "token obtained ({scheme:?}); an authenticated read answered ({})",
                client.base_url()
            ),
        ),
        Err(e @ (Error::Auth(_) | Error::Unauthorized { .. } | Error::Transport(_))) => {
            Check::fail(CREDENTIALS, error_line(&e), error_hint(&e))
        }
        Err(e) if e.api().is_some() => Check::warn(
            CREDENTIALS,
            format!(
                "token accepted ({scheme:?}), but reading locations was refused: {}",
                error_line(&e)
            ),
            "give the integration role the permissions in docs/guide.md (NetSuite set-up)",
        ),
        Err(e) => Check::fail(CREDENTIALS, error_line(&e), error_hint(&e)),
    };
    vec![check]
}

pub async fn governance(ctx: &Context<'_>) -> Vec<Check> {
    let client = match client(ctx, GOVERNANCE) {
        Ok(c) => c,
        Err(check) => return vec![check],
    };
    let used = client.concurrency_budget().ceiling();
    let source = match ctx.config.netsuite.concurrency {
        Some(_) => "netsuite.concurrency",
        None => "the default: netsuite.concurrency is not set",
    };
    let check = match client.governance_limits().await {
        Ok(limits) => {
            let n = |v: Option<u32>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
            let read = format!(
                "governanceLimits: account {}, unallocated {}, integration {} ({})",
                n(limits.account_concurrency_limit),
                n(limits.account_unallocated_concurrency_limit),
                n(limits.integration_concurrency_limit),
                limits.integration_limit_type.as_deref().unwrap_or("-"),
            );
            let data = json!({
                "engine_concurrency": used,
                "effective_limit": limits.effective_limit(),
                "account_limit": limits.account_concurrency_limit,
                "unallocated_limit": limits.account_unallocated_concurrency_limit,
                "integration_limit": limits.integration_concurrency_limit,
            });
            match limits.effective_limit() {
                Some(limit) if used > limit as usize => Check::warn(
                    GOVERNANCE,
                    format!(
                        "the engine will use {used} requests in flight ({source}), above the {limit} this integration may have; {read}"
                    ),
                    format!(
                        "set netsuite.concurrency to {limit} or less, or give the integration its own slice under Setup > Integration > Integration Governance"
                    ),
                ),
                Some(limit) if used < limit as usize && ctx.config.netsuite.concurrency.is_none() => {
                    Check::pass(
                        GOVERNANCE,
                        format!(
                            "the engine will use {used} requests in flight ({source}; {limit} allowed); {read}"
                        ),
                    )
                }
                _ => Check::pass(
                    GOVERNANCE,
                    format!("the engine will use {used} requests in flight ({source}); {read}"),
                ),
            }
            .with_data(data)
        }
        Err(e) => Check::warn(
            GOVERNANCE,
            format!(
                "the engine will use {used} requests in flight ({source}); governanceLimits not readable: {}",
                error_line(&e)
            ),
            "governanceLimits needs an administrator role: read the limits under Setup > Integration > Integration Governance and set netsuite.concurrency within them",
        )
        .with_data(json!({"engine_concurrency": used})),
    };
    vec![check]
}

/// Whether the account has a record type, for this role.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Presence {
    Present,
    Absent,
    Unknown(String),
}

/// Looks record types up in the metadata catalog; when the catalog cannot be read, lists one
/// record of each type instead. Answers how they were looked up and what was found.
async fn presence(client: &NetSuiteClient, names: &[&'static str]) -> (String, Vec<Presence>) {
    let mut found = Vec::with_capacity(names.len());
    let mut catalog_error = None;
    for name in names {
        match client.has_record_type(name).await {
            Ok(true) => found.push(Presence::Present),
            Ok(false) => found.push(Presence::Absent),
            Err(e) => {
                catalog_error = Some(match e.api() {
                    Some(api) => format!("HTTP {}", api.status),
                    None => error_line(&e).chars().take(80).collect(),
                });
                break;
            }
        }
    }
    let Some(catalog_error) = catalog_error else {
        return ("metadata catalog".to_owned(), found);
    };
    let mut found = Vec::with_capacity(names.len());
    for name in names {
        let probe = match RecordType::new(*name) {
            Ok(t) => client.list_as(t).limit(1).send().await,
            Err(e) => Err(Error::from(e)),
        };
        found.push(match probe {
            Ok(_) => Presence::Present,
            Err(e) if e.is_not_found() || e.api().is_some_and(|a| a.status == 400) => {
                Presence::Absent
            }
            Err(e) => Presence::Unknown(error_line(&e)),
        });
    }
    (
        format!("one-record lists; the metadata catalog was not readable: {catalog_error}"),
        found,
    )
}

/// Whether any stock-status row puts stock in an inventory status (`Status`) or in a location of
/// its own (`Location`).
fn places(ctx: &Context<'_>) -> (bool, bool) {
    let all = ctx
        .config
        .mappings
        .stock_statuses
        .iter()
        .flat_map(|row| [&row.sellable, &row.quarantine]);
    let mut status = false;
    let mut location = false;
    for place in all {
        match place {
            StockPlace::Status { .. } => status = true,
            StockPlace::Location { .. } => location = true,
        }
    }
    (status, location)
}

const LOT_ITEM: &str = "lotNumberedInventoryItem";
const SERIAL_ITEM: &str = "serializedInventoryItem";
const BIN: &str = "bin";
const INVENTORY_STATUS: &str = "inventoryStatus";

pub async fn record_types(ctx: &Context<'_>) -> Vec<Check> {
    let client = match client(ctx, RECORD_TYPES) {
        Ok(c) => c,
        Err(check) => {
            let mut features = check.clone();
            features.name = FEATURES;
            return vec![check, features];
        }
    };
    let (status_places, location_places) = places(ctx);
    // (record type, what needs it, whether a flow stops without it)
    let needed: Vec<(&'static str, &'static str, bool)> = vec![
        ("salesOrder", "order to cash", true),
        ("purchaseOrder", "inbound", true),
        ("returnAuthorization", "returns", true),
        ("itemFulfillment", "despatch postings", true),
        ("itemReceipt", "receipt postings", true),
        ("inventoryAdjustment", "adjustments", true),
        ("inventoryItem", "item master", true),
        (
            "inventoryTransfer",
            "holds and releases between locations",
            location_places,
        ),
        (
            netsuite_client::quarantine::STATUS_CHANGE_TYPE,
            "holds and releases between inventory statuses",
            status_places,
        ),
        (LOT_ITEM, "lot-numbered items", false),
        (SERIAL_ITEM, "serialized items", false),
        (BIN, "bins", false),
        (INVENTORY_STATUS, "inventory statuses", status_places),
    ];
    let names: Vec<&'static str> = needed.iter().map(|(n, _, _)| *n).collect();
    let (how, found) = presence(client, &names).await;
    let is = |name: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .map(|i| found[i].clone())
            .unwrap_or(Presence::Unknown("not asked".into()))
    };

    let mut missing = Vec::new();
    let mut unknown = Vec::new();
    let mut present = Vec::new();
    for ((name, why, required), presence) in needed.iter().zip(&found) {
        match presence {
            Presence::Present => present.push(*name),
            Presence::Absent if *required => missing.push(format!("{name} ({why})")),
            Presence::Absent => {}
            Presence::Unknown(e) if *required => unknown.push(format!("{name}: {e}")),
            Presence::Unknown(_) => {}
        }
    }
    let data = json!({
        "looked_up_in": how,
        "present": present,
        "missing": missing,
    });
    let types = if !missing.is_empty() {
        Check::fail(
            RECORD_TYPES,
            format!("not available to the integration role: {}", missing.join(", ")),
            "give the role permission for these records (or enable the feature); the flows that need them stop",
        )
    } else if !unknown.is_empty() {
        Check::warn(
            RECORD_TYPES,
            format!("could not tell: {}", some_of(&unknown, 3)),
            "check the role's record permissions by hand",
        )
    } else {
        Check::pass(
            RECORD_TYPES,
            format!(
                "every record type the flows need is there ({} found with {how})",
                present.len()
            ),
        )
    }
    .with_data(data);

    let on = |p: Presence| match p {
        Presence::Present => "on",
        Presence::Absent => "off (or not visible)",
        Presence::Unknown(_) => "unknown",
    };
    let statuses = is(INVENTORY_STATUS);
    let bins = is(BIN);
    let summary = format!(
        "lots {}, serials {}, bins {}, inventory statuses {}",
        on(is(LOT_ITEM)),
        on(is(SERIAL_ITEM)),
        on(bins.clone()),
        on(statuses.clone()),
    );
    let features = if status_places && statuses == Presence::Absent {
        Check::fail(
            FEATURES,
            format!("{summary}; [[mappings.stock_statuses]] uses inventory statuses"),
            "enable Inventory Status (Setup > Company > Enable Features > Items & Inventory), or map quarantine to a location ({ type = \"location\", location = \"…\" })",
        )
    } else if bins == Presence::Present {
        Check::warn(
            FEATURES,
            summary,
            "the engine sends no bin numbers: keep Use Bins off for the items and locations Clarus manages (Clarus holds the bins)",
        )
    } else if matches!(statuses, Presence::Unknown(_)) && status_places {
        Check::warn(
            FEATURES,
            summary,
            "check that Inventory Status is enabled: [[mappings.stock_statuses]] uses statuses",
        )
    } else {
        Check::pass(FEATURES, summary)
    };
    vec![types, features]
}

pub async fn suiteql(ctx: &Context<'_>) -> Vec<Check> {
    let client = match client(ctx, SUITEQL) {
        Ok(c) => c,
        Err(check) => return vec![check],
    };
    let check = match client
        .suiteql_page::<Row>("SELECT id FROM location", 1, 0)
        .await
    {
        Ok((rows, _)) => Check::pass(
            SUITEQL,
            format!(
                "a one-row query answered ({} row{})",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            ),
        ),
        Err(e) => Check::fail(
            SUITEQL,
            error_line(&e),
            "give the integration role SuiteAnalytics Workbook and REST Web Services (the poller and reconciliation read with SuiteQL)",
        ),
    };
    vec![check]
}

/// Internal ids wanted in a table, each with where the configuration uses it.
type Wanted = Vec<(String, String)>;

/// Adds an id unless it is already wanted.
fn want(wanted: &mut Wanted, id: &str, used: String) {
    if !wanted.iter().any(|(w, _)| w == id) {
        wanted.push((id.to_owned(), used));
    }
}

/// Every NetSuite location the configuration names, with where.
pub fn configured_locations(ctx: &Context<'_>) -> Wanted {
    let mappings = &ctx.config.mappings;
    let mut wanted = Wanted::new();
    for row in &mappings.locations {
        want(
            &mut wanted,
            row.location.as_str(),
            format!("mapped to warehouse {}", row.warehouse),
        );
    }
    for row in &mappings.stock_statuses {
        want(
            &mut wanted,
            row.location.as_str(),
            "[[mappings.stock_statuses]]".into(),
        );
        for (place, what) in [(&row.sellable, "sellable"), (&row.quarantine, "quarantine")] {
            if let StockPlace::Location { location } = place {
                want(
                    &mut wanted,
                    location.as_str(),
                    format!("{what} place of location {}", row.location),
                );
            }
        }
    }
    wanted
}

/// How one table's ids came out.
struct Found {
    invalid: Vec<String>,
    missing: Vec<String>,
    inactive: Vec<String>,
    found: usize,
}

/// Looks ids up in a SuiteQL table (`id`, `isinactive`).
async fn look_up(client: &NetSuiteClient, table: &str, wanted: &Wanted) -> Result<Found, Error> {
    let mut numeric = Vec::new();
    let mut invalid = Vec::new();
    for (id, used) in wanted {
        match id.parse::<i64>() {
            Ok(n) if id.bytes().all(|b| b.is_ascii_digit()) => numeric.push(n),
            _ => invalid.push(format!("{id:?} ({used}) is not an internal id")),
        }
    }
    let mut seen: BTreeMap<String, bool> = BTreeMap::new();
    for chunk in numeric.chunks(500) {
        let query = Query::new(format!("SELECT id, isinactive FROM {table} WHERE id IN ?"))
            .bind(chunk.to_vec());
        for row in rows(client, query).await? {
            if let Some(id) = text(&row, "id") {
                let inactive = text(&row, "isinactive").is_some_and(|v| v == "T");
                seen.insert(id, inactive);
            }
        }
    }
    let mut missing = Vec::new();
    let mut inactive = Vec::new();
    let mut found = 0;
    for (id, used) in wanted {
        if !id.bytes().all(|b| b.is_ascii_digit()) || id.is_empty() {
            continue;
        }
        match seen.get(id) {
            None => missing.push(format!("{id} ({used})")),
            Some(true) => inactive.push(format!("{id} ({used})")),
            Some(false) => found += 1,
        }
    }
    Ok(Found {
        invalid,
        missing,
        inactive,
        found,
    })
}

/// One mapping table's NetSuite ids against their SuiteQL table.
struct Existence {
    name: &'static str,
    /// SuiteQL table.
    table: &'static str,
    /// What the rows are, e.g. `locations`.
    whats: &'static str,
    /// What to do when one is missing or inactive.
    fix: &'static str,
    /// The check's outcome when nothing is configured: `None` passes.
    when_empty: Option<(&'static str, bool)>,
}

impl Existence {
    async fn check(&self, ctx: &Context<'_>, wanted: Wanted) -> Check {
        let client = match client(ctx, self.name) {
            Ok(c) => c,
            Err(check) => return check,
        };
        if wanted.is_empty() {
            return match self.when_empty {
                Some((hint, true)) => {
                    Check::fail(self.name, format!("no {} configured", self.whats), hint)
                }
                Some((hint, false)) => {
                    Check::warn(self.name, format!("no {} configured", self.whats), hint)
                }
                None => Check::pass(self.name, format!("no {} configured", self.whats)),
            };
        }
        let ids: Vec<&str> = wanted.iter().map(|(id, _)| id.as_str()).collect();
        let found = match look_up(client, self.table, &wanted).await {
            Ok(found) => found,
            Err(e) => {
                return Check::warn(
                    self.name,
                    format!(
                        "could not read NetSuite {} (SuiteQL {}): {}",
                        self.whats,
                        self.table,
                        error_line(&e)
                    ),
                    format!(
                        "check by hand that these {} exist and are active: {}",
                        self.whats,
                        some_of(&ids, 10)
                    ),
                );
            }
        };
        let data = json!({
            "configured": ids,
            "missing": found.missing,
            "inactive": found.inactive,
            "invalid": found.invalid,
        });
        let mut problems = Vec::new();
        if !found.invalid.is_empty() {
            problems.push(some_of(&found.invalid, 5));
        }
        if !found.missing.is_empty() {
            problems.push(format!("not found: {}", some_of(&found.missing, 5)));
        }
        if !found.inactive.is_empty() {
            problems.push(format!("inactive: {}", some_of(&found.inactive, 5)));
        }
        if problems.is_empty() {
            Check::pass(
                self.name,
                format!(
                    "{} of {} {} found and active: {}",
                    found.found,
                    wanted.len(),
                    self.whats,
                    some_of(&ids, 10)
                ),
            )
        } else {
            Check::fail(self.name, problems.join("; "), self.fix)
        }
        .with_data(data)
    }
}

pub async fn locations(ctx: &Context<'_>) -> Vec<Check> {
    let check = Existence {
        name: LOCATIONS,
        table: "location",
        whats: "locations",
        fix: "correct the location ids in [[mappings.locations]] / [[mappings.stock_statuses]] (internal ids, Setup > Company > Locations), or reactivate the location",
        when_empty: Some((
            "add a [[mappings.locations]] row per NetSuite location Clarus manages; without one no order flows",
            true,
        )),
    };
    vec![check.check(ctx, configured_locations(ctx)).await]
}

pub async fn statuses(ctx: &Context<'_>) -> Vec<Check> {
    let mut wanted = Wanted::new();
    for row in &ctx.config.mappings.stock_statuses {
        for (place, what) in [(&row.sellable, "sellable"), (&row.quarantine, "quarantine")] {
            if let StockPlace::Status { status } = place {
                want(
                    &mut wanted,
                    status.as_str(),
                    format!("{what} at location {}", row.location),
                );
            }
        }
    }
    let check = Existence {
        name: STATUSES,
        table: "inventorystatus",
        whats: "inventory statuses",
        fix: "correct the status ids in [[mappings.stock_statuses]] (internal ids, Setup > Accounting > Inventory Statuses)",
        when_empty: if ctx.config.mappings.stock_statuses.is_empty() {
            Some((
                "add [[mappings.stock_statuses]] rows: without them returns and holds wait with missing-stock-status-mapping",
                false,
            ))
        } else {
            None
        },
    };
    vec![check.check(ctx, wanted).await]
}

pub async fn accounts(ctx: &Context<'_>) -> Vec<Check> {
    let mut wanted = Wanted::new();
    for row in &ctx.config.mappings.adjustment_accounts {
        let reason = row
            .reason
            .as_ref()
            .map(|r| format!(", reason {r}"))
            .unwrap_or_default();
        let kind = serde_json::to_value(row.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("{:?}", row.kind));
        want(&mut wanted, row.account.as_str(), format!("{kind}{reason}"));
    }
    let check = Existence {
        name: ACCOUNTS,
        table: "account",
        whats: "accounts",
        fix: "correct the account ids in [[mappings.adjustment_accounts]] (finance owns this table)",
        when_empty: Some((
            "add [[mappings.adjustment_accounts]] rows: without them adjustments wait with missing-account-mapping",
            false,
        )),
    };
    vec![check.check(ctx, wanted).await]
}

pub async fn ship_methods(ctx: &Context<'_>) -> Vec<Check> {
    let mut wanted = Wanted::new();
    for row in &ctx.config.mappings.ship_methods {
        let service = row
            .service
            .as_ref()
            .map(|s| format!(" service {s}"))
            .unwrap_or_default();
        want(
            &mut wanted,
            row.ship_method.as_str(),
            format!("carrier {}{service}", row.carrier),
        );
    }
    let check = Existence {
        name: SHIP_METHODS,
        table: "shipitem",
        whats: "ship methods",
        fix: "correct the ship method ids in [[mappings.ship_methods]] (internal ids of shipping items)",
        when_empty: Some((
            "add [[mappings.ship_methods]] rows so fulfilments carry the carrier's ship method",
            false,
        )),
    };
    vec![check.check(ctx, wanted).await]
}

pub async fn one_world(ctx: &Context<'_>) -> Vec<Check> {
    let client = match client(ctx, ONE_WORLD) {
        Ok(c) => c,
        Err(check) => return vec![check],
    };
    let locations: Vec<String> = configured_locations(ctx)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let configured = &ctx.config.netsuite.locations;
    let subsidiary_of =
        |location: &str| configured.get(location).and_then(|s| s.subsidiary.clone());
    let rows = match rows(client, Query::new("SELECT id, isinactive FROM subsidiary")).await {
        Ok(rows) => rows,
        Err(e) => {
            let set = locations
                .iter()
                .filter(|l| subsidiary_of(l).is_some())
                .count();
            if set == locations.len() && set > 0 {
                return vec![Check::pass(
                    ONE_WORLD,
                    format!(
                        "every mapped location names a subsidiary (whether the account has several could not be read: {})",
                        error_line(&e)
                    ),
                )];
            }
            return vec![Check::warn(
                ONE_WORLD,
                format!(
                    "could not tell whether the account has subsidiaries (SuiteQL subsidiary: {}); {set} of {} mapped locations name one",
                    error_line(&e),
                    locations.len()
                ),
                "in a OneWorld account set subsidiary under [netsuite.locations.\"<location id>\"] for every mapped location",
            )];
        }
    };
    let subsidiaries: BTreeSet<String> = rows.iter().filter_map(|r| text(r, "id")).collect();
    if subsidiaries.len() <= 1 {
        return vec![Check::pass(
            ONE_WORLD,
            format!(
                "not a OneWorld account ({} subsidiary): no subsidiary needed",
                subsidiaries.len()
            ),
        )];
    }
    let mut without = Vec::new();
    let mut unknown = Vec::new();
    for location in &locations {
        match subsidiary_of(location) {
            None => without.push(location.clone()),
            Some(s) if !subsidiaries.contains(&s) => {
                unknown.push(format!("{s} (location {location})"))
            }
            Some(_) => {}
        }
    }
    let data = json!({
        "subsidiaries": subsidiaries,
        "locations_without_subsidiary": without,
        "unknown_subsidiaries": unknown,
    });
    let check = if !without.is_empty() {
        Check::fail(
            ONE_WORLD,
            format!(
                "OneWorld account ({} subsidiaries); no subsidiary set for location {}",
                subsidiaries.len(),
                some_of(&without, 10)
            ),
            format!(
                "set subsidiary under [netsuite.locations.\"{}\"] (the location's subsidiary): adjustments, transfers and status changes need it",
                without[0]
            ),
        )
    } else if !unknown.is_empty() {
        Check::fail(
            ONE_WORLD,
            format!("subsidiary not found: {}", some_of(&unknown, 10)),
            "correct subsidiary under [netsuite.locations.\"<location id>\"] (internal ids, Setup > Company > Subsidiaries)",
        )
    } else {
        Check::pass(
            ONE_WORLD,
            format!(
                "OneWorld account ({} subsidiaries); every mapped location names one",
                subsidiaries.len()
            ),
        )
    };
    vec![check.with_data(data)]
}
