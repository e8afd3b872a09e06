//! Session cookies signed with the session key, and the CSRF tokens tied to them.
//!
//! A session is a cookie `<payload>.<mac>`: the payload names the user, the expiry and a random
//! nonce; the MAC is HMAC-SHA-256 under the session key, so a cookie changed by anyone without
//! the key is refused, and every instance holding the key accepts it. Sign-out revokes the
//! nonce on the instance that served it until the session would have expired. The CSRF token of
//! a form is the HMAC of the session's nonce: it is valid for that session only.
//!
//! ```
//! use jiff::{SignedDuration, Timestamp};
//! use sync_console::session::Sessions;
//! use sync_engine::console_settings::SessionKey;
//!
//! let sessions = Sessions::new(SessionKey::new(vec![1; 32]).unwrap(), SignedDuration::from_hours(8), false);
//! let now: Timestamp = "2026-12-01T09:00:00Z".parse().unwrap();
//! let (session, cookie) = sessions.issue("ops", now);
//! let read = sessions.verify(&cookie, now).unwrap();
//! assert_eq!(read.user, "ops");
//! assert!(sessions.check_csrf(&read, &sessions.csrf(&session)));
//! // Expired, or tampered with (another user under the same signature): refused.
//! assert!(sessions.verify(&cookie, now + SignedDuration::from_hours(9)).is_none());
//! use base64::Engine as _;
//! use base64::engine::general_purpose::URL_SAFE_NO_PAD;
//! let (payload, mac) = cookie.split_once('.').unwrap();
//! let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
//! let forged = format!("{}.{mac}", URL_SAFE_NO_PAD.encode(payload.replacen("ops", "adm", 1)));
//! assert!(sessions.verify(&forged, now).is_none());
//! ```

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use sync_engine::console_settings::SessionKey;

type HmacSha256 = Hmac<Sha256>;

/// Most revoked sessions remembered at once (older ones expire anyway).
const MAX_REVOKED: usize = 100_000;

/// A verified session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who signed in (empty for the session a sign-in form is served with).
    pub user: String,
    /// When it ends.
    pub expires: Timestamp,
    nonce: String,
}

/// Issues and checks sessions.
pub struct Sessions {
    key: SessionKey,
    ttl: SignedDuration,
    secure: bool,
    revoked: Mutex<HashMap<String, Timestamp>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("ttl", &self.ttl)
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// Sessions signed with `key`, lasting `ttl`, with `Secure` cookies when `secure`.
    pub fn new(key: SessionKey, ttl: SignedDuration, secure: bool) -> Sessions {
        Sessions {
            key,
            ttl,
            secure,
            revoked: Mutex::new(HashMap::new()),
        }
    }

    /// How long a session lasts.
    pub fn ttl(&self) -> SignedDuration {
        self.ttl
    }

    fn mac(&self, parts: &[&[u8]]) -> Vec<u8> {
        let mut mac =
            HmacSha256::new_from_slice(self.key.as_bytes()).expect("HMAC takes any key length");
        for part in parts {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }

    /// A new session for `user` from `now`, with its cookie value.
    pub fn issue(&self, user: &str, now: Timestamp) -> (Session, String) {
        self.issue_for(user, now, self.ttl)
    }

    /// A new session for `user` lasting `ttl`.
    pub fn issue_for(&self, user: &str, now: Timestamp, ttl: SignedDuration) -> (Session, String) {
        let nonce_bytes: [u8; 18] = rand::random();
        let session = Session {
            user: user.to_owned(),
            expires: now + ttl,
            nonce: URL_SAFE_NO_PAD.encode(nonce_bytes),
        };
        let payload = format!(
            "{}\n{}\n{}",
            session.user,
            session.expires.as_second(),
            session.nonce
        );
        let mac = self.mac(&[b"session", payload.as_bytes()]);
        let value = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(mac)
        );
        (session, value)
    }

