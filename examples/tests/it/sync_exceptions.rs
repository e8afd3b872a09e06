//! The `sync exceptions` commands against a store on disk: filters, a retry queued from the
//! command line and carried out by the engine, and the audit trail `show` prints.

use std::sync::Arc;

use crate::support::cli::*;
use std::time::Duration;

use jiff::Timestamp;
use sync_engine::engine::Engine;
use sync_engine::exceptions::RequestHandler;
use sync_engine::store::{ActionStatus, NewException, SqliteStore, Store};

/// An order held by an unknown SKU, a product creation the outbox gave up on, and a NetSuite
/// record that cannot be read.
async fn seed(store: &Arc<dyn Store>) -> (Engine, String) {
    let engine = Engine::open(store.clone(), one_location()).await.unwrap();
    let now = Timestamp::now();
    ingest_mug_and_orders(&engine, now, &[("600", "NEW", "88")]).await;
    // The outbox gave up on the product creation, as it does after a permanent refusal.
    let action = store.actions().await.unwrap()[0].action.clone();
    store
        .fail_action(&action.key, "INVALID_FLD_VALUE", false, None, now)
        .await
        .unwrap();
    let failure = NewException {
        key: format!("EX-ACTION-{}", action.key),
        kind: "action-failed".into(),
        owner: "item_master".into(),
        severity: "error".into(),
        document: action.document.clone(),
        message: format!("{} {} failed: INVALID_FLD_VALUE", action.kind, action.key),
        runbook: "operations.md#action-failed".into(),
        payload: serde_json::json!({ "action": action.key, "error": "INVALID_FLD_VALUE" }),
    };
    store.raise_exception(failure, now).await.unwrap();
    store
        .raise_exception(
            NewException {
                key: "EX-NS-INVALID-salesOrder-7".into(),
                kind: "invalid-record".into(),
                owner: "integration".into(),
                severity: "error".into(),
                document: "NetSuite salesOrder 7".into(),
                message: "NetSuite salesOrder 7 cannot be read".into(),
                runbook: "operations.md#invalid-record".into(),
                payload: serde_json::json!({}),
            },
            now,
        )
        .await
        .unwrap();
    (engine, action.key)
}

