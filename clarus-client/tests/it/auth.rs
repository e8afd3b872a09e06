//! OAuth: token request shape, caching, single-flight renewal, one re-authentication on 401,
//! token endpoint errors, no redirects, plain-http refusal and secret redaction.

use std::time::Duration;

use crate::fuzz_inputs;
use crate::support::*;
use clarus_client::{
    AuthError, ClarusClient, ClarusConfig, ClarusConfigBuilder, ClientAuthMethod, ConfigError,
    Credentials, Error, PkceVerifier, Secret,
};
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

async fn mount_cancel(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/api/goods_outs/1/cancel"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(data_response(1, "goods_outs"))
        .mount(server)
        .await;
}

/// A configuration of tenant `acme` with client credentials `id` and `secret`.
fn builder_with_secret(secret: &str) -> ClarusConfigBuilder {
    ClarusConfig::builder(
        "acme",
        Credentials::client_credentials("id", Secret::new(secret)),
    )
}

/// A server whose token endpoint answers with `answer`.
async fn token_endpoint(answer: impl Respond + 'static) -> MockServer {
    let server = MockServer::start().await;
    mount_answer(&server, "POST", "/oauth/token", answer).await;
    server
}

/// The error of cancelling goods out 1 with a new client of `server`.
async fn cancel_error(server: &MockServer) -> Error {
    client(server).cancel_goods_out(1.into()).await.unwrap_err()
}

/// How many tokens one client of `server` takes to cancel goods out 1 `calls` times.
async fn tokens_taken(server: &MockServer, calls: usize) -> usize {
    let c = client(server);
    for _ in 0..calls {
        c.cancel_goods_out(1.into()).await.unwrap();
    }
    token_requests(server).await
}

#[tokio::test]
async fn client_credentials_request_uses_basic_auth_and_form() {
    let server = server().await;
    mount_cancel(&server).await;
    client(&server).cancel_goods_out(1.into()).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let token = requests
        .iter()
        .find(|r| r.url.path() == "/oauth/token")
        .unwrap();
    assert_eq!(token.method.as_str(), "POST");
    let body = String::from_utf8(token.body.clone()).unwrap();
    assert!(body.contains("grant_type=client_credentials"), "{body}");
    assert!(
        !body.contains("secret-1"),
        "secret must not be in the body with basic auth"
    );
    let auth = token
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    // base64("client-1:secret-1")
    assert_eq!(auth, "Basic Y2xpZW50LTE6c2VjcmV0LTE=");
    assert!(
        token
            .headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
}

#[tokio::test]
async fn client_credentials_in_body_when_configured() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("client_secret=secret-1"))
        .and(body_string_contains("client_id=client-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": TOKEN, "token_type": "bearer", "expires_in": "3600"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    mount_cancel(&server).await;
    let c = ClarusClient::new(
        config(&server)
            .client_auth(ClientAuthMethod::RequestBody)
            .build()
            .unwrap(),
    )
    .unwrap();
    c.cancel_goods_out(1.into()).await.unwrap();
}

#[tokio::test]
async fn token_is_cached_across_calls() {
    let server = server().await;
    mount_cancel(&server).await;
    assert_eq!(tokens_taken(&server, 3).await, 1);
}

#[tokio::test]
async fn concurrent_calls_share_one_renewal() {
    let server = token_endpoint(
        ResponseTemplate::new(200)
            .set_body_json(
                json!({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 7200}),
            )
            .set_delay(Duration::from_millis(200)),
    )
    .await;
    mount_cancel(&server).await;
    let c = client(&server);
    let calls = (0..8).map(|_| {
        let c = c.clone();
        tokio::spawn(async move { c.cancel_goods_out(1.into()).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    assert_eq!(token_requests(&server).await, 1);
    assert_eq!(api_requests(&server).await.len(), 8);
}

#[tokio::test]
async fn token_about_to_expire_is_renewed() {
    let server =
        token_endpoint(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 30}),
        ))
        .await;
    mount_cancel(&server).await;
    // 30 s lifetime is inside the 60 s renewal margin, so every call renews.
    assert_eq!(tokens_taken(&server, 2).await, 2);
}

/// Answers 401 to the first token it sees and 200 to the second.
struct RevokedFirstToken;

impl Respond for RevokedFirstToken {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
        {
            Some("Bearer tok-new") => ResponseTemplate::new(200)
                .set_body_json(json!({"data":{"id":1,"type":"goods_outs","attributes":{}}})),
            _ => ResponseTemplate::new(401).set_body_json(json!({"error":"Session expired"})),
        }
    }
}

/// Issues `tok-old` first, then `tok-new`.
struct RotatingTokens(std::sync::atomic::AtomicUsize);

impl Respond for RotatingTokens {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let token = if n == 0 { "tok-old" } else { "tok-new" };
        ResponseTemplate::new(200).set_body_json(
            json!({"access_token": token, "token_type": "Bearer", "expires_in": 7200}),
        )
    }
}

