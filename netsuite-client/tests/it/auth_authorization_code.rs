//! OAuth 2.0 authorization code + PKCE: the authorize URL, the code exchange and refreshes.

use crate::auth_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use netsuite_client::account::{AccountId, AllowHttp, Endpoint};
use netsuite_client::auth::{
    AuthError, AuthScheme, Authenticator, AuthorizationCodeAuth, AuthorizationCodeConfig,
    AuthorizationCodeFlow, PkceVerifier, Scope,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use url::Url;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use auth_support::*;

const REDIRECT: &str = "https://wms.example/netsuite/callback";

fn config(server: &MockServer) -> AuthorizationCodeConfig {
    let account: AccountId = "1234567_SB1".parse().unwrap();
    let ep = Endpoint::new(&server.uri(), AllowHttp::Yes).unwrap();
    AuthorizationCodeConfig::new(&account, "client-xyz", Url::parse(REDIRECT).unwrap())
        .with_endpoints(&ep, &ep)
        .with_client_secret("s3cret:with/reserved")
}

fn flow(server: &MockServer, clock: Arc<ManualClock>) -> AuthorizationCodeFlow {
    AuthorizationCodeFlow::with_clock(config(server), clock).unwrap()
}

fn tokens(access: &str, refresh: Option<&str>) -> serde_json::Value {
    let mut body = json!({"access_token": access, "expires_in": "3600", "token_type": "bearer"});
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    body
}

async fn bearer(auth: &AuthorizationCodeAuth, server: &MockServer) -> String {
    let mut req = request(&format!("{}/services/rest/record/v1/item/1", server.uri()));
    auth.authorize(&mut req).await.unwrap();
    authorization(&req)
}

#[test]
fn authorize_url_for_a_real_account_is_on_the_app_host() {
    let account: AccountId = "1234567_sb1".parse().unwrap();
    let flow = AuthorizationCodeFlow::new(
        AuthorizationCodeConfig::new(&account, "cid", Url::parse(REDIRECT).unwrap())
            .with_scopes([Scope::RestWebServices, Scope::Restlets]),
    )
    .unwrap();
    let start = flow.start();
    assert_eq!(start.url.scheme(), "https");
    assert_eq!(start.url.host_str(), Some("1234567-sb1.app.netsuite.com"));
    assert_eq!(start.url.path(), "/app/login/oauth2/authorize.nl");

    let query: HashMap<String, String> = start.url.query_pairs().into_owned().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], "cid");
    assert_eq!(query["redirect_uri"], REDIRECT);
    assert_eq!(query["scope"], "rest_webservices restlets");
    assert_eq!(query["state"], start.state);
    assert_eq!(query["code_challenge_method"], "S256");
    let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(start.verifier.secret().as_bytes()));
    assert_eq!(query["code_challenge"], expected);
    assert!(start.verifier.secret().len() >= 43);

    start.check_state(&start.state).unwrap();
    let err = start.check_state("forged").unwrap_err();
    assert!(
        matches!(err, AuthError::AuthorizationRequired { .. }),
        "{err:?}"
    );

    let again = flow.start();
    assert_ne!(again.state, start.state);
    assert_ne!(again.verifier.secret(), start.verifier.secret());
}

