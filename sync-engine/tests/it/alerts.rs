//! Alerts against a local HTTP receiver and a local SMTP sink: routing by owner, grouping,
//! throttling, retries and a dead receiver that must not block.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sync_core::{MappingTables, Mappings};
use sync_engine::alerts::{
    Alert, AlertSettingsError, AlertSink, Alerter, AlerterSettings, AlertsSettings, DeliveryError,
    EmailSecurity, EmailSink, EmailSinkConfig, Routes, STATE_WATERMARK, WebhookSink,
};
use sync_engine::engine::Engine;
use sync_engine::service::Scheduled;
use sync_engine::store::{NewException, SqliteStore};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// An HTTP receiver recording every body; the first `fail_first` requests get a 500.
#[derive(Clone)]
struct Receiver {
    url: url::Url,
    bodies: Arc<Mutex<Vec<Value>>>,
    requests: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(AtomicUsize::new(0));
        let app = {
            let bodies = bodies.clone();
            let requests = requests.clone();
            axum::Router::new().route(
                "/hook/{token}",
                axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                    let bodies = bodies.clone();
                    let requests = requests.clone();
                    async move {
                        if requests.fetch_add(1, Ordering::SeqCst) < fail_first {
                            return (StatusCode::INTERNAL_SERVER_ERROR, "receiver down");
                        }
                        bodies.lock().unwrap().push(body);
                        (StatusCode::OK, "ok")
                    }
                }),
            )
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url: format!("http://{addr}/hook/SECRET-TOKEN").parse().unwrap(),
            bodies,
            requests,
        }
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    fn sink(&self, name: &str) -> Arc<WebhookSink> {
        Arc::new(WebhookSink::new(name, self.url.clone(), Duration::from_secs(5)).unwrap())
    }
}

/// One message received by the SMTP sink.
#[derive(Debug, Clone)]
struct Mail {
    from: String,
    to: Vec<String>,
    data: String,
}

/// A minimal SMTP server: enough of RFC 5321 for a client sending one message per connection.
/// Written by hand because the test needs only a recording endpoint, not a mail server.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let mails = Arc::new(Mutex::new(Vec::new()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let recorded = mails.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let mails = recorded.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write
                    .write_all(b"220 localhost ESMTP test\r\n")
                    .await
                    .unwrap();
                let mut mail = Mail {
                    from: String::new(),
                    to: Vec::new(),
                    data: String::new(),
                };
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 localhost\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        mail.from = line[10..].trim().to_owned();
                        b"250 ok\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        mail.to.push(line[8..].trim().to_owned());
                        b"250 ok\r\n"
                    } else if upper == "DATA" {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        while let Ok(Some(data)) = lines.next_line().await {
                            if data == "." {
                                break;
                            }
                            mail.data.push_str(&data);
                            mail.data.push('\n');
                        }
                        mails.lock().unwrap().push(mail.clone());
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else if upper == "RSET" || upper == "NOOP" {
                        b"250 ok\r\n"
                    } else {
                        b"502 not implemented\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, mails)
}

fn email_sink(name: &str, port: u16, to: &[&str]) -> Arc<EmailSink> {
    Arc::new(
        EmailSink::new(
            name,
            EmailSinkConfig {
                host: "127.0.0.1".into(),
                port,
                security: EmailSecurity::None,
                credentials: None,
                from: "Sync alerts <sync@example.com>".into(),
                to: to.iter().map(|s| s.to_string()).collect(),
                timeout: Duration::from_secs(5),
            },
        )
        .unwrap(),
    )
}

fn settings() -> AlerterSettings {
    AlerterSettings {
        throttle: Duration::from_secs(600),
        retry_base: Duration::from_secs(30),
        retry_max: Duration::from_secs(300),
        delivery_timeout: Duration::from_secs(5),
        ..AlerterSettings::default()
    }
}

fn t0() -> Timestamp {
    "2026-11-27T09:00:00Z".parse().unwrap()
}

fn at(seconds: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(seconds)
}

fn exception(key: &str, owner: &str, kind: &str) -> NewException {
    NewException {
        key: key.into(),
        kind: kind.into(),
        owner: owner.into(),
        severity: "error".into(),
        document: format!("doc-{key}"),
        message: format!("problem with {key}"),
        runbook: format!("operations.md#{kind}"),
        payload: json!({"key": key}),
    }
}

fn store() -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open_in_memory().unwrap())
}