#[tokio::test]
async fn unexpected_401_reauthenticates_once() {
    let server = token_endpoint(RotatingTokens(Default::default())).await;
    mount_answer(
        &server,
        "POST",
        "/api/goods_outs/1/cancel",
        RevokedFirstToken,
    )
    .await;
    client(&server).cancel_goods_out(1.into()).await.unwrap();
    assert_eq!(token_requests(&server).await, 2);
    let api = api_requests(&server).await;
    assert_eq!(api.len(), 2);
    assert_eq!(
        api[0].headers.get("authorization").unwrap(),
        "Bearer tok-old"
    );
    assert_eq!(
        api[1].headers.get("authorization").unwrap(),
        "Bearer tok-new"
    );
}

#[tokio::test]
async fn second_401_is_returned_typed() {
    let server = server().await;
    mount_answer(
        &server,
        "POST",
        "/api/goods_outs/1/cancel",
        ResponseTemplate::new(401).set_body_json(json!({"error":"Not authorized"})),
    )
    .await;
    let err = cancel_error(&server).await;
    match err {
        Error::Unauthorized { error, raw_body } => {
            assert_eq!(error.as_deref(), Some("Not authorized"));
            assert_eq!(raw_body, r#"{"error":"Not authorized"}"#);
        }
        other => panic!("unexpected {other:?}"),
    }
    // One retry, not a loop.
    assert_eq!(api_requests(&server).await.len(), 2);
    assert_eq!(token_requests(&server).await, 2);
}

#[tokio::test]
async fn token_endpoint_refusal_is_typed() {
    let server = token_endpoint(ResponseTemplate::new(401).set_body_json(
        json!({"error":"invalid_client","error_description":"Client authentication failed"}),
    ))
    .await;
    let err = cancel_error(&server).await;
    match err {
        Error::Auth(AuthError::Refused { error, description }) => {
            assert_eq!(error, "invalid_client");
            assert_eq!(description.as_deref(), Some("Client authentication failed"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(api_requests(&server).await.is_empty());
}

#[tokio::test]
async fn token_requests_follow_no_redirects() {
    let server = MockServer::start().await;
    mount_answer(
        &server,
        "POST",
        "/oauth/token",
        ResponseTemplate::new(302)
            .insert_header("location", format!("{}/elsewhere", server.uri()).as_str()),
    )
    .await;
    let err = cancel_error(&server).await;
    assert!(
        matches!(err, Error::Auth(AuthError::Redirect { status: 302 })),
        "{err:?}"
    );
    assert!(err.to_string().contains("302"), "{err}");
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests.iter().all(|r| r.url.path() != "/elsewhere"),
        "redirect was followed"
    );
}

#[tokio::test]
async fn token_endpoint_errors_never_show_the_body() {
    // A refusal carrying something token-like besides the OAuth fields.
    let server = token_endpoint(ResponseTemplate::new(400).set_body_json(json!({
        "error": "invalid_grant",
        "error_description": "refresh token revoked",
        "refresh_token": "rt-SECRET-4242",
        "access_token": "at-SECRET-4242"
    })))
    .await;
    let err = cancel_error(&server).await;
    let text = format!("{err:?} {err}");
    assert!(text.contains("invalid_grant"), "{text}");
    assert!(text.contains("refresh token revoked"), "{text}");
    assert!(!text.contains("SECRET-4242"), "{text}");

    // A success body that cannot be read (the token is not a string, expires_in is no number).
    for body in [
        json!({"access_token": 987654321, "token_type": "Bearer"}),
        json!({"access_token": "at-SECRET-4242", "token_type": "Bearer", "expires_in": "abc"}),
    ] {
        let server = token_endpoint(ResponseTemplate::new(200).set_body_json(&body)).await;
        let err = cancel_error(&server).await;
        assert!(
            matches!(err, Error::Auth(AuthError::InvalidResponse { .. })),
            "{err:?}"
        );
        let text = format!("{err:?} {err}");
        assert!(
            !text.contains("SECRET-4242") && !text.contains("987654321"),
            "{text}"
        );
        assert!(api_requests(&server).await.is_empty());
    }
}

/// A token endpoint answering `expires_in` with `raw` (JSON text).
async fn token_server(raw: &str) -> MockServer {
    let body = format!(r#"{{"access_token":"{TOKEN}","token_type":"Bearer","expires_in":{raw}}}"#);
    let server =
        token_endpoint(ResponseTemplate::new(200).set_body_raw(body, "application/json")).await;
    mount_cancel(&server).await;
    server
}

#[tokio::test]
async fn absurd_token_lifetimes_never_panic() {
    // Huge lifetimes are capped: the token is cached and used for both calls. Zero or negative
    // lifetimes: the token is used once and renewed on the next call.
    for (raw, tokens) in [
        ("18446744073709551615", 1),
        ("1e300", 1),
        ("\"1e300\"", 1),
        ("0", 2),
        ("-5", 2),
        ("\"-5\"", 2),
    ] {
        let server = token_server(raw).await;
        assert_eq!(tokens_taken(&server, 2).await, tokens, "{raw}");
    }
    // Not a number: a typed error, nothing sent to the API.
    let server = token_server("\"abc\"").await;
    let err = cancel_error(&server).await;
    assert!(
        matches!(err, Error::Auth(AuthError::InvalidResponse { .. })),
        "{err:?}"
    );
    assert!(api_requests(&server).await.is_empty());
}

#[tokio::test]
async fn credentials_in_the_base_url_are_refused() {
    let err = builder_with_secret("s")
        .base_url("https://ops:hunter2@clarus.example")
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::EmbeddedCredentials);
    assert!(!format!("{err:?} {err}").contains("hunter2"));
}

#[tokio::test]
async fn graphql_calls_carry_the_same_headers() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("x-clarus-subdomain", SUBDOMAIN))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data":{"goods_outs":{"all":{"pageInfo":{"hasNextPage":false},"edges":[]}}}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let found = client(&server)
        .find_goods_outs_by_reference("SO-1")
        .await
        .unwrap();
    assert!(found.is_empty());
}

#[tokio::test]
async fn plain_http_needs_explicit_permission_and_secrets_stay_hidden() {
    let config = builder_with_secret("hunter2-secret")
        .base_url("http://127.0.0.1:9")
        .build();
    assert!(config.is_err());
    let config = builder_with_secret("hunter2-secret").build().unwrap();
    let client = ClarusClient::new(config).unwrap();
    assert!(!format!("{client:?}").contains("hunter2"));
}

#[tokio::test]
async fn authorization_code_flow() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/oauth/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=the-code"))
        .and(body_string_contains("code_verifier="))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"access_token":"tok-a","token_type":"Bearer","expires_in":30,"refresh_token":"ref-1"})))
        .expect(1).mount(&server).await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=ref-1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"access_token":"tok-b","token_type":"Bearer","expires_in":7200}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/goods_outs/1/cancel"))
        .and(header("authorization", "Bearer tok-b"))
        .respond_with(data_response(1, "goods_outs"))
        .expect(1)
        .mount(&server)
        .await;

    let config = ClarusConfig::builder(
        "acme",
        Credentials::AuthorizationCode {
            client_id: "client-1".into(),
            client_secret: Secret::new("secret-1"),
            redirect_url: "https://app.example.com/callback".parse().unwrap(),
            scopes: vec!["read".into()],
        },
    )
    .base_url(&server.uri())
    .allow_insecure_http(true)
    .build()
    .unwrap();
    let c = ClarusClient::new(config).unwrap();
    // Before authorising there is no token to use.
    assert!(matches!(
        c.cancel_goods_out(1.into()).await,
        Err(Error::Auth(AuthError::AuthorizationRequired))
    ));
    let start = c.authorization_url();
    assert_eq!(start.url.path(), "/oauth/authorize");
    let query = start.url.query().unwrap();
    assert!(
        query.contains("response_type=code")
            && query.contains("code_challenge_method=S256")
            && query.contains("client_id=client-1")
    );
    assert_eq!(
        start.url.query_value("state").as_deref(),
        Some(start.csrf_state.as_str())
    );
    let secret = start.pkce_verifier.secret().to_owned();
    assert!(!format!("{:?}", start.pkce_verifier).contains(&secret));
    // The verifier may be kept as text between the two steps (e.g. in the user's session).
    c.complete_authorization("the-code", PkceVerifier::new(secret.clone()))
        .await
        .unwrap();
    let exchange = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| String::from_utf8_lossy(&r.body).contains("grant_type=authorization_code"))
        .expect("the code was exchanged");
    assert!(String::from_utf8_lossy(&exchange.body).contains(&format!("code_verifier={secret}")));
    // tok-a expires within the renewal margin, so the refresh token is used.
    c.cancel_goods_out(1.into()).await.unwrap();
}

