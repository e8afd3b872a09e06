//! `netsuite`: a small command-line tool over the NetSuite client.
//!
//! ```text
//! netsuite suiteql "SELECT id, itemid FROM item WHERE isinactive = 'F' ORDER BY id"
//! netsuite suiteql --keyset id "SELECT id, itemid FROM item"      # past the 100,000-row cap
//! netsuite suiteql --keyset id "SELECT id, itemid FROM item WHERE itemid LIKE 'SKU-%'"
//! netsuite suiteql --keyset id --where "itemid LIKE 'SKU-%'" "SELECT id, itemid FROM item"
//! netsuite get salesOrder eid:SO-1001 --expand
//! netsuite get inventoryItem 501 --fields itemId,displayName
//! netsuite transform salesOrder 1234 itemFulfillment --body fulfil.json
//! netsuite transform returnAuthorization 77 itemReceipt --body - --async CLR-RET-acme-5
//! netsuite limits
//! ```
//!
//! `suiteql` prints one JSON object per line (rows as NetSuite sends them, without `links`).
//! With `--keyset <column>` it pages by that unique integer column (`… WHERE (<condition>) AND
//! <column> > <last> ORDER BY <column>`), so it reads past the 100,000-row cap: the condition
//! is `--where`, or the query's own trailing `WHERE`. A query with its own `ORDER BY` (rows come
//! back ordered by the key), `GROUP BY`, `UNION` or `FETCH`, or with both its own `WHERE` and
//! `--where`, is refused before anything is sent.
//!
//! Connection settings come from the environment: `NETSUITE_ACCOUNT_ID` (required, e.g.
//! `1234567_SB1`), `NETSUITE_BASE_URL` (optional override, e.g. a simulator),
//! `NETSUITE_ALLOW_HTTP=1` (accept a plain-http override), `NETSUITE_CONCURRENCY` (pool size;
//! otherwise read from `governanceLimits` before the first request, falling back to 5 with a
//! note when the role may not read them), and the credentials read by
//! `netsuite_client::auth::AuthSettings::from_env` (`NETSUITE_AUTH`, `NETSUITE_CLIENT_ID`,
//! `NETSUITE_CERTIFICATE_ID`, `NETSUITE_PRIVATE_KEY_FILE`, … or the TBA variables).
//! `RUST_LOG=netsuite_client=debug` shows retries and pool changes on stderr.

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use futures_util::StreamExt;
use netsuite_client::account::{AccountId, AllowHttp, Endpoint};
use netsuite_client::auth::AuthSettings;
use netsuite_client::suiteql::{Keyset, Query, StreamOptions};
use netsuite_client::{IdempotencyKey, NetSuiteClient, PoolSizing, RecordKey, RecordType};

#[derive(Parser)]
#[command(
    name = "netsuite",
    about = "Query and change records in NetSuite over REST"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a SuiteQL query and prints every row as a JSON line.
    Suiteql {
        /// The query.
        query: String,
        /// Page past the 100,000-row cap by this unique integer column: the key condition and
        /// `ORDER BY <column>` are added, so the query must not have its own ORDER BY. A
        /// trailing `WHERE <condition>` of the query is kept as the filter.
        #[arg(long)]
        keyset: Option<String>,
        /// The condition of a keyset query (combined with the key condition by AND); the query
        /// is then given up to (not including) WHERE.
        #[arg(long = "where", value_name = "CONDITION", requires = "keyset")]
        condition: Option<String>,
        /// Rows per page (1 to 1000).
        #[arg(long, default_value_t = 1000)]
        page_size: u32,
    },
    /// Reads one record and prints it as JSON.
    Get {
        /// Record type, e.g. salesOrder.
        record_type: String,
        /// Internal id or eid:<external id>.
        id: String,
        /// Inline sublists and subrecords.
        #[arg(long)]
        expand: bool,
        /// Only these fields (comma-separated).
        #[arg(long, value_delimiter = ',')]
        fields: Vec<String>,
    },
    /// Transforms a record (e.g. salesOrder → itemFulfillment) with a JSON body.
    Transform {
        /// Source record type.
        source_type: String,
        /// Source internal id or eid:<external id>.
        id: String,
        /// Target record type.
        target_type: String,
        /// File with the JSON body, or `-` for standard input.
        #[arg(long)]
        body: String,
        /// Submit asynchronously; the idempotency key is derived from this name.
        #[arg(long = "async", value_name = "NAME")]
        async_name: Option<String>,
    },
    /// Prints the account's concurrency limits (governanceLimits; administrator role).
    Limits,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

