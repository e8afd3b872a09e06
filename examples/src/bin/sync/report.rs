//! `sync report`: the operations report as one self-contained HTML page (and JSON).

use std::path::PathBuf;

use clap::Args;
use examples::report::write_operations_report;
use jiff::Timestamp;
use sync_engine::config::Config;
use sync_engine::report::DriftInput;
use sync_engine::report::html::{HtmlOptions, check_guide_url};

use crate::BoxError;

/// Reconciliation runs the drift trend shows (about a week at the default hourly schedule).
const DRIFT_RUNS: usize = 168;

/// Options of `sync report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Where to write the HTML page (one file, opens without network).
    #[arg(long)]
    out: PathBuf,
    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The operations guide the runbook links point at, relative to where the page is opened,
    /// or an http(s) or file URL; other schemes (javascript:, data:) are refused.
    #[arg(long, default_value = "docs/operations.md")]
    guide_url: String,
}

/// Builds the report from the store now and writes it.
pub async fn run(config: &Config, args: ReportArgs) -> Result<(), BoxError> {
    check_guide_url(&args.guide_url).map_err(|e| format!("--guide-url: {e}"))?;
    let store = crate::open_configured_store(config).await?;
    let drift = DriftInput::from_history(&*store, DRIFT_RUNS).await?;
    let report = write_operations_report(
        &*store,
        drift,
        Timestamp::now(),
        &args.out,
        args.json.as_deref(),
        &HtmlOptions {
            guide_url: args.guide_url,
            ..HtmlOptions::default()
        },
    )
    .await?;
    println!(
        "operations report: {} ({} open exceptions, {} pending actions)",
        args.out.display(),
        report.exceptions.open,
        report.backlog.pending_actions
    );
    if let Some(json) = &args.json {
        println!("JSON: {}", json.display());
    }
    Ok(())
}