#[tokio::test]
async fn alerts_go_to_the_sinks_of_their_owner() {
    let receiver = Receiver::start(0).await;
    let (smtp_port, mails) = smtp_sink().await;
    let routes = Routes::new()
        .route("operations", receiver.sink("ops-chat"))
        .route(
            "finance",
            email_sink(
                "finance-mail",
                smtp_port,
                &["ap@example.com", "controller@example.com"],
            ),
        );
    let alerter = Alerter::new(routes, settings());
    let store = store();
    store
        .raise_exception(exception("sku-1", "operations", "unknown-sku"), at(0))
        .await
        .unwrap();
    store
        .raise_exception(exception("inv-9", "finance", "invoice-mismatch"), at(1))
        .await
        .unwrap();
    store
        .raise_exception(exception("map-3", "item_master", "missing-mapping"), at(2))
        .await
        .unwrap();

    let run = alerter.run_at(store.as_ref(), at(5)).await;
    assert_eq!(run.new_exceptions, 3);
    assert_eq!(run.delivered, 2);
    assert_eq!(run.unrouted, 1);

    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let text = bodies[0]["text"].as_str().unwrap();
    assert!(
        text.contains("[operations] 1 new unknown-sku exception"),
        "{text}"
    );
    assert!(text.contains("doc-sku-1: problem with sku-1"), "{text}");
    assert!(!text.contains("invoice-mismatch"));
    let blocks = bodies[0]["blocks"].as_array().unwrap();
    assert!(!blocks.is_empty());
    for block in blocks {
        assert_eq!(block["type"], "section");
        assert_eq!(block["text"]["type"], "mrkdwn");
    }

    let mails = mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].from, "<sync@example.com>");
    assert_eq!(
        mails[0].to,
        vec!["<ap@example.com>", "<controller@example.com>"]
    );
    assert!(
        mails[0]
            .data
            .contains("Subject: [finance] 1 new invoice-mismatch exception"),
        "{}",
        mails[0].data
    );
    assert!(mails[0].data.contains("doc-inv-9: problem with inv-9"));
    assert!(!mails[0].data.contains("unknown-sku"));
}

#[tokio::test]
async fn five_hundred_exceptions_of_one_kind_make_one_alert() {
    let receiver = Receiver::start(0).await;
    let alerter = Alerter::new(
        Routes::new().route("operations", receiver.sink("ops-chat")),
        settings(),
    );
    let store = store();
    for i in 0..500 {
        store
            .raise_exception(
                exception(&format!("sku-{i:03}"), "operations", "unknown-sku"),
                at(i / 10),
            )
            .await
            .unwrap();
    }
    let run = alerter.run_at(store.as_ref(), at(60)).await;
    assert_eq!(run.new_exceptions, 500);
    assert_eq!(run.delivered, 1);
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 1);
    let text = bodies[0]["text"].as_str().unwrap();
    assert!(text.contains("500 new unknown-sku exceptions"), "{text}");
    assert!(text.contains("doc-sku-000"), "{text}");
    assert!(text.contains("doc-sku-004"), "{text}");
    assert!(!text.contains("doc-sku-005"), "{text}");
    assert!(text.contains("and 495 more"), "{text}");

    // Nothing new: nothing sent, even after the throttle window.
    let run = alerter.run_at(store.as_ref(), at(3600)).await;
    assert_eq!(run.new_exceptions, 0);
    assert_eq!(receiver.bodies().len(), 1);
}

