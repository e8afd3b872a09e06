//! `sync doctor`: a read-only pre-flight check of the configured systems, for going live.
//!
//! ```text
//! sync --config sync.toml doctor            one line per check: PASS, WARN or FAIL, with a hint
//! sync --config sync.toml doctor --json     the same as JSON
//! ```
//!
//! Checks, in this order, each on its own (a failing one does not stop the others) and each
//! bounded by `--timeout` (10 s by default):
//!
//! 1. credentials: NetSuite (a token, one authenticated read) and Clarus (a token, one GraphQL
//!    read);
//! 2. NetSuite governance limits and the concurrency the engine will use;
//! 3. the NetSuite record types the flows need, the features in use (lots, serials, bins,
//!    inventory statuses), SuiteQL access;
//! 4. every mapping row exists on the other side: NetSuite locations, Clarus warehouses,
//!    inventory statuses, adjustment accounts, ship methods, Clarus carriers;
//! 5. the Clarus GraphQL fields the engine reads are offered by the tenant (introspection, as the
//!    engine's `clarus-schema` job compares them), and what it offers beyond the documentation;
//! 6. the Clarus automations of every subscription the engine needs;
//! 7. a test delivery reaches the webhook intake at `webhook.public_url`;
//! 8. OneWorld: a subsidiary per location when the account has several;
//! 9. what the first run would create in Clarus, and what it would adopt instead.
//!
//! Nothing is changed in NetSuite or Clarus: every request is a read, except the one test
//! delivery to the engine's own intake (stored there and decoded to nothing). The command exits
//! with [`DOCTOR_FAILED`] when any check fails, that is when something would stop a flow.

mod clarus;
mod first_run;
mod netsuite;

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::time::Duration;

use clarus_client::ClarusClient;
use netsuite_client::NetSuiteClient;
use serde::Serialize;
use serde_json::Value;
use sync_engine::config::Config;
use sync_engine::text::printable;

use super::{BoxError, clarus_client, netsuite_client, redacted_url, store_description};

/// Exit code of `doctor` when any check fails.
pub const DOCTOR_FAILED: i32 = 4;

/// Arguments of `sync doctor`.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Print JSON for machines instead of a table.
    #[arg(long)]
    json: bool,
    /// Seconds each check may take before it counts as failed.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    timeout: u64,
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Fine.
    Pass,
    /// Worth a look; does not stop a flow (or could not be told).
    Warn,
    /// Would stop a flow.
    Fail,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// What was checked, e.g. `NetSuite credentials`.
    pub name: &'static str,
    /// How it came out.
    pub outcome: Outcome,
    /// What was found, one line.
    pub detail: String,
    /// What to do about a warning or failure, one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Figures for machines (counts, lists), when the check has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl Check {
    /// A passing check.
    pub fn pass(name: &'static str, detail: impl Into<String>) -> Self {
        Check {
            name,
            outcome: Outcome::Pass,
            detail: detail.into(),
            hint: None,
            data: None,
        }
    }

    /// A warning with what to do about it.
    pub fn warn(name: &'static str, detail: impl Into<String>, hint: impl Into<String>) -> Self {
        Check {
            outcome: Outcome::Warn,
            hint: Some(hint.into()),
            ..Check::pass(name, detail)
        }
    }

    /// A failure with what to do about it.
    pub fn fail(name: &'static str, detail: impl Into<String>, hint: impl Into<String>) -> Self {
        Check {
            outcome: Outcome::Fail,
            hint: Some(hint.into()),
            ..Check::pass(name, detail)
        }
    }

    /// The same check with figures for machines.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

/// What the checks share: the configuration and the two clients (or why one could not be built).
pub struct Context<'a> {
    /// The configuration.
    pub config: &'a Config,
    /// The NetSuite client, built exactly as `sync run` builds it.
    pub netsuite: Result<NetSuiteClient, String>,
    /// The Clarus client, built exactly as `sync run` builds it.
    pub clarus: Result<ClarusClient, String>,
}

/// The whole report.
#[derive(Debug, Serialize)]
struct Report {
    /// The configured store: the file, or the URL with its password hidden.
    store: String,
    checks: Vec<Check>,
    passed: usize,
    warnings: usize,
    failed: usize,
}

type CheckFuture<'a> = Pin<Box<dyn Future<Output = Vec<Check>> + Send + 'a>>;

/// Bounds a group of checks in time; a group that does not answer fails under each of its names.
fn timed<'a>(
    names: &'static [&'static str],
    limit: Duration,
    checks: impl Future<Output = Vec<Check>> + Send + 'a,
) -> CheckFuture<'a> {
    Box::pin(async move {
        match tokio::time::timeout(limit, checks).await {
            Ok(checks) => checks,
            Err(_) => names
                .iter()
                .map(|name| {
                    Check::fail(
                        name,
                        format!("no answer within {} s", limit.as_secs()),
                        "check the network path to the system, or run again with a longer --timeout",
                    )
                })
                .collect(),
        }
    })
}