// ---------------------------------------------------------------- fuzzing (see docs/decisions/fuzzing.md)

fn token_seeds() -> Vec<serde_json::Value> {
    vec![
        json!({"access_token": "at-SECRET-1", "token_type": "Bearer", "expires_in": 7200,
            "refresh_token": "rt-SECRET-1", "scope": "public write", "created_at": 1_700_000_000}),
        json!({"error": "invalid_client", "error_description": "unknown client"}),
    ]
}

/// A fresh client per case against a token endpoint answering the fuzzed body: every answer is
/// a token or a typed error, and no error shows the token.
#[test]
fn fuzz_token_responses_never_panic() {
    let (rt, server, answer) = fuzzed_endpoint(MockServer::start(), "/oauth/token");
    rt.block_on(
        Mock::given(method("POST"))
            .and(path("/api/goods_outs/1/cancel"))
            .respond_with(data_response(1, "goods_outs"))
            .mount(&server),
    );
    let statuses = proptest::sample::select(vec![200u16, 200, 400, 401]);
    let mut runner = proptest::test_runner::TestRunner::new(Default::default());
    runner
        .run(
            &(statuses, fuzz_inputs::body(token_seeds())),
            |(status, bytes)| {
                *answer.lock().unwrap() = (status, bytes);
                let c = client(&server);
                rt.block_on(async {
                    for _ in 0..2 {
                        if let Err(e) = c.cancel_goods_out(1.into()).await {
                            let text = format!("{e} {e:?}");
                            proptest::prop_assert!(!text.contains("SECRET"), "{text}");
                        }
                    }
                    Ok(())
                })
            },
        )
        .unwrap();
}
