//! OAuth 2.0 client credentials (M2M): the signed assertion, the token request and the cache.

use crate::auth_support;

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use netsuite_client::account::{AllowHttp, Endpoint};
use netsuite_client::auth::{
    AuthError, AuthScheme, Authenticator, ClientCredentialsAuth, ClientCredentialsConfig,
    JwtAlgorithm, Scope, ScopeClaim,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use auth_support::*;

fn endpoint(server: &MockServer) -> Endpoint {
    Endpoint::new(&server.uri(), AllowHttp::Yes).unwrap()
}

fn config(endpoint: &Endpoint, alg: JwtAlgorithm, key: &[u8]) -> ClientCredentialsConfig {
    ClientCredentialsConfig::new(endpoint, "client-abc", "cert-kid-123", alg, key).unwrap()
}

fn token_body(token: &str) -> Value {
    json!({"access_token": token, "expires_in": "3600", "token_type": "bearer"})
}

fn decode(
    jwt: &str,
    alg: Algorithm,
    public_pem: &[u8],
    aud: &str,
) -> (jsonwebtoken::Header, Value) {
    let key = if matches!(alg, Algorithm::ES256 | Algorithm::ES384) {
        DecodingKey::from_ec_pem(public_pem).unwrap()
    } else {
        DecodingKey::from_rsa_pem(public_pem).unwrap()
    };
    let mut validation = Validation::new(alg);
    validation.set_audience(&[aud]);
    validation.set_issuer(&["client-abc"]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
    // The assertion in these tests is issued at the fixed time of the manual clock.
    validation.validate_exp = false;
    let data = jsonwebtoken::decode::<Value>(jwt, &key, &validation).expect("signature verifies");
    (data.header, data.claims)
}

#[test]
fn assertion_is_signed_with_each_accepted_algorithm() {
    let ep = Endpoint::new(
        "https://1234567-sb1.suitetalk.api.netsuite.com",
        AllowHttp::No,
    )
    .unwrap();
    let aud = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token";
    let cases = [
        (
            JwtAlgorithm::PS256,
            Algorithm::PS256,
            RSA_PRIVATE,
            RSA_PUBLIC,
        ),
        (
            JwtAlgorithm::PS384,
            Algorithm::PS384,
            RSA_PRIVATE,
            RSA_PUBLIC,
        ),
        (
            JwtAlgorithm::PS512,
            Algorithm::PS512,
            RSA_PRIVATE,
            RSA_PUBLIC,
        ),
        (
            JwtAlgorithm::ES256,
            Algorithm::ES256,
            P256_PRIVATE,
            P256_PUBLIC,
        ),
        (
            JwtAlgorithm::ES384,
            Algorithm::ES384,
            P384_PRIVATE,
            P384_PUBLIC,
        ),
    ];
    let now = ManualClock::new();
    for (ours, theirs, private, public) in cases {
        let cfg = config(&ep, ours, private);
        assert_eq!(cfg.token_url().as_str(), aud);
        let jwt = cfg
            .client_assertion(netsuite_client::auth::Clock::now(&now))
            .unwrap();
        let (header, claims) = decode(&jwt, theirs, public, aud);
        assert_eq!(header.alg, theirs);
        assert_eq!(header.kid.as_deref(), Some("cert-kid-123"));
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert_eq!(claims["iss"], "client-abc");
        assert_eq!(claims["aud"], aud);
        assert_eq!(claims["scope"], "rest_webservices");
        assert_eq!(claims["iat"], 1_767_225_600u64);
        assert_eq!(claims["exp"], 1_767_225_600u64 + 300);
        // Verifying with another key of the same family fails: the signature is real.
        if ours == JwtAlgorithm::ES256 {
            let other = DecodingKey::from_ec_pem(P384_PUBLIC).unwrap();
            assert!(jsonwebtoken::decode::<Value>(&jwt, &other, &Validation::new(theirs)).is_err());
        }
    }
}

#[test]
fn scope_claim_can_be_a_list_and_lifetime_is_capped_at_an_hour() {
    let ep = Endpoint::new("https://1234567.suitetalk.api.netsuite.com", AllowHttp::No).unwrap();
    let cfg = config(&ep, JwtAlgorithm::ES256, P256_PRIVATE)
        .with_scopes([Scope::Restlets, Scope::RestWebServices, Scope::Restlets])
        .with_scope_claim(ScopeClaim::Array)
        .with_assertion_lifetime(Duration::from_secs(3600))
        .unwrap();
    let jwt = cfg
        .client_assertion(netsuite_client::auth::Clock::now(&ManualClock::new()))
        .unwrap();
    let (_, claims) = decode(
        &jwt,
        Algorithm::ES256,
        P256_PUBLIC,
        cfg.token_url().as_str(),
    );
    assert_eq!(claims["scope"], json!(["restlets", "rest_webservices"]));
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3600
    );

    let comma = config(&ep, JwtAlgorithm::ES256, P256_PRIVATE)
        .with_scopes([Scope::Restlets, Scope::RestWebServices]);
    let jwt = comma
        .client_assertion(netsuite_client::auth::Clock::now(&ManualClock::new()))
        .unwrap();
    let (_, claims) = decode(
        &jwt,
        Algorithm::ES256,
        P256_PUBLIC,
        cfg.token_url().as_str(),
    );
    assert_eq!(claims["scope"], "restlets,rest_webservices");

    for bad in [Duration::from_secs(3601), Duration::ZERO] {
        let err = config(&ep, JwtAlgorithm::ES256, P256_PRIVATE)
            .with_assertion_lifetime(bad)
            .unwrap_err();
        assert!(err.to_string().contains("60 min"), "{err}");
    }
}

#[test]
fn rs256_is_refused_with_a_clear_error() {
    for name in ["RS256", "rs256"] {
        let err = name.parse::<JwtAlgorithm>().unwrap_err();
        assert!(matches!(
            err,
            AuthError::Config {
                scheme: AuthScheme::OAuth2ClientCredentials,
                ..
            }
        ));
        let text = err.to_string();
        assert!(text.contains("RS256") && text.contains("PS256"), "{text}");
        assert!(text.contains("2025"), "{text}");
    }
    let err = JwtAlgorithm::try_from(Algorithm::RS256).unwrap_err();
    assert!(err.to_string().contains("PS256"), "{err}");
    assert!("HS256".parse::<JwtAlgorithm>().is_err());
    assert_eq!(
        "ps256".parse::<JwtAlgorithm>().unwrap(),
        JwtAlgorithm::PS256
    );
    assert_eq!(
        JwtAlgorithm::try_from(Algorithm::ES384).unwrap(),
        JwtAlgorithm::ES384
    );
}

#[test]
fn keys_that_do_not_fit_the_algorithm_fail_at_construction() {
    let ep = Endpoint::new("https://1234567.suitetalk.api.netsuite.com", AllowHttp::No).unwrap();
    for (alg, key) in [
        (JwtAlgorithm::ES384, P256_PRIVATE),
        (JwtAlgorithm::ES256, RSA_PRIVATE),
        (JwtAlgorithm::PS256, P256_PRIVATE),
        (JwtAlgorithm::PS256, b"not a pem".as_slice()),
    ] {
        let err = ClientCredentialsConfig::new(&ep, "c", "k", alg, key).unwrap_err();
        assert!(matches!(err, AuthError::Config { .. }), "{alg}: {err}");
    }
    let err =
        ClientCredentialsConfig::new(&ep, " ", "k", JwtAlgorithm::ES256, P256_PRIVATE).unwrap_err();
    assert!(err.to_string().contains("client id"), "{err}");
}

#[tokio::test]
async fn token_request_is_the_documented_form_and_the_token_is_used() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("tok-1")))
        .expect(1)
        .mount(&server)
        .await;
    let ep = endpoint(&server);
    let clock = Arc::new(ManualClock::new());
    let auth =
        ClientCredentialsAuth::with_clock(config(&ep, JwtAlgorithm::PS256, RSA_PRIVATE), clock)
            .unwrap();
    assert_eq!(auth.scheme(), AuthScheme::OAuth2ClientCredentials);

    let mut req = request(&format!(
        "{}/services/rest/record/v1/salesOrder/1",
        server.uri()
    ));
    auth.authorize(&mut req).await.unwrap();
    assert_eq!(authorization(&req), "Bearer tok-1");
    assert!(req.headers()[reqwest::header::AUTHORIZATION].is_sensitive());

    let received = server.received_requests().await.unwrap();
    let fields = form_fields(&received[0].body);
    assert_eq!(fields.len(), 3, "{fields:?}");
    assert_eq!(field(&fields, "grant_type"), "client_credentials");
    assert_eq!(
        field(&fields, "client_assertion_type"),
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    let token_url = format!("{}{TOKEN_PATH}", server.uri());
    let (header, claims) = decode(
        field(&fields, "client_assertion"),
        Algorithm::PS256,
        RSA_PUBLIC,
        &token_url,
    );
    assert_eq!(header.kid.as_deref(), Some("cert-kid-123"));
    assert_eq!(claims["aud"], token_url);
}

