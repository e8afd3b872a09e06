//! TBA (OAuth 1.0a HMAC-SHA256) against vectors computed independently.
//!
//! The expected values were computed once with Python's standard library, independently of this
//! crate:
//!
//! ```python
//! import hmac, hashlib, base64, urllib.parse
//! enc = lambda s: urllib.parse.quote(s, safe='-._~')
//! params = query + [('oauth_consumer_key', ck), ('oauth_nonce', nonce),
//!     ('oauth_signature_method', 'HMAC-SHA256'), ('oauth_timestamp', str(ts)),
//!     ('oauth_token', tk), ('oauth_version', '1.0')]
//! norm = '&'.join(f'{k}={v}' for k, v in sorted((enc(k), enc(v)) for k, v in params))
//! base = method + '&' + enc(base_uri) + '&' + enc(norm)
//! key = enc(consumer_secret) + '&' + enc(token_secret)
//! sig = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest())
//! ```

use crate::auth_support;

use std::sync::Arc;
use std::time::Duration;

use netsuite_client::account::AccountId;
use netsuite_client::auth::{AuthScheme, Authenticator, TbaCredentials, TbaSigner};
use reqwest::Method;
use url::Url;

use auth_support::{ManualClock, authorization, request};

const HOST: &str = "https://1234567-sb1.suitetalk.api.netsuite.com";

fn signer() -> TbaSigner {
    let account: AccountId = "1234567_sb1".parse().unwrap();
    // Secrets with reserved characters, so the key's own encoding is exercised.
    TbaSigner::new(
        TbaCredentials::new(
            &account,
            "ck_3f7a9e",
            "cs&secret/9",
            "tk_81b2c4",
            "ts+secret=1",
        )
        .unwrap(),
    )
}

/// Vector 1: GET with `q=externalId IS "A|B"` and `limit=10`.
const V1_NONCE: &str = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgm";
const V1_TIMESTAMP: u64 = 1_700_000_000;
const V1_BASE: &str = "GET&https%3A%2F%2F1234567-sb1.suitetalk.api.netsuite.com%2Fservices%2Frest%2Frecord%2Fv1%2FsalesOrder&limit%3D10%26oauth_consumer_key%3Dck_3f7a9e%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgm%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1700000000%26oauth_token%3Dtk_81b2c4%26oauth_version%3D1.0%26q%3DexternalId%2520IS%2520%2522A%257CB%2522";
const V1_SIGNATURE_ENCODED: &str = "Ogs6JhxVPZOnI%2BvFoKuFDd11SbAAaRSpb23S0SdPd2s%3D";

/// Vector 2: POST SuiteQL with `fields=id,tranId` and a non-ASCII, `&`-bearing `q`.
const V2_NONCE: &str = "Zx9Qw2Er4Ty6Ui8Op0AsDfGhJkLz";
const V2_TIMESTAMP: u64 = 1_767_225_600;
const V2_BASE: &str = "POST&https%3A%2F%2F1234567-sb1.suitetalk.api.netsuite.com%2Fservices%2Frest%2Fquery%2Fv1%2Fsuiteql&fields%3Did%252CtranId%26limit%3D1000%26oauth_consumer_key%3Dck_3f7a9e%26oauth_nonce%3DZx9Qw2Er4Ty6Ui8Op0AsDfGhJkLz%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1767225600%26oauth_token%3Dtk_81b2c4%26oauth_version%3D1.0%26offset%3D0%26q%3Dname%2520START_WITH%2520%2522Caf%25C3%25A9%2520%2526%2520Co%2522";
const V2_SIGNATURE_ENCODED: &str = "PY9nTZSHnKuDXk1lgaIbiNwV6qelfeqDdNGUgidHDq8%3D";