/// Runs every check, in order (concurrently, each bounded by `limit`).
pub async fn checks(ctx: &Context<'_>, limit: Duration) -> Vec<Check> {
    let groups: Vec<CheckFuture<'_>> = vec![
        timed(&[netsuite::CREDENTIALS], limit, netsuite::credentials(ctx)),
        timed(&[clarus::CREDENTIALS], limit, clarus::credentials(ctx)),
        timed(&[netsuite::GOVERNANCE], limit, netsuite::governance(ctx)),
        timed(
            &[netsuite::RECORD_TYPES, netsuite::FEATURES],
            limit,
            netsuite::record_types(ctx),
        ),
        timed(&[netsuite::SUITEQL], limit, netsuite::suiteql(ctx)),
        timed(&[netsuite::LOCATIONS], limit, netsuite::locations(ctx)),
        timed(&[clarus::WAREHOUSES], limit, clarus::warehouses(ctx)),
        timed(&[netsuite::STATUSES], limit, netsuite::statuses(ctx)),
        timed(&[netsuite::ACCOUNTS], limit, netsuite::accounts(ctx)),
        timed(
            &[netsuite::SHIP_METHODS],
            limit,
            netsuite::ship_methods(ctx),
        ),
        timed(&[clarus::CARRIERS], limit, clarus::carriers(ctx)),
        timed(&[clarus::SCHEMA], limit, clarus::schema(ctx)),
        timed(&[clarus::AUTOMATIONS], limit, clarus::automations(ctx)),
        timed(&[clarus::DELIVERY], limit, clarus::delivery(ctx, limit)),
        timed(&[netsuite::ONE_WORLD], limit, netsuite::one_world(ctx)),
        timed(&[first_run::FIRST_RUN], limit, first_run::first_run(ctx)),
    ];
    futures_util::future::join_all(groups)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Runs `sync doctor`: prints the checks and exits with [`DOCTOR_FAILED`] when any failed.
pub async fn run(config: &Config, args: DoctorArgs) -> Result<(), BoxError> {
    let ctx = Context {
        config,
        netsuite: netsuite_client(config).map_err(|e| one_line(&e.to_string())),
        clarus: clarus_client(config).map_err(|e| one_line(&e.to_string())),
    };
    let checks = checks(&ctx, Duration::from_secs(args.timeout.max(1))).await;
    let count = |o: Outcome| checks.iter().filter(|c| c.outcome == o).count();
    let report = Report {
        store: config.store.to_string(),
        passed: count(Outcome::Pass),
        warnings: count(Outcome::Warn),
        failed: count(Outcome::Fail),
        checks,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(config, &report);
    }
    std::io::stdout().flush()?;
    if report.failed > 0 {
        std::process::exit(DOCTOR_FAILED);
    }
    Ok(())
}

fn print_table(config: &Config, report: &Report) {
    println!(
        "sync doctor: NetSuite account {}, Clarus tenant {} ({})",
        config.netsuite.account_id,
        printable(&config.clarus.subdomain),
        redacted_url(&config.clarus.base_url)
    );
    println!("store: {}", store_description(config));
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for check in &report.checks {
        println!(
            "{}  {:<width$}  {}",
            check.outcome.label(),
            check.name,
            // Details quote what the systems answered.
            printable(&check.detail)
        );
        if let Some(hint) = &check.hint {
            println!("      {:<width$}  hint: {}", "", printable(hint));
        }
    }
    println!(
        "{} checks: {} passed, {} warnings, {} failed. Nothing was changed in NetSuite or Clarus \
         (one test delivery was posted to the intake).",
        report.checks.len(),
        report.passed,
        report.warnings,
        report.failed
    );
    if report.failed > 0 {
        println!("Fix the FAIL lines before going live (exit code {DOCTOR_FAILED}).");
    }
}

/// Text on one line, at most 300 characters (error messages can carry whole bodies).
pub fn one_line(text: &str) -> String {
    let flat: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(300)
        .collect();
    flat
}

/// Up to `max` items joined by `, `, with how many more there are.
pub fn some_of<T: std::fmt::Display>(items: &[T], max: usize) -> String {
    let mut text = items
        .iter()
        .take(max)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        text.push_str(&format!(" and {} more", items.len() - max));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_serialise_for_machines() {
        let check = Check::fail("Clarus warehouses", "warehouse 9 not found", "add it")
            .with_data(serde_json::json!({"missing": [9]}));
        assert_eq!(
            serde_json::to_value(&check).unwrap(),
            serde_json::json!({
                "name": "Clarus warehouses",
                "outcome": "fail",
                "detail": "warehouse 9 not found",
                "hint": "add it",
                "data": {"missing": [9]},
            })
        );
        let pass = serde_json::to_value(Check::pass("SuiteQL", "answered")).unwrap();
        assert!(pass.get("hint").is_none() && pass.get("data").is_none());
    }

    #[test]
    fn texts_are_kept_short() {
        assert_eq!(one_line("a\n  b\tc"), "a b c");
        assert_eq!(one_line(&"x".repeat(500)).len(), 300);
        assert_eq!(some_of(&[1, 2, 3], 2), "1, 2 and 1 more");
        assert_eq!(some_of(&[1, 2], 2), "1, 2");
    }
}