#[tokio::test]
async fn fifty_concurrent_calls_make_one_token_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(token_body("shared-token"))
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let auth = Arc::new(es256_auth(&server));
    let url = format!("{}/services/rest/query/v1/suiteql", server.uri());
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let auth = auth.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let mut req = request(&url);
                auth.authorize(&mut req).await.map(|()| authorization(&req))
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "Bearer shared-token");
    }
    server.verify().await;
}

#[tokio::test]
async fn token_is_renewed_five_minutes_before_expiry_and_after_invalidate() {
    let server = MockServer::start().await;
    for (n, token) in ["first", "second", "third"].iter().enumerate() {
        Mock::given(method("POST"))
            .and(path(TOKEN_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(token_body(token)))
            .up_to_n_times(1)
            .expect(1)
            .named(format!("token {n}"))
            .mount(&server)
            .await;
    }
    let clock = Arc::new(ManualClock::new());
    let auth = ClientCredentialsAuth::with_clock(
        config(&endpoint(&server), JwtAlgorithm::ES256, P256_PRIVATE),
        clock.clone(),
    )
    .unwrap();
    let url = format!("{}/x", server.uri());
    async fn bearer_of(auth: &ClientCredentialsAuth, url: &str) -> String {
        let mut req = request(url);
        auth.authorize(&mut req).await.unwrap();
        authorization(&req)
    }
    let bearer = |auth| bearer_of(auth, &url);
    assert_eq!(bearer(&auth).await, "Bearer first");
    clock.advance(Duration::from_secs(54 * 60));
    assert_eq!(bearer(&auth).await, "Bearer first", "still fresh at 54 min");
    clock.advance(Duration::from_secs(60) + Duration::from_secs(1));
    assert_eq!(
        bearer(&auth).await,
        "Bearer second",
        "renewed 5 min before expiry"
    );
    assert_eq!(bearer(&auth).await, "Bearer second");
    auth.invalidate();
    assert_eq!(bearer(&auth).await, "Bearer third", "renewed after a 401");
    let received = server.received_requests().await.unwrap();
    let iats: Vec<u64> = received
        .iter()
        .map(|r| {
            let fields = form_fields(&r.body);
            let jwt = field(&fields, "client_assertion").to_owned();
            let (_, claims) = decode(
                &jwt,
                Algorithm::ES256,
                P256_PUBLIC,
                &format!("{}{TOKEN_PATH}", server.uri()),
            );
            claims["iat"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(
        iats,
        [
            1_767_225_600,
            1_767_225_600 + 55 * 60 + 1,
            1_767_225_600 + 55 * 60 + 1
        ]
    );
}

#[tokio::test]
async fn expires_in_may_be_a_string_or_a_number() {
    for (expires_in, fresh_secs, stale_secs) in [
        (json!("1800"), 1499, 1501),
        (json!(1800), 1499, 1501),
        // Short tokens renew at half their lifetime.
        (json!("120"), 59, 61),
        // Absurd lifetimes are capped at a day (renewed 5 minutes before).
        (json!(u64::MAX), 23 * 3600 + 54 * 60, 23 * 3600 + 56 * 60),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(TOKEN_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"access_token": "t", "expires_in": expires_in, "token_type": "Bearer"}),
            ))
            .expect(2)
            .mount(&server)
            .await;
        let clock = Arc::new(ManualClock::new());
        let auth = ClientCredentialsAuth::with_clock(
            config(&endpoint(&server), JwtAlgorithm::ES256, P256_PRIVATE),
            clock.clone(),
        )
        .unwrap();
        let url = format!("{}/x", server.uri());
        auth.authorize(&mut request(&url)).await.unwrap();
        clock.advance(Duration::from_secs(fresh_secs));
        auth.authorize(&mut request(&url)).await.unwrap();
        assert_eq!(
            server.received_requests().await.unwrap().len(),
            1,
            "{expires_in}"
        );
        clock.advance(Duration::from_secs(stale_secs - fresh_secs));
        auth.authorize(&mut request(&url)).await.unwrap();
        server.verify().await;
    }
}

#[tokio::test]
async fn absurd_or_non_positive_lifetimes_never_panic() {
    // (expires_in, token requests after three calls 1 h apart)
    for (expires_in, requests) in [
        // Capped at a day: one token serves all three calls.
        (json!(u64::MAX), 1),
        (json!("18446744073709551615"), 1),
        (json!(1e300), 1),
        (json!("1e300"), 1),
        // Zero or negative: renewed on every use.
        (json!(0), 3),
        (json!(-5), 3),
        (json!("-5"), 3),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(TOKEN_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"access_token": "t", "expires_in": expires_in, "token_type": "Bearer"}),
            ))
            .expect(requests)
            .mount(&server)
            .await;
        let clock = Arc::new(ManualClock::new());
        let auth = ClientCredentialsAuth::with_clock(
            config(&endpoint(&server), JwtAlgorithm::ES256, P256_PRIVATE),
            clock.clone(),
        )
        .unwrap();
        let url = format!("{}/x", server.uri());
        for _ in 0..3 {
            assert_eq!(authorization(&request_with(&auth, &url).await), "Bearer t");
            clock.advance(Duration::from_secs(3600));
        }
        server.verify().await;
    }

    // Not a number: a typed error, no panic.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "SECRET-T", "expires_in": "abc", "token_type": "Bearer"}),
        ))
        .mount(&server)
        .await;
    let err = es256_error(&server).await;
    assert!(matches!(err, AuthError::TokenRequest { .. }), "{err:?}");
    assert!(!format!("{err:?} {err}").contains("SECRET-T"), "{err:?}");
}

