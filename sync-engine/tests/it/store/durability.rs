//! What survives a restart: the store is closed and opened again (a SQLite file reopened, a new
//! pool on the same PostgreSQL schema, migrations found already applied), and everything
//! written before is there. The SQLite file's own properties are tested in [`sqlite_only`].

use serde_json::json;
use sync_engine::store::NewDelivery;

use crate::store::drift::{row, run};
use crate::support::store::{Reopen, action, commit, t};

conformance_reopen!(
    state_survives_a_restart,
    the_drift_history_survives_a_restart,
);

async fn state_survives_a_restart(reopen: Reopen) {
    let id = {
        let store = reopen.open().await;
        store
            .commit_plan(commit("e1", vec![action("A1", "SO-1", t(0))]))
            .await
            .unwrap();
        store
            .set_watermark("netsuite.salesOrder", "2026-11-01T00:00:00Z")
            .await
            .unwrap();
        let id = store
            .record_delivery(NewDelivery {
                source: "clarus-webhook".into(),
                received_at: t(0),
                headers: json!({"x-clarus-wms-automation-id": "9"}),
                body: b"{\"data\":{}}".to_vec(),
            })
            .await
            .unwrap();
        assert_eq!(
            store.unprocessed_deliveries(t(0), 10).await.unwrap()[0].id,
            id
        );
        id
    };
    let store = reopen.open().await;
    assert!(store.event_seen("e1").await.unwrap());
    assert_eq!(
        store.state_log().await.unwrap(),
        vec![json!({"change": "e1"})]
    );
    assert_eq!(store.actions().await.unwrap()[0].action.key, "A1");
    let mark = store.watermark("netsuite.salesOrder").await.unwrap();
    assert_eq!(mark.as_deref(), Some("2026-11-01T00:00:00Z"));
    let pending = store.unprocessed_deliveries(t(0), 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, id);
    assert_eq!(pending[0].delivery.body, b"{\"data\":{}}");
    store
        .mark_delivery_processed(pending[0].id, None, t(0))
        .await
        .unwrap();
    let pending = store.unprocessed_deliveries(t(0), 10).await.unwrap();
    assert!(pending.is_empty());
    // Ids keep increasing after the restart.
    let next = store
        .record_delivery(NewDelivery {
            source: "clarus-webhook".into(),
            received_at: t(1),
            headers: json!({}),
            body: Vec::new(),
        })
        .await
        .unwrap();
    assert!(next > id);
}

async fn the_drift_history_survives_a_restart(reopen: Reopen) {
    {
        let store = reopen.open().await;
        store
            .record_drift_run(run(t(0), 1, vec![row("A", "drift", 1)]))
            .await
            .unwrap();
    }
    let store = reopen.open().await;
    let runs = store.drift_runs(None, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(store.drift_run_rows(runs[0].id).await.unwrap().len(), 1);
}

/// Properties of the SQLite file itself: SQLite only.
mod sqlite_only {
    use serde_json::json;
    use sync_engine::store::{NewDelivery, SqliteStore};

    use crate::support::store::{t, temp_dir};

    /// The store holds business data and webhook bodies: its file, WAL and shared-memory file
    /// are readable by their owner only, whatever the umask.
    #[cfg(unix)]
    #[tokio::test]
    async fn the_store_files_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt;

        let dir = temp_dir("mode");
        let path = dir.join("state.sqlite");
        let mode = |suffix: &str| {
            let file = dir.join(format!("state.sqlite{suffix}"));
            std::fs::metadata(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
                .permissions()
                .mode()
                & 0o777
        };
        let store = SqliteStore::open(&path).unwrap();
        store
            .record_delivery(NewDelivery {
                source: "clarus-webhook".into(),
                received_at: t(0),
                headers: json!({}),
                body: b"{\"data\":{}}".to_vec(),
            })
            .await
            .unwrap();
        // While the store is open in WAL mode, SQLite keeps the -wal and -shm files next to it.
        for suffix in ["", "-wal", "-shm"] {
            assert_eq!(mode(suffix), 0o600, "state.sqlite{suffix}");
        }
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
