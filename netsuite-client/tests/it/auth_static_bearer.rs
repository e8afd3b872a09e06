//! The caller-supplied bearer token.

use crate::auth_support;

use netsuite_client::auth::{AuthError, AuthScheme, Authenticator, StaticBearer};

use auth_support::{authorization, request};

#[tokio::test]
async fn sends_the_token_as_a_sensitive_bearer_header() {
    let auth = StaticBearer::new("eyJ.token.sig").unwrap();
    assert_eq!(auth.scheme(), AuthScheme::StaticBearer);
    let mut req =
        request("https://1234567.suitetalk.api.netsuite.com/services/rest/record/v1/item/1");
    auth.authorize(&mut req).await.unwrap();
    assert_eq!(authorization(&req), "Bearer eyJ.token.sig");
    assert!(req.headers()[reqwest::header::AUTHORIZATION].is_sensitive());
    assert!(!format!("{req:?}").contains("eyJ.token.sig"));
    // invalidate is a no-op: the token cannot be renewed here.
    auth.invalidate();
    let mut again = request("https://1234567.suitetalk.api.netsuite.com/");
    auth.authorize(&mut again).await.unwrap();
    assert_eq!(authorization(&again), "Bearer eyJ.token.sig");
}

#[test]
fn unusable_tokens_are_refused() {
    for bad in ["", "  ", "two words", "line\nbreak", "naïve"] {
        let err = StaticBearer::new(bad).unwrap_err();
        assert!(
            matches!(
                err,
                AuthError::Config {
                    scheme: AuthScheme::StaticBearer,
                    ..
                }
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn debug_is_redacted() {
    let auth = StaticBearer::new("TOPSECRET").unwrap();
    assert!(!format!("{auth:?}").contains("TOPSECRET"));
    assert!(format!("{auth:?}").contains("[redacted]"));
}

/// The API client follows no redirect: a 307 to another host is a typed error naming the
/// status, not retried, and neither the bearer token nor the body reaches the other host.
#[tokio::test]
async fn api_redirects_are_not_followed_and_nothing_reaches_the_other_host() {
    use std::sync::Arc;

    use netsuite_client::{Error, NetSuiteClient, RecordType};
    use wiremock::matchers::{any, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(307).insert_header(
            "location",
            format!(
                "{}/services/rest/record/v1/salesOrder?token=x",
                elsewhere.uri()
            ),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("{}/", elsewhere.uri())),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let client = NetSuiteClient::builder(Arc::new(StaticBearer::new("BEARER-SECRET").unwrap()))
        .base_url(server.uri())
        .allow_insecure_http(true)
        .concurrency_limit(5)
        .build()
        .unwrap();

    let err = client
        .create_as(
            RecordType::new("salesOrder").unwrap(),
            &serde_json::json!({"memo": "BODY-SECRET"}),
        )
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::Redirect { status, location } => {
            assert_eq!(*status, 307);
            let location = location.as_deref().unwrap();
            assert!(location.starts_with(&elsewhere.uri()), "{location}");
            assert!(!location.contains("token"), "{location}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("307"), "{err}");

    let err = client
        .get_as::<serde_json::Value>(
            RecordType::new("salesOrder").unwrap(),
            netsuite_client::RecordKey::parse("1").unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Redirect { status: 302, .. }),
        "{err:?}"
    );

    // One request each (no retry), and nothing at the other host.
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
    server.verify().await;
}
