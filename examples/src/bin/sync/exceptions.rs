//! `sync exceptions list|show|retry|resolve`: the exception queue from the command line.
//!
//! These commands work on the store, so they run beside the engine. A retry is queued for the
//! running engine, which carries it out with its own clients within a few seconds (or at its
//! next start) and records the outcome in the audit trail; `show` prints it.
//!
//! Text output shows outside text (messages, documents, notes, payload values) through
//! [`printable`], so control characters in them reach the terminal as visible escapes; `--json`
//! leaves escaping to JSON.

use clap::{Args, Subcommand};
use jiff::{SignedDuration, Span, SpanRelativeTo, Timestamp};
use serde_json::{Value, json};
use sync_engine::config::Config;
use sync_engine::exceptions::{ExceptionFilter, RetryError, request_retry};
use sync_engine::monitor::lifecycles;
use sync_engine::store::{Store, StoredException};
use sync_engine::text::printable;

use crate::BoxError;

/// Lists, shows, retries or resolves exceptions.
#[derive(Debug, Subcommand)]
pub enum ExceptionCommand {
    /// Lists exceptions (open ones unless --all), oldest first.
    List(ListArgs),
    /// Shows one exception: its details, payload, audit trail, retries and the document's stages.
    Show {
        /// The exception's key.
        key: String,
        /// Print JSON for machines instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Asks the running engine to retry one exception, or every open exception of a kind. A
    /// drift exception is retried by reading both systems' stock again, never by replaying
    /// the figures it was raised with.
    Retry {
        /// The exception's key.
        #[arg(required_unless_present = "kind", conflicts_with = "kind")]
        key: Option<String>,
        /// Retry every open exception of this kind instead (e.g. `action-failed`).
        #[arg(long)]
        kind: Option<String>,
        /// Why (kept in the audit trail).
        #[arg(long)]
        note: Option<String>,
    },
    /// Resolves an exception with a note (kept in the audit trail).
    Resolve {
        /// The exception's key.
        key: String,
        /// Why it is resolved.
        #[arg(long)]
        note: String,
    },
}

/// Filters of `sync exceptions list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this owner: operations, finance, item_master or integration.
    #[arg(long)]
    owner: Option<String>,
    /// Only this kind, e.g. unknown-sku or action-failed.
    #[arg(long)]
    kind: Option<String>,
    /// Only exceptions whose document or key contains this text (case-insensitive), e.g. SO1001.
    #[arg(long)]
    document: Option<String>,
    /// Only exceptions raised at least this long ago, e.g. 2h, 1d, 1w.
    #[arg(long, value_parser = parse_age)]
    older_than: Option<SignedDuration>,
    /// Only exceptions raised at most this long ago, e.g. 30m.
    #[arg(long, value_parser = parse_age)]
    newer_than: Option<SignedDuration>,
    /// Include resolved exceptions.
    #[arg(long)]
    all: bool,
    /// Print JSON for machines instead of a table.
    #[arg(long)]
    json: bool,
}

/// An age such as `90m`, `2h`, `1d` or `1w` (a day is 24 hours).
fn parse_age(text: &str) -> Result<SignedDuration, String> {
    let span: Span = text
        .parse()
        .map_err(|e| format!("`{text}` is not an age like 2h, 1d or 1w: {e}"))?;
    let age = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|e| format!("`{text}`: {e}"))?;
    if age.is_negative() {
        return Err(format!("`{text}`: an age cannot be negative"));
    }
    Ok(age)
}

/// Runs one `sync exceptions` command.
pub async fn run(config: &Config, command: ExceptionCommand) -> Result<(), BoxError> {
    let store = crate::open_configured_store(config).await?;
    let now = Timestamp::now();
    match command {
        ExceptionCommand::List(args) => list(&*store, args, now).await,
        ExceptionCommand::Show { key, json } => show(&*store, &key, json, now).await,
        ExceptionCommand::Retry { key, kind, note } => {
            retry(&*store, key, kind, note.as_deref(), now).await
        }
        ExceptionCommand::Resolve { key, note } => {
            store.resolve_exception(&key, &note, now).await?;
            println!(
                "resolved {}; a running engine applies it within seconds",
                printable(&key)
            );
            Ok(())
        }
    }
}