#[tokio::test]
async fn code_exchange_then_refresh_on_expiry_with_rotation() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_string_contains("grant_type=authorization_code"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(tokens("access-1", Some("refresh-1"))),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_string_contains("refresh_token=refresh-1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(tokens("access-2", Some("refresh-2"))),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_string_contains("refresh_token=refresh-2"))
        // No new refresh token: the old one stays.
        .respond_with(ResponseTemplate::new(200).set_body_json(tokens("access-3", None)))
        .expect(1)
        .mount(&server)
        .await;

    let clock = Arc::new(ManualClock::new());
    let flow = flow(&server, clock.clone());
    let start = flow.start();
    let auth = flow
        .exchange_code("code-from-redirect", start.verifier.clone())
        .await
        .unwrap();
    assert_eq!(auth.scheme(), AuthScheme::OAuth2AuthorizationCode);
    assert_eq!(auth.refresh_token_secret().as_deref(), Some("refresh-1"));
    assert_eq!(bearer(&auth, &server).await, "Bearer access-1");

    let received = server.received_requests().await.unwrap();
    assert_eq!(
        received.len(),
        1,
        "the exchanged token is used without another request"
    );
    let exchange = &received[0];
    let fields = form_fields(&exchange.body);
    assert_eq!(field(&fields, "grant_type"), "authorization_code");
    assert_eq!(field(&fields, "code"), "code-from-redirect");
    assert_eq!(field(&fields, "redirect_uri"), REDIRECT);
    assert_eq!(field(&fields, "code_verifier"), start.verifier.secret());
    let basic = exchange
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    // oauth2 form-encodes id and secret before Basic encoding (RFC 6749 §2.3.1).
    let expected = STANDARD.encode("client-xyz:s3cret%3Awith%2Freserved");
    assert_eq!(basic, format!("Basic {expected}"));

    clock.advance(Duration::from_secs(54 * 60));
    assert_eq!(bearer(&auth, &server).await, "Bearer access-1");
    clock.advance(Duration::from_secs(2 * 60));
    assert_eq!(bearer(&auth, &server).await, "Bearer access-2");
    assert_eq!(auth.refresh_token_secret().as_deref(), Some("refresh-2"));

    let received = server.received_requests().await.unwrap();
    let refresh = form_fields(&received[1].body);
    assert_eq!(field(&refresh, "grant_type"), "refresh_token");
    assert_eq!(field(&refresh, "refresh_token"), "refresh-1");

    auth.invalidate();
    assert_eq!(bearer(&auth, &server).await, "Bearer access-3");
    assert_eq!(auth.refresh_token_secret().as_deref(), Some("refresh-2"));
    server.verify().await;
}

#[tokio::test]
async fn fifty_concurrent_calls_make_one_refresh() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "a", "expires_in": 3600, "token_type": "Bearer", "refresh_token": "r2"}))
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let auth = Arc::new(flow(&server, Arc::new(ManualClock::new())).resume("stored-refresh"));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let auth = auth.clone();
            let url = server.uri();
            tokio::spawn(async move {
                let mut req = request(&url);
                auth.authorize(&mut req).await.map(|()| authorization(&req))
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "Bearer a");
    }
    server.verify().await;
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        field(&form_fields(&received[0].body), "refresh_token"),
        "stored-refresh"
    );
}

#[tokio::test]
async fn expired_refresh_token_asks_for_a_new_authorization() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "error_description": "refresh token expired"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let auth = flow(&server, Arc::new(ManualClock::new())).resume("old");
    let err = auth
        .authorize(&mut request(&server.uri()))
        .await
        .unwrap_err();
    match &err {
        AuthError::AuthorizationRequired { scheme, message } => {
            assert_eq!(*scheme, AuthScheme::OAuth2AuthorizationCode);
            assert!(message.contains("refresh token expired"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(auth.refresh_token_secret(), None);
    // The refused grant is dropped: the next call fails without another token request.
    let again = auth
        .authorize(&mut request(&server.uri()))
        .await
        .unwrap_err();
    assert!(
        matches!(again, AuthError::AuthorizationRequired { .. }),
        "{again:?}"
    );
    server.verify().await;
}

#[tokio::test]
async fn code_exchange_errors_keep_the_server_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": "invalid_client", "error_description": "unknown client"}),
        ))
        .mount(&server)
        .await;
    let err = flow(&server, Arc::new(ManualClock::new()))
        .exchange_code("c", PkceVerifier::new("v".repeat(43)))
        .await
        .unwrap_err();
    match &err {
        AuthError::TokenRejected {
            error, description, ..
        } => {
            assert_eq!(error.as_deref(), Some("invalid_client"));
            assert_eq!(description.as_deref(), Some("unknown client"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn absurd_or_non_positive_lifetimes_never_panic() {
    // (expires_in, token requests: the exchange plus refreshes over two calls a day apart)
    for (expires_in, requests) in [
        (json!(u64::MAX), 2),
        (json!("18446744073709551615"), 2),
        (json!(1e300), 2),
        (json!("1e300"), 2),
        (json!(0), 3),
        (json!(-5), 3),
        (json!("-5"), 3),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(TOKEN_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": "a", "refresh_token": "r",
                "expires_in": expires_in, "token_type": "bearer"
            })))
            .expect(requests)
            .mount(&server)
            .await;
        let clock = Arc::new(ManualClock::new());
        let auth = flow(&server, clock.clone())
            .exchange_code("c", PkceVerifier::new("v".repeat(43)))
            .await
            .unwrap();
        assert_eq!(bearer(&auth, &server).await, "Bearer a");
        clock.advance(Duration::from_secs(24 * 3600));
        assert_eq!(bearer(&auth, &server).await, "Bearer a");
        server.verify().await;
    }

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "SECRET-A", "expires_in": "abc", "token_type": "bearer"
        })))
        .mount(&server)
        .await;
    let err = flow(&server, Arc::new(ManualClock::new()))
        .exchange_code("c", PkceVerifier::new("v".repeat(43)))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::TokenRequest { .. }), "{err:?}");
    assert!(!format!("{err:?} {err}").contains("SECRET-A"), "{err:?}");
}