/// An ES256 authenticator whose token endpoint is `server`'s.
fn es256_auth(server: &MockServer) -> ClientCredentialsAuth {
    ClientCredentialsAuth::new(config(&endpoint(server), JwtAlgorithm::ES256, P256_PRIVATE))
        .unwrap()
}

/// Why [`es256_auth`] cannot authorize a request to `server`.
async fn es256_error(server: &MockServer) -> AuthError {
    es256_auth(server)
        .authorize(&mut request(&server.uri()))
        .await
        .unwrap_err()
}

async fn request_with(auth: &ClientCredentialsAuth, url: &str) -> reqwest::Request {
    let mut req = request(url);
    auth.authorize(&mut req).await.unwrap();
    req
}

#[tokio::test]
async fn token_errors_never_show_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_client",
            "error_description": "unknown client",
            "access_token": "at-SECRET-9",
            "refresh_token": "rt-SECRET-9"
        })))
        .mount(&server)
        .await;
    let err = es256_error(&server).await;
    let text = format!("{err:?} {err}");
    assert!(
        text.contains("invalid_client") && text.contains("unknown client"),
        "{text}"
    );
    assert!(!text.contains("SECRET-9"), "{text}");
}

#[tokio::test]
async fn token_errors_keep_the_server_code_and_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_string_contains("client_assertion="))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "error_description": "Invalid certificate id"}),
        ))
        .mount(&server)
        .await;
    let err = es256_error(&server).await;
    match &err {
        AuthError::TokenRejected {
            scheme,
            status,
            error,
            description,
        } => {
            assert_eq!(*scheme, AuthScheme::OAuth2ClientCredentials);
            assert_eq!(*status, Some(400));
            assert_eq!(error.as_deref(), Some("invalid_grant"));
            assert_eq!(description.as_deref(), Some("Invalid certificate id"));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("invalid_grant"), "{err}");
}

