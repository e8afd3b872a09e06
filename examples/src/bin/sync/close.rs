//! `sync close-check`: what blocks closing a month, what is only shown, and the totals to tie
//! out, under the rules of the `[close]` table. Exits with code 3 while anything blocks.
//!
//! Text from the store (documents, messages, keys) is printed through [`printable`], so control
//! characters reach the terminal as visible escapes; `--json` and `--csv` carry it as it is
//! (the CSV defuses formulas).

use std::path::PathBuf;

use clap::Args;
use sync_engine::close::{CloseCategory, ClosePeriod, CloseReport, close_report};
use sync_engine::config::Config;
use sync_engine::text::printable;

use crate::{BoxError, open_configured_store};

/// Exit code of `close-check` while something blocks the close.
pub(crate) const CLOSE_BLOCKED: i32 = 3;

/// Arguments of `close-check`.
#[derive(Debug, Args)]
pub(crate) struct CloseArgs {
    /// The period, YYYY-MM, in the NetSuite time zone (`poll.time_zone`).
    #[arg(long)]
    period: ClosePeriod,
    /// Print JSON for machines instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write the report as CSV (items, then totals per flow and transaction type) to
    /// this file.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
}

/// Prints the close report; returns whether anything blocks.
pub(crate) async fn run(config: &Config, args: CloseArgs) -> Result<bool, BoxError> {
    let store = open_configured_store(config).await?;
    let period = args
        .period
        .in_time_zone(jiff::tz::TimeZone::get(&config.poll.time_zone)?);
    let rules = config.close.rules();
    let report = close_report(&*store, &period, &rules, None, jiff::Timestamp::now()).await?;
    if let Some(path) = &args.csv {
        std::fs::write(path, report.to_csv())?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(report.blocking)
}

fn print_table(report: &CloseReport) {
    println!(
        "close check {} ({}, {}): {}",
        report.period,
        report.range,
        report.time_zone,
        if report.blocking { "BLOCKED" } else { "clear" }
    );
    for (title, blocking) in [("blocking", true), ("shown, not blocking", false)] {
        let items: Vec<_> = report
            .items
            .iter()
            .filter(|i| i.blocking == blocking)
            .collect();
        println!("{title}: {}", items.len());
        let mut category: Option<CloseCategory> = None;
        for item in items {
            if category != Some(item.category) {
                category = Some(item.category);
                println!("  {}:", item.category.label());
            }
            println!(
                "    {}  {}: {}",
                item.at,
                printable(&item.document),
                printable(&item.message)
            );
            if let Some(key) = &item.key {
                let runbook = item.runbook.as_deref().unwrap_or_default();
                println!(
                    "      key: {}  (runbook: docs/{})",
                    printable(key),
                    printable(runbook)
                );
            }
        }
    }
    match &report.last_reconciliation {
        Some(r) => println!(
            "last reconciliation: {} ({} positions, {} drifting)",
            r.at, r.positions, r.drift
        ),
        None => println!("last reconciliation: none recorded (see `sync drift --now`)"),
    }
    println!("totals to tie out (units: all activity of the period / posted to NetSuite):");
    if report.totals.is_empty() {
        println!("  no warehouse activity in the period");
    }
    for t in &report.totals {
        println!(
            "  {:<22} {:<24} {:>5} documents ({} posted)  {} units ({} posted)",
            t.flow,
            t.transaction.label(),
            t.documents,
            t.posted_documents,
            t.units,
            t.posted_units
        );
        if !t.value.is_empty() {
            println!(
                "  {:<22} {:<24} value {} ({} posted)",
                "", "", t.value, t.posted_value
            );
        }
    }
}