async fn list(store: &dyn Store, args: ListArgs, now: Timestamp) -> Result<(), BoxError> {
    let filter = ExceptionFilter {
        owner: args.owner,
        kind: args.kind,
        document: args.document,
        older_than: args.older_than,
        newer_than: args.newer_than,
        include_resolved: args.all,
    };
    let matching: Vec<StoredException> = store
        .exceptions()
        .await?
        .into_iter()
        .filter(|e| filter.matches(e, now))
        .collect();
    if args.json {
        let rows: Vec<Value> = matching.iter().map(|e| summary(e, now)).collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if matching.is_empty() {
        println!("no exceptions match");
        return Ok(());
    }
    println!(
        "{:<8} {:<12} {:<28} {:<9} DOCUMENT",
        "AGE", "OWNER", "KIND", "STATE"
    );
    for e in &matching {
        println!(
            "{:<8} {:<12} {:<28} {:<9} {}",
            age(now.duration_since(e.raised_at)),
            printable(&e.exception.owner),
            printable(&e.exception.kind),
            if e.resolved_at.is_some() {
                "resolved"
            } else {
                "OPEN"
            },
            printable(&e.exception.document)
        );
        println!("         {}", printable(&e.exception.message));
        println!(
            "         key: {}   runbook: docs/{}",
            printable(&e.exception.key),
            printable(&e.exception.runbook)
        );
    }
    println!("{} exception(s)", matching.len());
    Ok(())
}

async fn show(store: &dyn Store, key: &str, json: bool, now: Timestamp) -> Result<(), BoxError> {
    let Some(e) = store.exception(key).await? else {
        return Err(format!("exception `{key}` not found").into());
    };
    let audit = store.exception_audit(key).await?;
    let requests = store.requests_for(key).await?;
    let lifecycle = lifecycles(store)
        .await?
        .into_iter()
        .find(|l| l.document.to_string() == e.exception.document);
    if json {
        let report = json!({
            "exception": summary(&e, now),
            "payload": e.exception.payload,
            "audit": audit.iter().map(|a| json!({
                "at": a.at, "change": a.change, "note": a.note,
            })).collect::<Vec<_>>(),
            "retries": requests.iter().map(|r| json!({
                "requested_at": r.requested_at, "note": r.note,
                "handled_at": r.handled_at, "outcome": r.outcome,
            })).collect::<Vec<_>>(),
            "lifecycle": lifecycle,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let x = &e.exception;
    println!(
        "{}  [{}]",
        printable(&x.key),
        if e.resolved_at.is_some() {
            "resolved"
        } else {
            "OPEN"
        }
    );
    println!(
        "  kind:      {} ({})",
        printable(&x.kind),
        printable(&x.severity)
    );
    println!("  owner:     {}", printable(&x.owner));
    println!("  document:  {}", printable(&x.document));
    println!(
        "  raised:    {} ({} ago)",
        e.raised_at,
        age(now.duration_since(e.raised_at))
    );
    if let Some(at) = e.resolved_at {
        println!(
            "  resolved:  {at}: {}",
            printable(e.resolution_note.as_deref().unwrap_or(""))
        );
    }
    println!("  message:   {}", printable(&x.message));
    println!("  runbook:   docs/{}", printable(&x.runbook));
    // JSON escapes C0 controls in strings, but not DEL, C1 or bidi controls.
    println!(
        "  payload:   {}",
        printable(&serde_json::to_string(&x.payload)?)
    );
    println!("audit trail:");
    for a in &audit {
        println!(
            "  {}  {:<16} {}",
            a.at,
            printable(&a.change),
            printable(a.note.as_deref().unwrap_or(""))
        );
    }
    if requests.iter().any(|r| r.handled_at.is_none()) {
        println!("a retry is waiting for the running engine");
    }
    if let Some(l) = lifecycle {
        println!("document stages ({}):", l.flow.code());
        for mark in &l.stages {
            println!("  {}  {}", mark.at, mark.stage.code());
        }
    }
    Ok(())
}

async fn retry(
    store: &dyn Store,
    key: Option<String>,
    kind: Option<String>,
    note: Option<&str>,
    now: Timestamp,
) -> Result<(), BoxError> {
    let keys: Vec<String> = match (key, kind) {
        (Some(key), _) => vec![key],
        (None, Some(kind)) => store
            .open_exceptions()
            .await?
            .into_iter()
            .filter(|e| e.exception.kind == kind)
            .map(|e| e.exception.key)
            .collect(),
        (None, None) => return Err("name an exception key or --kind".into()),
    };
    if keys.is_empty() {
        println!("no open exceptions of that kind");
        return Ok(());
    }
    let mut refused = 0;
    for key in &keys {
        match request_retry(store, key, note, now).await {
            Ok(way) => println!(
                "{}: retry queued ({})",
                printable(key),
                serde_json::to_value(&way)?["way"]
            ),
            Err(
                e @ (RetryError::NotFound(_)
                | RetryError::Resolved(_)
                | RetryError::NotRetryable { .. }),
            ) => {
                refused += 1;
                println!("{}: {}", printable(key), printable(&e.to_string()));
            }
            Err(e) => return Err(e.into()),
        }
    }
    println!(
        "{} retr{} queued; the running engine carries them out within seconds \
         (see `sync exceptions show <KEY>` for the outcome)",
        keys.len() - refused,
        if keys.len() - refused == 1 {
            "y"
        } else {
            "ies"
        }
    );
    if refused == keys.len() {
        return Err("no retry could be queued".into());
    }
    Ok(())
}

fn summary(e: &StoredException, now: Timestamp) -> Value {
    let x = &e.exception;
    json!({
        "key": x.key,
        "kind": x.kind,
        "owner": x.owner,
        "severity": x.severity,
        "document": x.document,
        "message": x.message,
        "runbook": x.runbook,
        "raised_at": e.raised_at,
        "age_seconds": now.duration_since(e.raised_at).as_secs(),
        "resolved_at": e.resolved_at,
        "resolution_note": e.resolution_note,
    })
}

/// A short age for tables: `45s`, `12m`, `5h`, `3d`.
fn age(d: SignedDuration) -> String {
    let secs = d.as_secs().max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3_600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3_600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_parse_with_days_as_24_hours() {
        assert_eq!(parse_age("2h").unwrap(), SignedDuration::from_hours(2));
        assert_eq!(parse_age("1d").unwrap(), SignedDuration::from_hours(24));
        assert_eq!(parse_age("1w").unwrap(), SignedDuration::from_hours(168));
        assert!(parse_age("-1h").is_err());
        assert!(parse_age("soon").is_err());
    }

    #[test]
    fn ages_print_in_their_largest_unit() {
        assert_eq!(age(SignedDuration::from_secs(59)), "59s");
        assert_eq!(age(SignedDuration::from_mins(90)), "1h");
        assert_eq!(age(SignedDuration::from_hours(49)), "2d");
    }
}