#[tokio::test]
async fn exceptions_are_filtered_retried_through_the_engine_and_audited() {
    let dir = scratch_dir("sync-exceptions");
    let config = write_config(&dir);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.join("store.sqlite")).unwrap());
    let (engine, action) = seed(&store).await;

    // Filters.
    let all = json(&sync(&config, &["exceptions", "list", "--json"]));
    assert_eq!(all.as_array().unwrap().len(), 3, "{all:#}");
    let unknown = json(&sync(
        &config,
        &["exceptions", "list", "--json", "--kind", "unknown-sku"],
    ));
    assert_eq!(unknown.as_array().unwrap().len(), 1);
    assert_eq!(unknown[0]["owner"], "item_master");
    let by_document = json(&sync(
        &config,
        &["exceptions", "list", "--json", "--document", "so 600"],
    ));
    assert_eq!(by_document.as_array().unwrap().len(), 1, "{all:#}");
    assert_eq!(by_document[0]["kind"], "unknown-sku");
    let old = stdout(&sync(
        &config,
        &["exceptions", "list", "--older-than", "1d"],
    ));
    assert!(old.contains("no exceptions match"), "{old}");
    let table = stdout(&sync(
        &config,
        &["exceptions", "list", "--owner", "integration"],
    ));
    assert!(
        table.contains("invalid-record") && !table.contains("unknown-sku"),
        "{table}"
    );

    // A retry that cannot help is refused, with the reason, and nothing is queued.
    let refused = sync(
        &config,
        &["exceptions", "retry", "EX-NS-INVALID-salesOrder-7"],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stdout).contains("cannot be retried"));
    assert!(store.open_requests().await.unwrap().is_empty());

    // Retry every failed action; the engine carries it out.
    let queued = stdout(&sync(
        &config,
        &[
            "exceptions",
            "retry",
            "--kind",
            "action-failed",
            "--note",
            "field fixed in NetSuite",
        ],
    ));
    assert!(queued.contains("1 retry queued"), "{queued}");
    let key = format!("EX-ACTION-{action}");
    let waiting = json(&sync(&config, &["exceptions", "show", &key, "--json"]));
    assert_eq!(waiting["retries"][0]["note"], "field fixed in NetSuite");
    assert!(waiting["retries"][0]["handled_at"].is_null());

    let handled = RequestHandler::new(None, Duration::from_secs(1))
        .handle(&engine)
        .await
        .unwrap();
    assert_eq!(handled.retries.len(), 1);
    assert_eq!(
        store.action(&action).await.unwrap().unwrap().status,
        ActionStatus::Pending
    );

    let shown = json(&sync(&config, &["exceptions", "show", &key, "--json"]));
    assert!(!shown["exception"]["resolved_at"].is_null(), "{shown:#}");
    let changes: Vec<&str> = shown["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["change"].as_str().unwrap())
        .collect();
    assert_eq!(
        changes,
        ["raised", "retry-requested", "resolved", "retried"]
    );
    assert!(
        shown["retries"][0]["outcome"]
            .as_str()
            .unwrap()
            .contains("back in the outbox")
    );
    let text = stdout(&sync(&config, &["exceptions", "show", &key]));
    assert!(
        text.contains("retry-requested") && text.contains("field fixed"),
        "{text}"
    );

    // Resolve with a note; the open list shrinks.
    let unknown_key = unknown[0]["key"].as_str().unwrap();
    stdout(&sync(
        &config,
        &[
            "exceptions",
            "resolve",
            unknown_key,
            "--note",
            "SKU withdrawn",
        ],
    ));
    let open = json(&sync(&config, &["exceptions", "list", "--json"]));
    assert_eq!(open.as_array().unwrap().len(), 1);
    let with_resolved = json(&sync(&config, &["exceptions", "list", "--json", "--all"]));
    assert_eq!(with_resolved.as_array().unwrap().len(), 3);
    std::fs::remove_dir_all(&dir).ok();
}

/// Outside text with terminal escapes: clear screen, a window title (OSC … BEL), a forged line
/// (CR LF) and a right-to-left override.
const HOSTILE: &str = "\x1b[2J\x1b]0;pwned\x07line\r\nFAKE \u{202e}gpj.exe\u{9b}31m";

/// Whether `text` holds a character a terminal would act on instead of showing.
fn raw_control(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

#[tokio::test]
async fn terminal_escapes_in_exceptions_are_printed_as_visible_text() {
    let dir = scratch_dir("sync-exceptions-escapes");
    let config = write_config(&dir);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.join("store.sqlite")).unwrap());
    let now = Timestamp::now();
    store
        .raise_exception(
            NewException {
                key: "EX-HOSTILE-1".into(),
                kind: "unknown-sku".into(),
                owner: "operations".into(),
                severity: "error".into(),
                document: format!("SO {HOSTILE}"),
                message: format!("SKU {HOSTILE} is unknown"),
                runbook: "operations.md#unknown-sku".into(),
                payload: serde_json::json!({ "sku": HOSTILE, "note": "\u{7f}\u{85}\u{2066}" }),
            },
            now,
        )
        .await
        .unwrap();

    let list = stdout(&sync(&config, &["exceptions", "list"]));
    let show = stdout(&sync(&config, &["exceptions", "show", "EX-HOSTILE-1"]));
    let status = stdout(&sync(&config, &["status"]));
    let period = now.strftime("%Y-%m").to_string();
    let close = sync(&config, &["close-check", "--period", &period]);
    let close = String::from_utf8(close.stdout).unwrap();
    for (command, text) in [
        ("list", &list),
        ("show", &show),
        ("status", &status),
        ("close-check", &close),
    ] {
        assert_eq!(raw_control(text), None, "`sync {command}` printed:\n{text}");
    }
    let escaped = "\\x1b[2J\\x1b]0;pwned\\x07line\\x0d\\x0aFAKE \\u{202e}gpj.exe\\u{9b}31m";
    assert!(
        list.contains(&format!("SKU {escaped} is unknown")),
        "{list}"
    );
    assert!(list.contains(&format!("SO {escaped}")), "{list}");
    assert!(
        show.contains(&format!("message:   SKU {escaped} is unknown")),
        "{show}"
    );
    // Payload values: serde_json escapes C0 itself; DEL, C1 and bidi controls are escaped here.
    assert!(show.contains("\\x7f\\u{85}\\u{2066}"), "{show}");
    assert!(close.contains(&format!("SO {escaped}")), "{close}");

    // JSON keeps the text exactly, escaped as JSON.
    let listed = json(&sync(&config, &["exceptions", "list", "--json"]));
    assert_eq!(listed[0]["message"], format!("SKU {HOSTILE} is unknown"));
    std::fs::remove_dir_all(&dir).ok();
}