#[tokio::test]
async fn one_alert_per_kind_per_throttle_window() {
    let receiver = Receiver::start(0).await;
    let alerter = Alerter::new(
        Routes::new().route("operations", receiver.sink("ops-chat")),
        settings(),
    );
    let store = store();
    store
        .raise_exception(exception("a", "operations", "unknown-sku"), at(0))
        .await
        .unwrap();
    assert_eq!(alerter.run_at(store.as_ref(), at(1)).await.delivered, 1);

    // Three more of the same kind within the window, and one of another kind.
    for key in ["b", "c", "d"] {
        store
            .raise_exception(exception(key, "operations", "unknown-sku"), at(10))
            .await
            .unwrap();
    }
    store
        .raise_exception(exception("e", "operations", "over-despatch"), at(10))
        .await
        .unwrap();
    let run = alerter.run_at(store.as_ref(), at(60)).await;
    assert_eq!(run.new_exceptions, 4);
    assert_eq!(run.delivered, 1, "only the other kind goes out");
    assert_eq!(run.waiting, 1);
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 2);
    assert!(
        bodies[1]["text"]
            .as_str()
            .unwrap()
            .contains("over-despatch")
    );

    // Still inside the window: held back.
    assert_eq!(alerter.run_at(store.as_ref(), at(600)).await.delivered, 0);
    // Window over: the three held-back exceptions go out as one alert.
    assert_eq!(alerter.run_at(store.as_ref(), at(602)).await.delivered, 1);
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 3);
    let text = bodies[2]["text"].as_str().unwrap();
    assert!(text.contains("3 new unknown-sku exceptions"), "{text}");
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_backoff_on_later_runs() {
    let receiver = Receiver::start(2).await;
    let routes = Routes::new().route("finance", receiver.sink("finance-chat"));
    let store = store();
    store
        .raise_exception(exception("inv-1", "finance", "invoice-mismatch"), at(0))
        .await
        .unwrap();

    let alerter = Alerter::new(routes.clone(), settings());
    let run = alerter.run_at(store.as_ref(), at(1)).await;
    assert_eq!((run.delivered, run.failed), (0, 1));
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 1);
    let state = store.watermark(STATE_WATERMARK).await.unwrap().unwrap();
    assert!(state.contains("webhook answered 500"), "{state}");

    // Before the first backoff (30 s) nothing is attempted.
    let run = alerter.run_at(store.as_ref(), at(20)).await;
    assert_eq!((run.delivered, run.failed, run.waiting), (0, 0, 1));
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 1);

    // Second failure; the backoff doubles to 60 s.
    let run = alerter.run_at(store.as_ref(), at(31)).await;
    assert_eq!(run.failed, 1);
    let run = alerter.run_at(store.as_ref(), at(80)).await;
    assert_eq!(run.waiting, 1);
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 2);

    // A new exception meanwhile joins the pending alert; a restarted alerter delivers both.
    store
        .raise_exception(exception("inv-2", "finance", "invoice-mismatch"), at(85))
        .await
        .unwrap();
    let restarted = Alerter::new(routes, settings());
    let run = restarted.run_at(store.as_ref(), at(92)).await;
    assert_eq!(run.delivered, 1);
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 1);
    let text = bodies[0]["text"].as_str().unwrap();
    assert!(text.contains("2 new invoice-mismatch exceptions"), "{text}");

    // Delivered once: later runs send nothing more.
    restarted.run_at(store.as_ref(), at(2000)).await;
    assert_eq!(receiver.bodies().len(), 1);
}

#[tokio::test]
async fn an_alert_is_dropped_after_max_attempts() {
    let receiver = Receiver::start(usize::MAX).await;
    let alerter = Alerter::new(
        Routes::new().route("operations", receiver.sink("ops-chat")),
        AlerterSettings {
            max_attempts: 2,
            ..settings()
        },
    );
    let store = store();
    store
        .raise_exception(exception("a", "operations", "unknown-sku"), at(0))
        .await
        .unwrap();
    assert_eq!(alerter.run_at(store.as_ref(), at(1)).await.failed, 1);
    assert_eq!(alerter.run_at(store.as_ref(), at(100)).await.dropped, 1);
    let run = alerter.run_at(store.as_ref(), at(1000)).await;
    assert_eq!((run.failed, run.dropped, run.waiting), (0, 0, 0));
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_dead_receiver_never_blocks_the_run() {
    // Accepts connections (the kernel does, into the backlog) but never answers.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url: url::Url = format!("http://{}/hook", silent.local_addr().unwrap())
        .parse()
        .unwrap();
    // Nothing listens on this port once the listener is dropped.
    let closed_port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let routes = Routes::new()
        .route(
            "operations",
            Arc::new(WebhookSink::new("silent", silent_url, Duration::from_secs(60)).unwrap()),
        )
        .route(
            "finance",
            email_sink("closed-mail", closed_port, &["ap@example.com"]),
        );
    let alerter = Alerter::new(
        routes,
        AlerterSettings {
            delivery_timeout: Duration::from_millis(300),
            ..settings()
        },
    );
    let store = store();
    store
        .raise_exception(exception("a", "operations", "unknown-sku"), at(0))
        .await
        .unwrap();
    store
        .raise_exception(exception("b", "finance", "invoice-mismatch"), at(0))
        .await
        .unwrap();
    let engine = Engine::open(
        store.clone(),
        Mappings::new(MappingTables::default()).unwrap(),
    )
    .await
    .unwrap();

    let handled = tokio::time::timeout(Duration::from_secs(5), alerter.run_once(&engine))
        .await
        .expect("run_once returned within the timeout");
    assert_eq!(handled, Ok(0));
    let state = store.watermark(STATE_WATERMARK).await.unwrap().unwrap();
    assert!(state.contains("no answer within"), "{state}");
    drop(silent);
}

#[test]
fn secrets_are_not_in_debug_output() {
    let sink = WebhookSink::new(
        "ops",
        "https://hooks.example.com/services/T0/B0/SECRET-TOKEN"
            .parse()
            .unwrap(),
        Duration::from_secs(1),
    )
    .unwrap();
    let debug = format!("{sink:?}");
    assert!(!debug.contains("SECRET-TOKEN"), "{debug}");
    assert!(debug.contains("hooks.example.com"), "{debug}");

    let config = EmailSinkConfig {
        host: "smtp.example.com".into(),
        port: 587,
        security: EmailSecurity::StartTls,
        credentials: Some(("alerts".into(), "hunter2-password".into())),
        from: "sync@example.com".into(),
        to: vec!["ap@example.com".into()],
        timeout: Duration::from_secs(1),
    };
    let sink = EmailSink::new("mail", config.clone()).unwrap();
    for debug in [format!("{config:?}"), format!("{sink:?}")] {
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("alerts"), "{debug}");
    }
}