#[tokio::test]
async fn unusable_success_bodies_are_errors_without_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "SECRET-TOKEN", "expires_in": "an hour", "token_type": "bearer"}),
        ))
        .mount(&server)
        .await;
    let err = es256_error(&server).await;
    assert!(matches!(err, AuthError::TokenRequest { .. }), "{err:?}");
    assert!(err.to_string().contains("expires_in"), "{err}");
    assert!(!format!("{err:?}").contains("SECRET-TOKEN"));
}

#[tokio::test]
async fn redirects_are_not_followed() {
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
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("stolen")))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let err = es256_error(&server).await;
    assert!(err.to_string().contains("redirect"), "{err}");
}

#[tokio::test]
async fn one_failed_renewal_is_shared_by_the_callers_waiting_for_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": "invalid_client"}))
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let auth = Arc::new(es256_auth(&server));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let auth = auth.clone();
            let url = server.uri();
            tokio::spawn(async move { auth.authorize(&mut request(&url)).await })
        })
        .collect();
    for task in tasks {
        let err = task.await.unwrap().unwrap_err();
        assert!(err.to_string().contains("invalid_client"), "{err}");
    }
    server.verify().await;
}

#[test]
fn debug_never_shows_the_key() {
    let ep = Endpoint::new("https://1234567.suitetalk.api.netsuite.com", AllowHttp::No).unwrap();
    let cfg = config(&ep, JwtAlgorithm::PS256, RSA_PRIVATE);
    let auth = ClientCredentialsAuth::new(cfg.clone()).unwrap();
    let pem = String::from_utf8_lossy(RSA_PRIVATE);
    let key_line = pem.lines().nth(1).unwrap();
    for text in [format!("{cfg:?}"), format!("{auth:#?}")] {
        assert!(text.contains("[redacted]"), "{text}");
        assert!(!text.contains(key_line), "{text}");
        assert!(!text.contains("PRIVATE KEY"), "{text}");
        assert!(text.contains("cert-kid-123"), "{text}");
    }
}

// ---------------------------------------------------------------- fuzzing (see docs/decisions/fuzzing.md)

#[test]
fn fuzz_token_responses_never_panic() {
    let endpoint = FuzzTokenEndpoint::start();
    let ep = Endpoint::new(&endpoint.server.uri(), AllowHttp::Yes).unwrap();
    let url = format!("{}/services/rest/record/v1/item/1", endpoint.server.uri());
    let mut runner = proptest::test_runner::TestRunner::new(Default::default());
    runner
        .run(
            &(fuzz_statuses(), fuzz_inputs::body(token_seeds())),
            |(status, body)| {
                *endpoint.answer.lock().unwrap() = (status, body);
                let clock = Arc::new(ManualClock::new());
                let auth = ClientCredentialsAuth::with_clock(
                    config(&ep, JwtAlgorithm::ES256, P256_PRIVATE),
                    clock,
                )
                .unwrap();
                endpoint.rt.block_on(async {
                    for _ in 0..2 {
                        if let Err(e) = auth.authorize(&mut request(&url)).await {
                            let text = e.to_string();
                            proptest::prop_assert!(!text.contains("SECRET"), "{text}");
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
