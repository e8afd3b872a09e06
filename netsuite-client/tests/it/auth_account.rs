//! Account ids → host and realm, and the one rule for endpoint URLs.

use netsuite_client::account::{AccountId, AccountIdError, AllowHttp, Endpoint, EndpointError};

#[test]
fn account_ids_give_host_and_realm() {
    let table = [
        // input, realm, host
        ("1234567", "1234567", "1234567.suitetalk.api.netsuite.com"),
        (
            "1234567_SB1",
            "1234567_SB1",
            "1234567-sb1.suitetalk.api.netsuite.com",
        ),
        (
            "1234567_sb1",
            "1234567_SB1",
            "1234567-sb1.suitetalk.api.netsuite.com",
        ),
        (
            "1234567-SB2",
            "1234567_SB2",
            "1234567-sb2.suitetalk.api.netsuite.com",
        ),
        (
            " 1234567-sb12 ",
            "1234567_SB12",
            "1234567-sb12.suitetalk.api.netsuite.com",
        ),
        (
            "TSTDRV1234567",
            "TSTDRV1234567",
            "tstdrv1234567.suitetalk.api.netsuite.com",
        ),
        (
            "tstdrv1234567",
            "TSTDRV1234567",
            "tstdrv1234567.suitetalk.api.netsuite.com",
        ),
        (
            "tstdrv1234567_sb1",
            "TSTDRV1234567_SB1",
            "tstdrv1234567-sb1.suitetalk.api.netsuite.com",
        ),
        (
            "1234567_rp",
            "1234567_RP",
            "1234567-rp.suitetalk.api.netsuite.com",
        ),
    ];
    for (input, realm, host) in table {
        let id = AccountId::new(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(id.realm(), realm, "{input}");
        assert_eq!(id.as_str(), realm, "{input}");
        assert_eq!(id.to_string(), realm, "{input}");
        assert_eq!(id.host(), host, "{input}");
        assert_eq!(
            id.rest_base_url().as_str(),
            format!("https://{host}/services/rest"),
            "{input}"
        );
        assert_eq!(
            id.token_url().as_str(),
            format!("https://{host}/services/rest/auth/oauth2/v1/token"),
            "{input}"
        );
    }
}

#[test]
fn sandbox_authorize_url_is_on_the_app_host() {
    let id: AccountId = "1234567_SB1".parse().unwrap();
    assert_eq!(id.app_host(), "1234567-sb1.app.netsuite.com");
    assert_eq!(
        id.authorize_url().as_str(),
        "https://1234567-sb1.app.netsuite.com/app/login/oauth2/authorize.nl"
    );
}

#[test]
fn bad_account_ids_are_refused_before_they_become_hosts() {
    assert_eq!(AccountId::new(""), Err(AccountIdError::Empty));
    assert_eq!(AccountId::new("   "), Err(AccountIdError::Empty));
    assert!(matches!(
        AccountId::new(&"1".repeat(41)),
        Err(AccountIdError::TooLong { len: 41 })
    ));
    for bad in [
        "evil.com/",
        "1234567.attacker.net",
        "1234567_SB1.example",
        "1234567@host",
        "1234567 SB1",
        "1234567_SB",
        "1234567_",
        "_SB1",
        "ABC1234",
        "1234567_XY1",
        "1234567_SB1_SB2",
        "tstdrv",
        "１２３",
        "1234567%2e",
        "../1234567",
    ] {
        match AccountId::new(bad) {
            Err(AccountIdError::Malformed { input }) => assert_eq!(input, bad.trim()),
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
}

#[test]
fn account_id_error_explains_the_expected_shape() {
    let message = AccountId::new("acme").unwrap_err().to_string();
    assert!(message.contains("\"acme\""), "{message}");
    assert!(message.contains("1234567_SB1"), "{message}");
}

#[test]
fn plain_http_needs_explicit_permission() {
    assert!(matches!(
        Endpoint::new("http://127.0.0.1:9000", AllowHttp::No),
        Err(EndpointError::HttpNotAllowed { .. })
    ));
    let allowed = Endpoint::new("http://127.0.0.1:9000", AllowHttp::Yes).unwrap();
    assert!(allowed.is_plain_http());
    assert_eq!(
        allowed.rest_base_url().as_str(),
        "http://127.0.0.1:9000/services/rest"
    );
    let https = Endpoint::new("https://sim.example/ns", AllowHttp::No).unwrap();
    assert!(!https.is_plain_http());
    assert_eq!(
        https.token_url().as_str(),
        "https://sim.example/ns/services/rest/auth/oauth2/v1/token"
    );
}

#[test]
fn endpoint_refuses_unsafe_urls() {
    assert!(matches!(
        Endpoint::new("ftp://sim.example", AllowHttp::Yes),
        Err(EndpointError::UnsupportedScheme { .. })
    ));
    assert!(matches!(
        Endpoint::new("https://user:pw@sim.example", AllowHttp::No),
        Err(EndpointError::EmbeddedCredentials)
    ));
    assert!(matches!(
        Endpoint::new("https://sim.example/?a=1", AllowHttp::No),
        Err(EndpointError::QueryOrFragment { .. })
    ));
    assert!(matches!(
        Endpoint::new("not a url", AllowHttp::Yes),
        Err(EndpointError::NotAUrl { .. })
    ));
}

#[test]
fn endpoint_accepts_root_or_services_rest_suffix() {
    let a = Endpoint::new("https://sim.example", AllowHttp::No).unwrap();
    let b = Endpoint::new("https://sim.example/services/rest/", AllowHttp::No).unwrap();
    let c = Endpoint::new("https://sim.example/services/rest", AllowHttp::No).unwrap();
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a.root().as_str(), "https://sim.example/");
    assert_eq!(
        a.rest_url("record/v1/salesOrder/eid:SO-1").as_str(),
        "https://sim.example/services/rest/record/v1/salesOrder/eid:SO-1"
    );
}

#[test]
fn account_endpoint_matches_rest_base() {
    let id: AccountId = "1234567_SB1".parse().unwrap();
    let endpoint = Endpoint::from(&id);
    assert_eq!(endpoint.rest_base_url(), id.rest_base_url());
    assert_eq!(endpoint.token_url(), id.token_url());
    assert_eq!(
        endpoint.root().as_str(),
        "https://1234567-sb1.suitetalk.api.netsuite.com/"
    );
}