#[test]
fn settings_are_checked_when_built() {
    let parse = |text: &str| toml::from_str::<AlertsSettings>(text).unwrap();
    let env = |name: &str| (name == "HOOK_URL").then(|| "https://hooks.example.com/x".to_string());

    let unknown = parse("[routes]\noperations = [\"nowhere\"]\n");
    assert!(matches!(
        unknown.build(env),
        Err(AlertSettingsError::UnknownSink { owner, sink }) if owner == "operations" && sink == "nowhere"
    ));

    let missing = parse("[webhooks.ops]\nurl_env = \"NOT_SET\"\n");
    assert!(matches!(
        missing.build(env),
        Err(AlertSettingsError::MissingSecret { variable, .. }) if variable == "NOT_SET"
    ));

    let bad_address = parse(
        "[email.m]\nhost = \"smtp.example.com\"\nfrom = \"not an address\"\nto = [\"ap@example.com\"]\n",
    );
    assert!(matches!(
        bad_address.build(env),
        Err(AlertSettingsError::Sink { sink, .. }) if sink == "m"
    ));

    let good = parse(
        "throttle_secs = 60\n[webhooks.ops]\nurl_env = \"HOOK_URL\"\n[routes]\noperations = [\"ops\"]\n\"*\" = [\"ops\"]\n",
    );
    assert!(good.build(env).is_ok());
    assert!(toml::from_str::<AlertsSettings>("colour = 1").is_err());
}

#[tokio::test]
async fn late_commits_and_reopened_exceptions_are_alerted_once() {
    let receiver = Receiver::start(0).await;
    let alerter = Alerter::new(
        Routes::new().route("operations", receiver.sink("ops-chat")),
        AlerterSettings {
            throttle: Duration::ZERO,
            ..settings()
        },
    );
    let store = store();
    store
        .raise_exception(exception("a", "operations", "unknown-sku"), at(100))
        .await
        .unwrap();
    assert_eq!(alerter.run_at(store.as_ref(), at(101)).await.delivered, 1);

    // Planned at 99 s but committed after the run that saw the exception of 100 s.
    store
        .raise_exception(exception("b", "operations", "unknown-sku"), at(99))
        .await
        .unwrap();
    let run = alerter.run_at(store.as_ref(), at(102)).await;
    assert_eq!((run.new_exceptions, run.delivered), (1, 1));
    assert!(
        receiver.bodies()[1]["text"]
            .as_str()
            .unwrap()
            .contains("doc-b")
    );

    // Nothing new: nothing sent.
    assert_eq!(
        alerter.run_at(store.as_ref(), at(103)).await.new_exceptions,
        0
    );

    // Resolved, then raised again: alerted again.
    store
        .resolve_exception("a", "fixed", at(200))
        .await
        .unwrap();
    store
        .raise_exception(exception("a", "operations", "unknown-sku"), at(300))
        .await
        .unwrap();
    let run = alerter.run_at(store.as_ref(), at(301)).await;
    assert_eq!((run.new_exceptions, run.delivered), (1, 1));
    assert_eq!(receiver.bodies().len(), 3);
}