async fn connect(size_pool: bool) -> Result<NetSuiteClient, String> {
    let account: AccountId = env("NETSUITE_ACCOUNT_ID")
        .ok_or("set NETSUITE_ACCOUNT_ID (e.g. 1234567_SB1)")?
        .parse()
        .map_err(|e| format!("NETSUITE_ACCOUNT_ID: {e}"))?;
    let endpoint = match env("NETSUITE_BASE_URL") {
        Some(url) => {
            let allow = if env("NETSUITE_ALLOW_HTTP").is_some_and(|v| v == "1" || v == "true") {
                AllowHttp::Yes
            } else {
                AllowHttp::No
            };
            Endpoint::new(&url, allow).map_err(|e| format!("NETSUITE_BASE_URL: {e}"))?
        }
        None => account.endpoint(),
    };
    let auth = AuthSettings::from_env()
        .and_then(|s| s.build(&account, &endpoint))
        .map_err(|e| e.to_string())?;
    let mut builder = NetSuiteClient::builder(auth).endpoint(endpoint);
    let configured = env("NETSUITE_CONCURRENCY")
        .map(|v| v.parse::<usize>())
        .transpose()
        .map_err(|e| format!("NETSUITE_CONCURRENCY: {e}"))?;
    if let Some(n) = configured {
        builder = builder.concurrency_limit(n);
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    // Without NETSUITE_CONCURRENCY the client sizes its pool from governanceLimits before its
    // first request; say so when it could not.
    if size_pool && let PoolSizing::Default { reason } = client.ensure_pool_sized().await {
        eprintln!(
            "note: {reason}; using {} requests in flight (set NETSUITE_CONCURRENCY)",
            client.concurrency_budget().limit()
        );
    }
    Ok(client)
}

fn print_json(value: &serde_json::Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Suiteql {
            query,
            keyset,
            condition,
            page_size,
        } => {
            // Checked before connecting: a query keyset paging cannot page sends nothing.
            let keyset = match (keyset, condition) {
                (None, _) => None,
                (Some(key), Some(condition)) => {
                    Some(Keyset::new(query.as_str(), key).filter(Query::new(condition)))
                }
                (Some(key), None) => {
                    Some(Keyset::parse(&query, key).map_err(|e| format!("--keyset: {e}"))?)
                }
            };
            if let Some(keyset) = &keyset {
                keyset
                    .segment_query(None)
                    .map_err(|e| format!("--keyset: {e}"))?;
            }
            let client = connect(true).await?;
            let options = StreamOptions {
                page_size,
                ..StreamOptions::default()
            };
            type Row = serde_json::Map<String, serde_json::Value>;
            let mut rows = match keyset {
                None => client.suiteql::<Row>(query, options),
                Some(keyset) => {
                    let key = keyset.key();
                    let column = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
                    client.suiteql_keyset::<Row, _>(
                        keyset,
                        move |row| {
                            row.get(&column)
                                .and_then(|v| match v {
                                    serde_json::Value::String(s) => s.parse().ok(),
                                    other => other.as_i64(),
                                })
                                .unwrap_or(i64::MIN)
                        },
                        options,
                    )
                }
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            while let Some(row) = rows.next().await {
                let mut row = row.map_err(|e| e.to_string())?;
                row.remove("links");
                serde_json::to_writer(&mut out, &row).map_err(|e| e.to_string())?;
                out.write_all(b"\n").map_err(|e| e.to_string())?;
            }
            out.flush().map_err(|e| e.to_string())?;
        }
        Command::Get {
            record_type,
            id,
            expand,
            fields,
        } => {
            let record_type = RecordType::new(record_type).map_err(|e| e.to_string())?;
            let key = RecordKey::parse(&id).map_err(|e| e.to_string())?;
            let client = connect(true).await?;
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            let mut get = client
                .get_as::<serde_json::Value>(record_type, key)
                .expand_sub_resources(expand);
            if !fields.is_empty() {
                get = get.fields(&fields);
            }
            print_json(&get.send().await.map_err(|e| e.to_string())?)?;
        }
        Command::Transform {
            source_type,
            id,
            target_type,
            body,
            async_name,
        } => {
            let source = RecordType::new(source_type).map_err(|e| e.to_string())?;
            let target = RecordType::new(target_type).map_err(|e| e.to_string())?;
            let key = RecordKey::parse(&id).map_err(|e| e.to_string())?;
            let text = if body == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map_err(|e| e.to_string())?;
                s
            } else {
                std::fs::read_to_string(&body).map_err(|e| format!("{body}: {e}"))?
            };
            let json: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("body is not JSON: {e}"))?;
            let client = connect(true).await?;
            let transform = client.transform(source, key, target, &json);
            match async_name {
                None => {
                    let new_id = transform.send().await.map_err(|e| e.to_string())?;
                    print_json(&serde_json::json!({ "id": new_id.as_str() }))?;
                }
                Some(name) => {
                    let key = IdempotencyKey::derive(&name);
                    let job = transform
                        .send_async(&key)
                        .await
                        .map_err(|e| e.to_string())?;
                    let tasks = client
                        .wait_for_job(&job, Default::default())
                        .await
                        .map_err(|e| e.to_string())?;
                    for t in tasks {
                        let outcome = match &t.result {
                            Ok(r) => serde_json::json!({
                                "task": t.task_id, "progress": t.progress,
                                "id": r.record_id.as_ref().map(|i| i.as_str()), "body": r.body,
                            }),
                            Err(api) => serde_json::json!({
                                "task": t.task_id, "progress": t.progress, "error": api.to_string(),
                            }),
                        };
                        print_json(&outcome)?;
                    }
                }
            }
        }
        Command::Limits => {
            let client = connect(false).await?;
            let limits = client
                .governance_limits()
                .await
                .map_err(|e| e.to_string())?;
            print_json(&serde_json::json!({
                "accountConcurrencyLimit": limits.account_concurrency_limit,
                "accountUnallocatedConcurrencyLimit": limits.account_unallocated_concurrency_limit,
                "integrationConcurrencyLimit": limits.integration_concurrency_limit,
                "integrationLimitType": limits.integration_limit_type,
                "effectiveLimit": limits.effective_limit(),
            }))?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