fn v1_url_built_with_query_pairs() -> Url {
    let mut url = Url::parse(&format!("{HOST}/services/rest/record/v1/salesOrder")).unwrap();
    url.query_pairs_mut()
        .append_pair("q", r#"externalId IS "A|B""#)
        .append_pair("limit", "10");
    url
}

#[test]
fn vector_with_spaces_quotes_and_pipe() {
    let s = signer();
    let url = v1_url_built_with_query_pairs();
    assert_eq!(
        s.signature_base_string(&Method::GET, &url, V1_NONCE, V1_TIMESTAMP),
        V1_BASE
    );
    let header = s.authorization_header(&Method::GET, &url, V1_NONCE, V1_TIMESTAMP);
    assert_eq!(
        header,
        format!(
            r#"OAuth realm="1234567_SB1", oauth_consumer_key="ck_3f7a9e", oauth_token="tk_81b2c4", oauth_signature_method="HMAC-SHA256", oauth_timestamp="1700000000", oauth_nonce="{V1_NONCE}", oauth_version="1.0", oauth_signature="{V1_SIGNATURE_ENCODED}""#
        )
    );
}

#[test]
fn already_encoded_query_is_not_encoded_twice() {
    let s = signer();
    let reference = s.authorization_header(
        &Method::GET,
        &v1_url_built_with_query_pairs(),
        V1_NONCE,
        V1_TIMESTAMP,
    );
    // The same query written with %20 (as a browser or another client would) and with `+`.
    for written in [
        "q=externalId%20IS%20%22A%7CB%22&limit=10",
        "q=externalId+IS+%22A%7CB%22&limit=10",
        "limit=10&q=externalId%20IS%20%22A|B%22",
    ] {
        let url = Url::parse(&format!(
            "{HOST}/services/rest/record/v1/salesOrder?{written}"
        ))
        .unwrap();
        let base = s.signature_base_string(&Method::GET, &url, V1_NONCE, V1_TIMESTAMP);
        assert_eq!(base, V1_BASE, "{written}");
        assert!(!base.contains("%2525"), "double encoded: {base}");
        assert_eq!(
            s.authorization_header(&Method::GET, &url, V1_NONCE, V1_TIMESTAMP),
            reference,
            "{written}"
        );
    }
}

#[test]
fn vector_post_with_non_ascii_and_ampersand() {
    let s = signer();
    let mut url = Url::parse(&format!("{HOST}/services/rest/query/v1/suiteql")).unwrap();
    url.query_pairs_mut()
        .append_pair("limit", "1000")
        .append_pair("offset", "0")
        .append_pair("fields", "id,tranId")
        .append_pair("q", r#"name START_WITH "Café & Co""#);
    assert_eq!(
        s.signature_base_string(&Method::POST, &url, V2_NONCE, V2_TIMESTAMP),
        V2_BASE
    );
    let header = s.authorization_header(&Method::POST, &url, V2_NONCE, V2_TIMESTAMP);
    assert!(
        header.ends_with(&format!(r#"oauth_signature="{V2_SIGNATURE_ENCODED}""#)),
        "{header}"
    );
}

#[test]
fn every_query_parameter_changes_the_signature() {
    let s = signer();
    let base = v1_url_built_with_query_pairs();
    let reference = s.authorization_header(&Method::GET, &base, V1_NONCE, V1_TIMESTAMP);
    let mut with_offset = base.clone();
    with_offset.query_pairs_mut().append_pair("offset", "10");
    assert_ne!(
        s.authorization_header(&Method::GET, &with_offset, V1_NONCE, V1_TIMESTAMP),
        reference
    );
    assert_ne!(
        s.authorization_header(&Method::POST, &base, V1_NONCE, V1_TIMESTAMP),
        reference
    );
    assert_ne!(
        s.authorization_header(&Method::GET, &base, V1_NONCE, V1_TIMESTAMP + 1),
        reference
    );
}

#[tokio::test]
async fn authorize_uses_fresh_nonce_and_clock_timestamp() {
    let account: AccountId = "1234567_SB1".parse().unwrap();
    let clock = Arc::new(ManualClock::new());
    let s = TbaSigner::with_clock(
        TbaCredentials::new(&account, "ck", "cs", "tk", "ts").unwrap(),
        clock.clone(),
    );
    assert_eq!(s.scheme(), AuthScheme::Tba);
    let url = format!("{HOST}/services/rest/record/v1/salesOrder?limit=5");

    let mut first = request(&url);
    s.authorize(&mut first).await.unwrap();
    clock.advance(Duration::from_secs(7));
    let mut second = request(&url);
    s.authorize(&mut second).await.unwrap();

    let field = |header: &str, name: &str| -> String {
        let start = header.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        header[start..].split('"').next().unwrap().to_owned()
    };
    let (h1, h2) = (authorization(&first), authorization(&second));
    assert!(h1.starts_with(r#"OAuth realm="1234567_SB1""#), "{h1}");
    assert_eq!(field(&h1, "oauth_timestamp"), "1767225600");
    assert_eq!(field(&h2, "oauth_timestamp"), "1767225607");
    let (n1, n2) = (field(&h1, "oauth_nonce"), field(&h2, "oauth_nonce"));
    assert!(n1.len() >= 20, "{n1}");
    assert_ne!(n1, n2);
    // The header the authenticator set verifies against the explicit signer with its nonce.
    assert_eq!(
        h1,
        s.authorization_header(&Method::GET, first.url(), &n1, 1_767_225_600)
    );
    assert!(first.headers()[reqwest::header::AUTHORIZATION].is_sensitive());
}

#[test]
fn debug_shows_only_the_realm() {
    let account: AccountId = "1234567_SB1".parse().unwrap();
    let creds = TbaCredentials::new(
        &account,
        "ckey-VISIBLE1",
        "csecret-VISIBLE2",
        "tokid-VISIBLE3",
        "toksecret-VISIBLE4",
    )
    .unwrap();
    let signer = TbaSigner::new(creds.clone());
    for text in [
        format!("{creds:?}"),
        format!("{signer:?}"),
        format!("{signer:#?}"),
    ] {
        assert!(text.contains("1234567_SB1"), "{text}");
        assert!(!text.contains("VISIBLE"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}

#[test]
fn empty_credentials_are_refused() {
    let account: AccountId = "1234567".parse().unwrap();
    let err = TbaCredentials::new(&account, "ck", " ", "tk", "ts").unwrap_err();
    assert!(err.to_string().contains("consumer secret"), "{err}");
}

#[tokio::test]
async fn authorize_sends_the_query_it_signed_in_rfc3986_form() {
    let s = signer();
    // Built the way reqwest's `.query()` and `query_pairs_mut` build it: spaces as `+`.
    let mut req = reqwest::Request::new(Method::GET, v1_url_built_with_query_pairs());
    assert!(req.url().query().unwrap().contains('+'));
    s.authorize(&mut req).await.unwrap();
    assert_eq!(
        req.url().query(),
        Some("q=externalId%20IS%20%22A%7CB%22&limit=10")
    );
    let header = authorization(&req);
    let nonce_start = header.find("oauth_nonce=\"").unwrap() + 13;
    let nonce = &header[nonce_start..nonce_start + 32];
    let ts_start = header.find("oauth_timestamp=\"").unwrap() + 17;
    let timestamp: u64 = header[ts_start..]
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // Same parameters, so the same signature as for the original URL.
    assert_eq!(
        header,
        s.authorization_header(
            &Method::GET,
            &v1_url_built_with_query_pairs(),
            nonce,
            timestamp
        )
    );
}