#[test]
fn alert_webhooks_need_https_except_on_loopback() {
    let parse = |text: &str| toml::from_str::<AlertsSettings>(text).unwrap();
    let hooks = parse("[webhooks.ops]\nurl_env = \"HOOK_URL\"\n");
    let with_url = |url: &'static str| move |name: &str| (name == "HOOK_URL").then(|| url.into());

    let refused = hooks.build(with_url("http://hooks.example.com/services/T0/B0/SECRET"));
    match refused {
        Err(AlertSettingsError::InsecureUrl { sink }) => assert_eq!(sink, "ops"),
        other => panic!("plain http to a remote host was accepted: {other:?}"),
    }
    let message = hooks
        .build(with_url("http://10.1.2.3/hook/SECRET"))
        .unwrap_err()
        .to_string();
    assert!(message.contains("must use https"), "{message}");
    assert!(!message.contains("SECRET"), "{message}");

    for url in [
        "https://hooks.example.com/services/T0/B0/X",
        "http://127.0.0.1:8080/hook",
        "http://localhost:8080/hook",
        "http://[::1]:8080/hook",
    ] {
        assert!(hooks.build(with_url(url)).is_ok(), "{url} was refused");
    }

    // The sink itself refuses too, whoever builds it.
    let direct = WebhookSink::new(
        "ops",
        "http://hooks.example.com/x".parse().unwrap(),
        Duration::from_secs(1),
    );
    assert!(
        matches!(direct, Err(DeliveryError::Insecure(_))),
        "{direct:?}"
    );
}

#[test]
fn smtp_credentials_without_tls_are_refused() {
    let parse = |text: &str| toml::from_str::<AlertsSettings>(text).unwrap();
    let env = |name: &str| (name == "SMTP_PASSWORD").then(|| "hunter2".to_string());
    let mail = |security: &str| {
        parse(&format!(
            "[email.m]\nhost = \"smtp.example.com\"\nsecurity = \"{security}\"\n\
             username = \"alerts\"\npassword_env = \"SMTP_PASSWORD\"\n\
             from = \"sync@example.com\"\nto = [\"ap@example.com\"]\n"
        ))
    };
    let refused = mail("none").build(env);
    match refused {
        Err(AlertSettingsError::PlaintextCredentials { sink }) => assert_eq!(sink, "m"),
        other => panic!("SMTP credentials without TLS were accepted: {other:?}"),
    }
    assert!(mail("start_tls").build(env).is_ok());
    assert!(mail("tls").build(env).is_ok());
    // Without credentials a plain relay is still fine (a relay on the same host).
    let relay = parse(
        "[email.m]\nhost = \"127.0.0.1\"\nsecurity = \"none\"\n\
         from = \"sync@example.com\"\nto = [\"ap@example.com\"]\n",
    );
    assert!(relay.build(env).is_ok());

    // The sink itself refuses too.
    let direct = EmailSink::new(
        "m",
        EmailSinkConfig {
            host: "smtp.example.com".into(),
            port: 25,
            security: EmailSecurity::None,
            credentials: Some(("alerts".into(), "hunter2".into())),
            from: "sync@example.com".into(),
            to: vec!["ap@example.com".into()],
            timeout: Duration::from_secs(1),
        },
    );
    assert!(
        matches!(direct, Err(DeliveryError::Insecure(_))),
        "{direct:?}"
    );
}

#[tokio::test]
async fn alert_webhooks_follow_no_redirect() {
    // A receiver answering every POST with a redirect to another receiver, which must never
    // be reached.
    let target = Receiver::start(0).await;
    let location = target.url.to_string();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let location = location.clone();
            async move {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(axum::http::header::LOCATION, location)],
                    "moved",
                )
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let sink = WebhookSink::new(
        "ops",
        format!("http://{addr}/hook").parse().unwrap(),
        Duration::from_secs(5),
    )
    .unwrap();
    let alert = Alert {
        owner: "operations".into(),
        kind: "unknown_sku".into(),
        severity: "error".into(),
        count: 1,
        first_raised_at: t0(),
        last_raised_at: t0(),
        runbook: "operations.md#unknown-sku".into(),
        examples: vec![],
    };
    let outcome = sink.deliver(&alert).await;
    assert!(
        matches!(outcome, Err(DeliveryError::Rejected { status: 307, .. })),
        "{outcome:?}"
    );
    assert_eq!(target.requests.load(Ordering::SeqCst), 0);
}
