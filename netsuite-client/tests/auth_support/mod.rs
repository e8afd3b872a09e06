//! Helpers shared by the auth tests: a clock tests can move, and the fixture keys.

#![allow(dead_code)]

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use netsuite_client::auth::Clock;

/// A clock that stands still until a test moves it.
pub struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    pub fn new() -> Self {
        // 2026-01-01T00:00:00Z
        ManualClock(Mutex::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600),
        ))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

pub const RSA_PRIVATE: &[u8] = include_bytes!("../fixtures/auth_rsa3072_private.pem");
pub const RSA_PUBLIC: &[u8] = include_bytes!("../fixtures/auth_rsa3072_public.pem");
pub const P256_PRIVATE: &[u8] = include_bytes!("../fixtures/auth_ec_p256_private.pem");
pub const P256_PUBLIC: &[u8] = include_bytes!("../fixtures/auth_ec_p256_public.pem");
pub const P384_PRIVATE: &[u8] = include_bytes!("../fixtures/auth_ec_p384_private.pem");
pub const P384_PUBLIC: &[u8] = include_bytes!("../fixtures/auth_ec_p384_public.pem");

/// The form fields of a recorded request body.
pub fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// One form field, which must appear exactly once.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    let found: Vec<&str> = fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(found.len(), 1, "field {name} in {fields:?}");
    found[0]
}

/// A bare request to authorize.
pub fn request(url: &str) -> reqwest::Request {
    reqwest::Request::new(reqwest::Method::GET, url.parse().unwrap())
}

/// The Authorization header of a request, as text.
pub fn authorization(request: &reqwest::Request) -> String {
    request
        .headers()
        .get(reqwest::header::AUTHORIZATION)
        .expect("an Authorization header")
        .to_str()
        .unwrap()
        .to_owned()
}
