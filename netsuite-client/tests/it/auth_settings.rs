//! Building authenticators from settings (environment variables). Each method's tests are in a
//! module that builds only with its cargo feature; without it, naming the method is an error
//! that says which feature.

use std::collections::HashMap;

use netsuite_client::auth::{AuthError, AuthScheme, AuthSettings};

fn settings(vars: &[(&str, &str)]) -> Result<AuthSettings, AuthError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    AuthSettings::from_vars(|name| map.get(name).cloned())
}

#[test]
fn missing_or_unknown_settings_are_explained() {
    let err = settings(&[]).unwrap_err();
    assert!(err.to_string().contains("NETSUITE_AUTH"), "{err}");

    let err = settings(&[("NETSUITE_AUTH", "password")]).unwrap_err();
    assert!(err.to_string().contains("m2m"), "{err}");
}

#[test]
fn configuration_syntax_errors_never_show_secrets() {
    let err = AuthSettings::from_config_text("token_secret = \"ts-secret").unwrap_err();
    assert!(!err.to_string().contains("ts-secret"), "{err}");
}

/// Each method left out of the build: naming it says which feature brings it back.
#[cfg(not(all(
    feature = "oauth2-client-credentials",
    feature = "tba",
    feature = "oauth2-authorization-code",
    feature = "static-bearer"
)))]
#[test]
fn methods_left_out_of_the_build_name_their_feature() {
    let left_out: &[(&str, &str)] = &[
        #[cfg(not(feature = "oauth2-client-credentials"))]
        ("m2m", "oauth2-client-credentials"),
        #[cfg(not(feature = "tba"))]
        ("tba", "tba"),
        #[cfg(not(feature = "oauth2-authorization-code"))]
        ("authorization_code", "oauth2-authorization-code"),
        #[cfg(not(feature = "static-bearer"))]
        ("bearer", "static-bearer"),
    ];
    for (name, feature) in left_out {
        let err = settings(&[("NETSUITE_AUTH", name)]).unwrap_err();
        assert!(
            err.to_string().contains(&format!("`{feature}`")),
            "{name}: {err}"
        );
    }
}

/// OAuth 2.0 client credentials (M2M).
#[cfg(feature = "oauth2-client-credentials")]
mod m2m {
    use super::*;

    use netsuite_client::account::{AccountId, AllowHttp, Endpoint};
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use crate::auth_support::*;

    fn key_file() -> String {
        format!(
            "{}/tests/fixtures/auth_ec_p256_private.pem",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    #[tokio::test]
    async fn m2m_from_variables_gets_and_uses_a_token() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/services/rest/auth/oauth2/v1/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"access_token": "env-token", "expires_in": "3600", "token_type": "bearer"}),
            ))
            .expect(1)
            .mount(&server)
            .await;
        let file = key_file();
        let s = settings(&[
            ("NETSUITE_CLIENT_ID", "cid"),
            ("NETSUITE_CERTIFICATE_ID", "kid"),
            ("NETSUITE_PRIVATE_KEY_FILE", &file),
            ("NETSUITE_JWT_ALGORITHM", "es256"),
            ("NETSUITE_SCOPES", "rest_webservices, restlets"),
        ])
        .unwrap();
        assert_eq!(s.scheme(), AuthScheme::OAuth2ClientCredentials);
        let account: AccountId = "1234567".parse().unwrap();
        let ep = Endpoint::new(&server.uri(), AllowHttp::Yes).unwrap();
        let auth = s.build(&account, &ep).unwrap();
        let mut req = request(&server.uri());
        auth.authorize(&mut req).await.unwrap();
        assert_eq!(authorization(&req), "Bearer env-token");
        let received = server.received_requests().await.unwrap();
        let jwt = field(&form_fields(&received[0].body), "client_assertion").to_owned();
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some("kid"));
    }

    #[test]
    fn m2m_accepts_pem_text_with_escaped_newlines() {
        let pem = String::from_utf8(P256_PRIVATE.to_vec()).unwrap();
        let one_line = pem.trim_end().replace('\n', "\\n");
        let s = settings(&[
            ("NETSUITE_AUTH", "m2m"),
            ("NETSUITE_CLIENT_ID", "cid"),
            ("NETSUITE_CERTIFICATE_ID", "kid"),
            ("NETSUITE_PRIVATE_KEY", &one_line),
            ("NETSUITE_JWT_ALGORITHM", "ES256"),
        ])
        .unwrap();
        let account: AccountId = "1234567".parse().unwrap();
        s.build(&account, &account.endpoint()).unwrap();
        let text = format!("{s:?}");
        assert!(!text.contains("BEGIN"), "{text}");
        assert!(!text.contains(pem.lines().nth(1).unwrap()), "{text}");
    }

    #[test]
    fn wrong_m2m_settings_are_explained() {
        let file = key_file();
        let base = [
            ("NETSUITE_CLIENT_ID", "cid"),
            ("NETSUITE_CERTIFICATE_ID", "kid"),
            ("NETSUITE_PRIVATE_KEY_FILE", file.as_str()),
        ];
        let mut rs256 = base.to_vec();
        rs256.push(("NETSUITE_JWT_ALGORITHM", "RS256"));
        let err = settings(&rs256).unwrap_err();
        assert!(err.to_string().contains("PS256"), "{err}");

        let mut bad_scope = base.to_vec();
        bad_scope.push(("NETSUITE_SCOPES", "rest_webservices,everything"));
        let err = settings(&bad_scope).unwrap_err();
        assert!(err.to_string().contains("NETSUITE_SCOPES"), "{err}");

        let err = settings(&[
            ("NETSUITE_AUTH", "m2m"),
            ("NETSUITE_CLIENT_ID", "cid"),
            ("NETSUITE_CERTIFICATE_ID", "kid"),
            ("NETSUITE_PRIVATE_KEY_FILE", "/nonexistent/key.pem"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/key.pem"), "{err}");
    }

    #[tokio::test]
    async fn m2m_from_configuration_text_with_a_multi_line_pem_gets_a_token() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/services/rest/auth/oauth2/v1/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"access_token": "config-token", "expires_in": "3600", "token_type": "bearer"}),
            ))
            .expect(1)
            .mount(&server)
            .await;
        let pem = String::from_utf8(P256_PRIVATE.to_vec()).unwrap();
        let text = format!(
            "[netsuite.credentials]\n# from the application's configuration file\nauth = \"m2m\"\nclient_id = \"cid\"\nCERTIFICATE_ID = 'kid'\njwt_algorithm = ES256\nprivate_key = \"\"\"\n{pem}\"\"\"\n"
        );
        let s = AuthSettings::from_config_text(&text).unwrap();
        assert_eq!(s.scheme(), AuthScheme::OAuth2ClientCredentials);
        let shown = format!("{s:?}");
        assert!(!shown.contains(pem.lines().nth(1).unwrap()), "{shown}");
        let account: AccountId = "1234567".parse().unwrap();
        let ep = Endpoint::new(&server.uri(), AllowHttp::Yes).unwrap();
        let auth = s.build(&account, &ep).unwrap();
        let mut req = request(&server.uri());
        auth.authorize(&mut req).await.unwrap();
        assert_eq!(authorization(&req), "Bearer config-token");
        let received = server.received_requests().await.unwrap();
        let jwt = field(&form_fields(&received[0].body), "client_assertion").to_owned();
        assert_eq!(
            jsonwebtoken::decode_header(&jwt).unwrap().kid.as_deref(),
            Some("kid")
        );
    }
}

