//! Nothing without sign-in; sessions, CSRF and the sign-in throttle.

use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, SET_COOKIE};

use crate::support::{Harness, Setup, cookie_of, csrf_in, exception_path, location, password};

/// Every page the console serves to signed-in people.
const PAGES: [&str; 10] = [
    "/",
    "/exceptions",
    "/exceptions?state=all&owner=operations",
    "/exceptions/EX-OPS-1",
    "/documents?q=SO1023",
    "/drift",
    "/drift?sku=WIDGET",
    "/runbook/unknown-sku",
    "/close?period=2026-10",
    "/close.csv?period=2026-10",
];

/// Every action.
const ACTIONS: [&str; 4] = [
    "/exceptions/EX-OPS-1/retry",
    "/exceptions/EX-OPS-1/resolve",
    "/exceptions/EX-OPS-1/assign",
    "/exceptions/bulk-resolve",
];

#[tokio::test]
async fn nothing_is_served_without_sign_in() {
    let h = Harness::start().await;
    for path in PAGES {
        let response = h.http.get(h.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response).as_deref(), Some("/sign-in"), "{path}");
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("SO1023") && !body.contains("EX-OPS-1"),
            "{path}: {body}"
        );
    }
    for path in ACTIONS {
        let response = h
            .http
            .post(h.url(path))
            .form(&[("note", "x"), ("key", "EX-OPS-1"), ("person", "ops")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response).as_deref(), Some("/sign-in"), "{path}");
    }
    let e = h.store.exception("EX-OPS-1").await.unwrap().unwrap();
    assert!(e.resolved_at.is_none());
    assert!(h.store.requests_for("EX-OPS-1").await.unwrap().is_empty());
    // The sign-in page and the style sheet are public, and sent under the policy.
    let sign_in = h.http.get(h.url("/sign-in")).send().await.unwrap();
    assert_eq!(
        sign_in.headers()[CONTENT_SECURITY_POLICY],
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    let css = h
        .http
        .get(h.url("/static/console.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_page_is_served_signed_in_under_the_policy() {
    let h = Harness::start().await;
    let view = h.sign_in("view").await;
    for path in PAGES {
        let response = h
            .http
            .get(h.url(path))
            .header(COOKIE, &view.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let csp = response.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.starts_with("default-src 'none'"), "{path}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("<script"), "{path}");
        assert!(
            !body.contains("http://") && !body.contains("src=\"http"),
            "{path}: nothing from outside"
        );
    }
}

#[tokio::test]
async fn a_form_without_its_session_token_is_refused() {
    let h = Harness::start().await;
    let ops = h.sign_in("ops").await;
    let other = h.sign_in("ops").await;
    let others_token = other.csrf().await;
    let path = format!("{}/resolve", exception_path("EX-OPS-1"));
    for fields in [
        vec![("note", "no token")],
        vec![("csrf", ""), ("note", "empty token")],
        vec![
            ("csrf", others_token.as_str()),
            ("note", "another session's token"),
        ],
        vec![("csrf", "forged"), ("note", "forged")],
    ] {
        let response = ops.post_raw(&path, &fields).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{fields:?}");
    }
    let bulk = ops
        .post_raw(
            "/exceptions/bulk-resolve",
            &[("note", "x"), ("key", "EX-OPS-1")],
        )
        .await;
    assert_eq!(bulk.status(), StatusCode::FORBIDDEN);
    let retry = ops
        .post_raw(
            &format!("{}/retry", exception_path("EX-OPS-1")),
            &[("csrf", &others_token)],
        )
        .await;
    assert_eq!(retry.status(), StatusCode::FORBIDDEN);
    assert!(!h.is_resolved("EX-OPS-1").await);
    assert!(h.store.requests_for("EX-OPS-1").await.unwrap().is_empty());
    // Sign-in needs the form's token too.
    let (cookie, _) = h.sign_in_form().await;
    let response = h
        .http
        .post(h.url("/sign-in"))
        .header(COOKIE, cookie)
        .form(&[("name", "ops"), ("password", &password("ops"))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn sessions_expire_and_tampered_cookies_are_refused() {
    let h = Harness::start().await;
    let ops = h.sign_in("ops").await;
    let (name, value) = ops.cookie.split_once('=').unwrap();
    let (payload, mac) = value.split_once('.').unwrap();
    // Another user's name with the same signature; a flipped signature; no signature.
    let other_payload = {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let text = String::from_utf8(engine.decode(payload).unwrap()).unwrap();
        engine.encode(text.replacen("ops", "admin", 1))
    };
    let flipped = format!(
        "{}{}",
        &mac[..mac.len() - 1],
        if mac.ends_with('A') { 'B' } else { 'A' }
    );
    for forged in [
        format!("{name}={other_payload}.{mac}"),
        format!("{name}={payload}.{flipped}"),
        format!("{name}={payload}"),
    ] {
        let response = h
            .http
            .get(h.url("/"))
            .header(COOKIE, forged.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{forged}");
    }
    assert_eq!(ops.get("/").await.0, StatusCode::OK);
    h.clock
        .advance(SignedDuration::from_hours(8) + SignedDuration::from_secs(1));
    assert_eq!(
        ops.get("/").await.0,
        StatusCode::SEE_OTHER,
        "expired after 8 hours"
    );
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let h = Harness::start().await;
    let ops = h.sign_in("ops").await;
    let response = ops.post("/sign-out", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        response.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(ops.get("/").await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn session_cookies_are_http_only_strict_and_secure_when_asked() {
    for secure in [false, true] {
        let h = Harness::with(Setup {
            secure_cookies: secure,
            ..Setup::default()
        })
        .await;
        let response = h.try_sign_in("fin", &password("fin")).await;
        let header = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        assert!(
            header.contains("HttpOnly") && header.contains("SameSite=Strict"),
            "{header}"
        );
        assert!(header.contains("Max-Age=28800"), "{header}");
        assert_eq!(header.contains("; Secure"), secure, "{header}");
        assert_eq!(header.starts_with("__Host-"), secure, "{header}");
    }
}

#[tokio::test]
async fn wrong_passwords_are_refused_then_throttled_per_user() {
    let h = Harness::with(Setup {
        failures_per_user: 3,
        ..Setup::default()
    })
    .await;
    for _ in 0..3 {
        let response = h.try_sign_in("ops", "wrong").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(cookie_of(&response).is_none());
    }
    // Now even the right password is not checked.
    let response = h.try_sign_in("ops", &password("ops")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another user from the same address is not held by ops' count.
    h.sign_in("fin").await;
    // The window passes.
    h.clock.advance(SignedDuration::from_mins(16));
    h.sign_in("ops").await;
}

#[tokio::test]
async fn an_address_is_throttled_across_names() {
    let h = Harness::with(Setup {
        failures_per_address: 4,
        ..Setup::default()
    })
    .await;
    for name in ["a", "b", "c", "nobody"] {
        assert_eq!(
            h.try_sign_in(name, "wrong").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let response = h.try_sign_in("ops", &password("ops")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = response.text().await.unwrap();
    assert!(csrf_in(&body).is_some(), "the form is shown again");
}

#[tokio::test]
async fn metrics_for_signed_in_people_and_the_scraper_token() {
    const TOKEN: &str = "scrape-token-scrape-token-scrape-token";
    let h = Harness::with(Setup {
        metrics_token: Some(TOKEN),
        ..Setup::default()
    })
    .await;
    let anonymous = h.http.get(h.url("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    let wrong = h
        .http
        .get(h.url("/metrics"))
        .bearer_auth("scrape-token-scrape-token-scrape-tokeX")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let scraper = h
        .http
        .get(h.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(scraper.status(), StatusCode::OK);
    let text = scraper.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    let view = h.sign_in("view").await;
    let (status, text) = view.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("operations"),
        "open exceptions by owner: {text}"
    );
}

/// A connection that opens and trickles a request's headers without finishing them is closed
/// after the header timeout, so idle connections cannot hold the console's connections.
#[tokio::test]
async fn a_connection_that_does_not_finish_its_headers_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let h = Harness::with(Setup {
        header_timeout: std::time::Duration::from_millis(300),
        ..Setup::default()
    })
    .await;
    let addr = h.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut buf),
    )
    .await
    .expect("the console closes the connection");
    assert!(
        read.is_err() || buf.is_empty() || !String::from_utf8_lossy(&buf).contains("200 OK"),
        "{read:?} {}",
        String::from_utf8_lossy(&buf)
    );
    // A request completed in time on a new connection is served.
    let response = h.http.get(h.url("/sign-in")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