/// `store = "postgres://…"`: the commands open the database through the same factory as `sync
/// run`, never show the password, and `store backup` refuses with the `pg_dump` command. The
/// listing runs against a real database in a schema of its own (named `conf_…_<nanos>` so that
/// the store conformance suite drops it once stale); when none is reachable it is skipped with a
/// line on stderr, unless `CI` is set.
#[tokio::test]
async fn exceptions_are_listed_from_a_postgres_store_whose_password_is_never_shown() {
    let dir = scratch_dir("sync-exceptions-postgres");
    let example = std::fs::read_to_string(write_config(&dir)).unwrap();
    let store_line = format!(
        "store_path = {:?}",
        dir.join("store.sqlite").display().to_string()
    );
    assert!(example.contains(&store_line));
    let configure = |name: &str, url: &str, postgres: &str| {
        let text = example
            .replace(&store_line, &format!("store = {url:?}"))
            .replacen(
                "\n[netsuite]\n",
                &format!("\n[postgres]\n{postgres}\n\n[netsuite]\n"),
                1,
            );
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };

    // No database needed: the password is never printed.
    let secret = "postgres://sync:hunter2@127.0.0.1:1/sync?sslmode=disable";
    let unreachable = configure("unreachable.toml", secret, "acquire_timeout_secs = 1");
    let backup = sync(&unreachable, &["store", "backup", "sync.dump"]);
    let stderr = String::from_utf8_lossy(&backup.stderr);
    assert_eq!(backup.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "pg_dump --format=custom --file=sync.dump \
             'postgres://sync@127.0.0.1:1/sync?sslmode=disable'"
        ),
        "{stderr}"
    );
    let list = sync(&unreachable, &["exceptions", "list"]);
    let stderr = String::from_utf8_lossy(&list.stderr);
    assert_eq!(list.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("postgres://sync:***@127.0.0.1:1/sync?sslmode=disable"),
        "{stderr}"
    );
    for output in [&backup, &list] {
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    // A real database: seeded here, listed by `sync`.
    let Some(PostgresStore { store, url, schema }) =
        postgres_store("conf_cli", 2, "the listing part").await
    else {
        std::fs::remove_dir_all(&dir).ok();
        return;
    };
    let (_engine, _action) = seed(&store).await;
    let config = configure(
        "postgres.toml",
        &url,
        &format!("schema = {schema:?}\nmax_connections = 2"),
    );
    let all = json(&sync(&config, &["exceptions", "list", "--json"]));
    assert_eq!(all.as_array().unwrap().len(), 3, "{all:#}");
    let unknown = json(&sync(
        &config,
        &["exceptions", "list", "--json", "--kind", "unknown-sku"],
    ));
    assert_eq!(unknown.as_array().unwrap().len(), 1, "{unknown:#}");
    std::fs::remove_dir_all(&dir).ok();
}
