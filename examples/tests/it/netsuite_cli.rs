//! The `netsuite` binary's keyset paging against a fake SuiteQL endpoint: a query with its own
//! `WHERE` (or `--where`) pages past the 100,000-row cap with one `WHERE`, and queries keyset
//! paging cannot page are refused before any request.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// A fake NetSuite answering SuiteQL with one row per page: every page of the first segment says
/// more rows follow (so the client reaches the 100,000-row cap and starts a second segment after
/// the last id), the second segment ends after one row. Keeps every query it was sent.
struct FakeNetSuite {
    url: String,
    queries: Arc<Mutex<Vec<String>>>,
}

impl FakeNetSuite {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let queries = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&queries);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || serve(stream, &seen));
            }
        });
        Self { url, queries }
    }

    fn queries(&self) -> Vec<String> {
        self.queries.lock().unwrap().clone()
    }
}

/// Serves the requests of one keep-alive connection.
fn serve(stream: TcpStream, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let target = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let (status, answer) = answer(&target, &body, seen);
        let text = answer.to_string();
        let reply = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{text}",
            text.len()
        );
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

fn answer(target: &str, body: &[u8], seen: &Mutex<Vec<String>>) -> (u16, Value) {
    let Some(query) = target.strip_prefix("/services/rest/query/v1/suiteql?") else {
        return (404, json!({"o:errorDetails": [{"detail": "not here"}]}));
    };
    let param = |name: &str| -> u64 {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .unwrap()
            .parse()
            .unwrap()
    };
    let (limit, offset) = (param("limit"), param("offset"));
    let q = serde_json::from_slice::<Value>(body).unwrap()["q"]
        .as_str()
        .unwrap()
        .to_owned();
    seen.lock().unwrap().push(q.clone());
    if offset + limit > 100_000 {
        return (
            400,
            json!({"o:errorDetails": [{"detail": "offset beyond the row cap", "o:errorCode": "INVALID_PARAMETER"}]}),
        );
    }
    let second_segment = q.contains(" > ");
    let id = if second_segment {
        1_000_000
    } else {
        offset / limit + 1
    };
    (
        200,
        json!({
            "hasMore": !second_segment,
            "totalResults": if second_segment { 1 } else { 150_000 },
            "items": [{"links": [], "id": id.to_string(), "itemid": format!("SKU-{id}")}],
        }),
    )
}

/// The `netsuite` command against `server`, with a bearer token.
fn command(server: &FakeNetSuite, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_netsuite"));
    command
        .args(args)
        .env_remove("NETSUITE_CONCURRENCY")
        .env("NETSUITE_ACCOUNT_ID", "1234567")
        .env("NETSUITE_BASE_URL", &server.url)
        .env("NETSUITE_ALLOW_HTTP", "1")
        .env("NETSUITE_AUTH", "bearer")
        .env("NETSUITE_ACCESS_TOKEN", "test-token")
        .env("RUST_LOG", "error");
    command
}

/// Runs `netsuite` with a configured pool (no governanceLimits read).
fn netsuite(server: &FakeNetSuite, args: &[&str]) -> Output {
    command(server, args)
        .env("NETSUITE_CONCURRENCY", "4")
        .output()
        .unwrap()
}

fn printed_ids(output: &Output) -> Vec<u64> {
    assert!(
        output.status.success(),
        "netsuite failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let row: Value = serde_json::from_str(line).unwrap();
            assert!(row.get("links").is_none(), "{row}");
            row["id"].as_str().unwrap().parse().unwrap()
        })
        .collect()
}

/// Runs `suiteql --keyset id` with `rest` against a fresh fake NetSuite, checks that every item
/// id (the 100 of the first segment, then the one of the second) is printed once, in order, and
/// returns the fake for its queries.
fn keyset_paged(rest: &[&str]) -> FakeNetSuite {
    let server = FakeNetSuite::start();
    let args: Vec<&str> = ["suiteql", "--keyset", "id"]
        .iter()
        .chain(rest)
        .copied()
        .collect();
    let ids = printed_ids(&netsuite(&server, &args));
    assert_eq!(ids, (1..=100).chain([1_000_000]).collect::<Vec<u64>>());
    server
}

/// The query of the second keyset segment, after id 100.
const SECOND_SEGMENT: &str =
    "SELECT id, itemid FROM item WHERE (itemid LIKE 'SKU-%') AND id > 100 ORDER BY id";

#[test]
fn keyset_paging_keeps_the_query_s_own_where_across_segments() {
    let server = keyset_paged(&["SELECT id, itemid FROM item WHERE itemid LIKE 'SKU-%'"]);
    let queries = server.queries();
    assert_eq!(queries.len(), 101, "100 pages, then the second segment");
    assert!(
        queries[..100]
            .iter()
            .all(|q| q == "SELECT id, itemid FROM item WHERE (itemid LIKE 'SKU-%') ORDER BY id")
    );
    assert_eq!(queries[100], SECOND_SEGMENT);
}

#[test]
fn keyset_paging_takes_the_condition_from_where() {
    let server = keyset_paged(&[
        "--where",
        "itemid LIKE 'SKU-%'",
        "SELECT id, itemid FROM item",
    ]);
    assert_eq!(server.queries().last().unwrap(), SECOND_SEGMENT);
}

#[test]
fn queries_keyset_paging_cannot_page_are_refused_before_any_request() {
    let server = FakeNetSuite::start();
    for (args, says) in [
        (
            vec![
                "suiteql",
                "--keyset",
                "id",
                "SELECT id FROM item ORDER BY id",
            ],
            "remove the query's own ORDER BY",
        ),
        (
            vec![
                "suiteql",
                "--keyset",
                "id",
                "--where",
                "isinactive = 'F'",
                "SELECT id FROM item WHERE itemid LIKE 'SKU-%'",
            ],
            "has its own WHERE and a filter was given too",
        ),
        (
            vec![
                "suiteql",
                "--keyset",
                "id",
                "SELECT item, COUNT(*) FROM t GROUP BY item",
            ],
            "GROUP BY",
        ),
    ] {
        let output = netsuite(&server, &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert!(server.queries().is_empty(), "{:?}", server.queries());
}

#[test]
fn unreadable_limits_leave_a_note_and_a_plain_query_stops_at_the_cap_naming_keyset() {
    let server = FakeNetSuite::start();
    // No NETSUITE_CONCURRENCY: the pool is sized from governanceLimits, which answer 404 here.
    let output = command(&server, &["suiteql", "SELECT id, itemid FROM item"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("note: governanceLimits could not be read")
            && stderr.contains("using 5 requests in flight"),
        "{stderr}"
    );
    assert!(!output.status.success());
    assert!(
        stderr.contains("100000-row cap") && stderr.contains("--keyset <column>"),
        "{stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 100);
}