    /// The session of cookie value `value` when its signature holds, it has not expired at
    /// `now` and it was not revoked.
    pub fn verify(&self, value: &str, now: Timestamp) -> Option<Session> {
        let (payload, mac) = value.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        let expected = self.mac(&[b"session", &payload]);
        if !bool::from(expected.ct_eq(&mac)) {
            return None;
        }
        let payload = String::from_utf8(payload).ok()?;
        let mut parts = payload.splitn(3, '\n');
        let user = parts.next()?.to_owned();
        let expires = Timestamp::from_second(parts.next()?.parse().ok()?).ok()?;
        let nonce = parts.next()?.to_owned();
        if expires <= now {
            return None;
        }
        if self.revoked().contains_key(&nonce) {
            return None;
        }
        Some(Session {
            user,
            expires,
            nonce,
        })
    }

    fn revoked(&self) -> std::sync::MutexGuard<'_, HashMap<String, Timestamp>> {
        self.revoked.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ends `session` (sign-out): its cookie is refused from now on, on this instance.
    pub fn revoke(&self, session: &Session, now: Timestamp) {
        let mut revoked = self.revoked();
        if revoked.len() >= MAX_REVOKED {
            revoked.retain(|_, expires| *expires > now);
        }
        revoked.insert(session.nonce.clone(), session.expires);
    }

    /// The CSRF token of `session`'s forms.
    pub fn csrf(&self, session: &Session) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(&[b"csrf", session.nonce.as_bytes()]))
    }

    /// Whether `token` is `session`'s CSRF token (compared in constant time).
    pub fn check_csrf(&self, session: &Session, token: &str) -> bool {
        bool::from(self.csrf(session).as_bytes().ct_eq(token.as_bytes()))
    }

    /// The cookie's name: `__Host-` prefixed when `Secure` (bound to this host and path `/`).
    pub fn cookie_name(&self) -> &'static str {
        if self.secure {
            "__Host-sync-console"
        } else {
            "sync-console"
        }
    }

    /// The `Set-Cookie` header value carrying `value` for `max_age`.
    pub fn set_cookie(&self, value: &str, max_age: SignedDuration) -> String {
        format!(
            "{}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}",
            self.cookie_name(),
            max_age.as_secs().max(0),
            if self.secure { "; Secure" } else { "" }
        )
    }

    /// The `Set-Cookie` header value that removes the cookie.
    pub fn clear_cookie(&self) -> String {
        self.set_cookie("", SignedDuration::ZERO)
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(byte: u8) -> Sessions {
        Sessions::new(
            SessionKey::new(vec![byte; 32]).unwrap(),
            SignedDuration::from_hours(1),
            true,
        )
    }

    #[test]
    fn another_key_or_a_revocation_refuses() {
        let now = Timestamp::UNIX_EPOCH + SignedDuration::from_hours(1000);
        let (session, cookie) = sessions(1).issue("fin", now);
        assert!(sessions(2).verify(&cookie, now).is_none());
        let s = sessions(1);
        assert!(s.verify(&cookie, now).is_some());
        s.revoke(&session, now);
        assert!(s.verify(&cookie, now).is_none());
        assert!(s.verify("garbage", now).is_none());
        assert!(s.verify("a.b", now).is_none());
    }

    #[test]
    fn csrf_is_per_session() {
        let now = Timestamp::UNIX_EPOCH + SignedDuration::from_hours(1000);
        let s = sessions(1);
        let (a, _) = s.issue("a", now);
        let (b, _) = s.issue("a", now);
        assert!(s.check_csrf(&a, &s.csrf(&a)));
        assert!(!s.check_csrf(&a, &s.csrf(&b)));
        assert!(!s.check_csrf(&a, ""));
    }

    #[test]
    fn cookies() {
        let s = sessions(1);
        let header = s.set_cookie("v", SignedDuration::from_secs(60));
        assert!(header.starts_with(
            "__Host-sync-console=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        ));
        assert_eq!(
            cookie_value("a=1; __Host-sync-console=xyz", s.cookie_name()),
            Some("xyz")
        );
        assert_eq!(cookie_value("a=1", s.cookie_name()), None);
    }
}
