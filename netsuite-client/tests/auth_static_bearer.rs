//! The caller-supplied bearer token.

mod auth_support;

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