#[tokio::test]
async fn token_errors_never_show_the_body_and_redirects_are_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_request", "refresh_token": "rt-SECRET-5"
        })))
        .mount(&server)
        .await;
    let err = flow(&server, Arc::new(ManualClock::new()))
        .exchange_code("c", PkceVerifier::new("v".repeat(43)))
        .await
        .unwrap_err();
    let text = format!("{err:?} {err}");
    assert!(text.contains("invalid_request"), "{text}");
    assert!(!text.contains("SECRET-5"), "{text}");

    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("{}/steal", elsewhere.uri())),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = flow(&server, Arc::new(ManualClock::new()))
        .exchange_code("c", PkceVerifier::new("v".repeat(43)))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::TokenRequest { .. }), "{err:?}");
    assert!(err.to_string().contains("307"), "{err}");
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn public_client_sends_its_id_in_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(tokens("p", Some("r"))))
        .expect(1)
        .mount(&server)
        .await;
    let account: AccountId = "1234567".parse().unwrap();
    let ep = Endpoint::new(&server.uri(), AllowHttp::Yes).unwrap();
    let flow = AuthorizationCodeFlow::new(
        AuthorizationCodeConfig::new(&account, "public-id", Url::parse(REDIRECT).unwrap())
            .with_endpoints(&ep, &ep),
    )
    .unwrap();
    flow.exchange_code("c", PkceVerifier::new("v".repeat(43)))
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    assert!(received[0].headers.get("authorization").is_none());
    assert_eq!(
        field(&form_fields(&received[0].body), "client_id"),
        "public-id"
    );
}

#[tokio::test]
async fn debug_hides_secret_verifier_and_tokens() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(tokens("ACCESS-VISIBLE", Some("REFRESH-VISIBLE"))),
        )
        .mount(&server)
        .await;
    let config = config(&server);
    let flow = AuthorizationCodeFlow::new(config.clone()).unwrap();
    let start = flow.start();
    let auth = flow
        .exchange_code("c", start.verifier.clone())
        .await
        .unwrap();
    let verifier = start.verifier.secret().to_owned();
    for text in [
        format!("{config:?}"),
        format!("{flow:?}"),
        format!("{start:?}"),
        format!("{auth:?}"),
    ] {
        assert!(!text.contains("s3cret"), "{text}");
        assert!(!text.contains(&verifier), "{text}");
        assert!(!text.contains("VISIBLE"), "{text}");
    }
    assert!(format!("{config:?}").contains("client-xyz"));
}

// ---------------------------------------------------------------- fuzzing (see docs/decisions/fuzzing.md)

#[test]
fn fuzz_code_exchange_and_refresh_responses_never_panic() {
    let endpoint = FuzzTokenEndpoint::start();
    let mut runner = proptest::test_runner::TestRunner::new(Default::default());
    runner
        .run(
            &(
                fuzz_statuses(),
                fuzz_inputs::body(token_seeds()),
                fuzz_inputs::body(token_seeds()),
            ),
            |(status, exchange, refresh)| {
                let clock = Arc::new(ManualClock::new());
                let flow = flow(&endpoint.server, clock.clone());
                let start = flow.start();
                *endpoint.answer.lock().unwrap() = (status, exchange);
                endpoint.rt.block_on(async {
                    match flow.exchange_code("code-1", start.verifier.clone()).await {
                        Err(e) => {
                            let text = e.to_string();
                            proptest::prop_assert!(!text.contains("SECRET"), "{text}");
                        }
                        Ok(auth) => {
                            // Expire the token so the next use refreshes against the next body.
                            clock.advance(Duration::from_secs(2 * 24 * 60 * 60));
                            *endpoint.answer.lock().unwrap() = (200, refresh);
                            let url =
                                format!("{}/services/rest/record/v1/item/1", endpoint.server.uri());
                            if let Err(e) = auth.authorize(&mut request(&url)).await {
                                let text = e.to_string();
                                proptest::prop_assert!(!text.contains("SECRET"), "{text}");
                            }
                        }
                    }
                    Ok(())
                })
            },
        )
        .unwrap();
}

/// Structure-aware inputs for the parser fuzz tests: a valid document with one to three of its
/// values replaced by hostile ones (huge, negative or unrepresentable numbers, wrong types, deep
/// nesting, long strings, NUL and control characters), plus raw number tokens no `Value` holds.
use crate::fuzz_inputs;