/// Token-based authentication.
#[cfg(feature = "tba")]
mod tba {
    use super::*;

    use netsuite_client::account::AccountId;

    use crate::auth_support::*;

    #[tokio::test]
    async fn tba_is_inferred_and_signs_with_the_account_realm() {
        let s = settings(&[
            ("NETSUITE_CONSUMER_KEY", "ck"),
            ("NETSUITE_CONSUMER_SECRET", "CONSUMER-SECRET"),
            ("NETSUITE_TOKEN_ID", "tk"),
            ("NETSUITE_TOKEN_SECRET", "TOKEN-SECRET"),
        ])
        .unwrap();
        assert_eq!(s.scheme(), AuthScheme::Tba);
        assert!(!format!("{s:?}").contains("SECRET"));
        let account: AccountId = "1234567_sb1".parse().unwrap();
        let auth = s.build(&account, &account.endpoint()).unwrap();
        let mut req = request("https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/x");
        auth.authorize(&mut req).await.unwrap();
        assert!(authorization(&req).starts_with(r#"OAuth realm="1234567_SB1""#));
    }

    #[test]
    fn missing_tba_settings_are_explained() {
        let err =
            settings(&[("NETSUITE_AUTH", "tba"), ("NETSUITE_CONSUMER_KEY", "ck")]).unwrap_err();
        assert!(
            err.to_string().contains("NETSUITE_CONSUMER_SECRET"),
            "{err}"
        );
    }

    #[test]
    fn tba_configuration_errors_never_show_secrets() {
        let err = AuthSettings::from_config_text("auth = tba\nconsumer_key = \"ck-secret\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("NETSUITE_CONSUMER_SECRET is not set"), "{err}");
        assert!(!err.contains("ck-secret"), "{err}");
    }
}

/// OAuth 2.0 authorization code.
#[cfg(feature = "oauth2-authorization-code")]
mod authorization_code {
    use super::*;

    use netsuite_client::account::AccountId;

    #[test]
    fn authorization_code_is_inferred() {
        let s = settings(&[
            ("NETSUITE_CLIENT_ID", "cid"),
            ("NETSUITE_CLIENT_SECRET", "CLIENT-SECRET"),
            ("NETSUITE_REDIRECT_URL", "https://wms.example/cb"),
            ("NETSUITE_REFRESH_TOKEN", "REFRESH-SECRET"),
        ])
        .unwrap();
        assert_eq!(s.scheme(), AuthScheme::OAuth2AuthorizationCode);
        let text = format!("{s:?}");
        assert!(!text.contains("SECRET"), "{text}");
        let account: AccountId = "1234567".parse().unwrap();
        let auth = s.build(&account, &account.endpoint()).unwrap();
        assert_eq!(auth.scheme(), AuthScheme::OAuth2AuthorizationCode);
    }
}

/// A bearer token the caller has.
#[cfg(feature = "static-bearer")]
mod bearer {
    use super::*;

    #[test]
    fn bearer_is_inferred() {
        let s = settings(&[("NETSUITE_ACCESS_TOKEN", "abc")]).unwrap();
        assert_eq!(s.scheme(), AuthScheme::StaticBearer);
        assert!(!format!("{s:?}").contains("abc"));
    }
}
