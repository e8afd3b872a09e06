//! Settings of the operations console (`[console]`): where it listens, who may sign in with
//! which role, how long a session lasts and how sign-in is throttled.
//!
//! The console itself is the `sync-console` crate; these are its typed settings, read with the
//! rest of the configuration and checked by [`ConsoleSettings::validate`]. Two secrets come from
//! the environment rather than the file:
//!
//! - [`SESSION_KEY_VAR`] (`SYNC_CONSOLE_SESSION_KEY`): the key that signs session cookies, at
//!   least [`MIN_SESSION_KEY_BYTES`] bytes. Required when several instances serve the console
//!   (a PostgreSQL store), so that a session opened on one is valid on the others; without it a
//!   single instance makes a random key at start (sessions end when it restarts).
//! - [`USERS_VAR`] (`SYNC_CONSOLE_USERS`): users in addition to those of the file, as
//!   `name:role:phc` entries separated by whitespace or `;`, `phc` being an argon2 PHC string
//!   (`$argon2id$v=19$m=…`), as `sync console hash-password` prints.
//!
//! ```
//! use sync_engine::console_settings::{ConsoleRole, ConsoleSettings, parse_users};
//!
//! let settings: ConsoleSettings = toml::from_str(r#"
//!     listen = "127.0.0.1:8090"
//!     [[users]]
//!     name = "ops"
//!     role = "operations"
//!     password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
//! "#).unwrap();
//! settings.validate().unwrap();
//! assert_eq!(settings.users[0].role, ConsoleRole::Operations);
//!
//! let extra = parse_users("fin:finance:$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").unwrap();
//! assert_eq!(extra[0].name, "fin");
//! ```

use std::fmt;
use std::net::SocketAddr;

use serde::Deserialize;

/// The variable holding the key that signs session cookies.
pub const SESSION_KEY_VAR: &str = "SYNC_CONSOLE_SESSION_KEY";
/// The variable holding users in addition to the configuration's (`name:role:phc`, separated by
/// whitespace or `;`).
pub const USERS_VAR: &str = "SYNC_CONSOLE_USERS";
/// The shortest session key accepted, in bytes.
pub const MIN_SESSION_KEY_BYTES: usize = 32;
/// The longest session accepted, in hours (a week).
pub const MAX_SESSION_HOURS: u64 = 168;

/// What a person may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsoleRole {
    /// Reads every page; takes no action.
    Viewer,
    /// Acts on exceptions owned by operations.
    Operations,
    /// Acts on exceptions owned by finance.
    Finance,
    /// Acts on every exception.
    Admin,
}

impl ConsoleRole {
    /// The role's name as configured (`viewer`, `operations`, `finance`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            ConsoleRole::Viewer => "viewer",
            ConsoleRole::Operations => "operations",
            ConsoleRole::Finance => "finance",
            ConsoleRole::Admin => "admin",
        }
    }

    /// The role named `text`, if any.
    pub fn parse(text: &str) -> Option<ConsoleRole> {
        [
            ConsoleRole::Viewer,
            ConsoleRole::Operations,
            ConsoleRole::Finance,
            ConsoleRole::Admin,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }

    /// Whether this role may act on an exception owned by `owner`: an admin on every one,
    /// operations and finance on their own, a viewer on none.
    ///
    /// ```
    /// use sync_engine::console_settings::ConsoleRole;
    ///
    /// assert!(ConsoleRole::Operations.may_act_on("operations"));
    /// assert!(!ConsoleRole::Finance.may_act_on("operations"));
    /// assert!(ConsoleRole::Admin.may_act_on("item_master"));
    /// assert!(!ConsoleRole::Viewer.may_act_on("operations"));
    /// ```
    pub fn may_act_on(self, owner: &str) -> bool {
        match self {
            ConsoleRole::Admin => true,
            ConsoleRole::Operations | ConsoleRole::Finance => owner == self.as_str(),
            ConsoleRole::Viewer => false,
        }
    }
}

impl fmt::Display for ConsoleRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One person who may sign in.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleUserSettings {
    /// The name they sign in with, shown in the audit trail.
    pub name: String,
    /// What they may do.
    pub role: ConsoleRole,
    /// Their password's argon2 PHC string (`$argon2id$v=19$m=…`).
    pub password_hash: String,
}

impl fmt::Debug for ConsoleUserSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleUserSettings")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password_hash", &"***")
            .finish()
    }
}

/// The console's settings (`[console]`). Present: `sync run` serves the console.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    /// Address to listen on, apart from the webhook intake's.
    pub listen: SocketAddr,
    /// The address people open, when a proxy stands in front (`https://…` marks cookies
    /// `Secure` even on a loopback listener).
    #[serde(default)]
    pub public_url: Option<String>,
    /// The Clarus web application's address, for links to Clarus records (`<clarus_url>/goods_outs/<id>`).
    #[serde(default)]
    pub clarus_url: Option<String>,
    /// Hours a session lasts after sign-in (1 to 168, default 8).
    #[serde(default = "default_session_hours")]
    pub session_hours: u64,
    /// Connections served at once (default 256).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Failed sign-ins one user name may have within `throttle_minutes` before further
    /// attempts are refused unchecked (default 5).
    #[serde(default = "default_failures_per_user")]
    pub failures_per_user: u32,
    /// Failed sign-ins one address may have within `throttle_minutes` (default 20).
    #[serde(default = "default_failures_per_address")]
    pub failures_per_address: u32,
    /// The window of the sign-in throttle, in minutes (default 15).
    #[serde(default = "default_throttle_minutes")]
    pub throttle_minutes: u64,
    /// The people who may sign in (more may come from [`USERS_VAR`]).
    #[serde(default)]
    pub users: Vec<ConsoleUserSettings>,
}

fn default_session_hours() -> u64 {
    8
}
fn default_max_connections() -> usize {
    256
}
fn default_failures_per_user() -> u32 {
    5
}
fn default_failures_per_address() -> u32 {
    20
}
fn default_throttle_minutes() -> u64 {
    15
}

/// Why console settings or secrets cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleSettingsError {
    /// A setting is out of range or contradicts another.
    #[error("console: {0}")]
    Invalid(String),
    /// An entry of [`USERS_VAR`] is not `name:role:phc`.
    #[error("{USERS_VAR}: entry {position} is not name:role:phc ({reason})")]
    BadUserEntry {
        /// Its position, from 1.
        position: usize,
        /// What is wrong.
        reason: String,
    },
    /// The session key is too short.
    #[error("{SESSION_KEY_VAR} must be at least {MIN_SESSION_KEY_BYTES} bytes (it has {0})")]
    ShortSessionKey(usize),
    /// Several instances serve the console without a shared key.
    #[error(
        "{SESSION_KEY_VAR} is required when several instances serve the console (a PostgreSQL \
         store): sessions must be valid on every instance"
    )]
    SessionKeyRequired,
}

impl ConsoleSettings {
    /// Settings listening on `listen`, every other setting at its default and no users.
    ///
    /// ```
    /// let settings = sync_engine::console_settings::ConsoleSettings::new("127.0.0.1:8090".parse().unwrap());
    /// assert_eq!(settings.session_hours, 8);
    /// assert!(settings.users.is_empty());
    /// ```
    pub fn new(listen: SocketAddr) -> ConsoleSettings {
        ConsoleSettings {
            listen,
            public_url: None,
            clarus_url: None,
            session_hours: default_session_hours(),
            max_connections: default_max_connections(),
            failures_per_user: default_failures_per_user(),
            failures_per_address: default_failures_per_address(),
            throttle_minutes: default_throttle_minutes(),
            users: Vec::new(),
        }
    }

    /// Checks ranges and users (names unique and printable, password hashes argon2 PHC
    /// strings).
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_SESSION_HOURS).contains(&self.session_hours) {
            return Err(format!(
                "console.session_hours must be 1 to {MAX_SESSION_HOURS}"
            ));
        }
        if !(1..=65_536).contains(&self.max_connections) {
            return Err("console.max_connections must be 1 to 65536".into());
        }
        if self.failures_per_user == 0 || self.failures_per_address == 0 {
            return Err(
                "console.failures_per_user and failures_per_address must be at least 1".into(),
            );
        }
        if !(1..=24 * 60).contains(&self.throttle_minutes) {
            return Err("console.throttle_minutes must be 1 to 1440".into());
        }
        for url in [&self.public_url, &self.clarus_url].into_iter().flatten() {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(format!("console: `{url}` is not an http(s) URL"));
            }
        }
        check_users(&self.users).map_err(|e| e.to_string())
    }

    /// The configured users followed by those of `env_users` (the value of [`USERS_VAR`]),
    /// checked together: a name given twice is refused.
    pub fn all_users(
        &self,
        env_users: Option<&str>,
    ) -> Result<Vec<ConsoleUserSettings>, ConsoleSettingsError> {
        let mut users = self.users.clone();
        if let Some(text) = env_users {
            users.extend(parse_users(text)?);
        }
        check_users(&users)?;
        Ok(users)
    }

    /// Whether session cookies are marked `Secure`: always, except on a loopback listener
    /// reached over plain http (no `https://` public URL).
    pub fn secure_cookies(&self) -> bool {
        let https = self
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
        https || !self.listen.ip().is_loopback()
    }
}

fn check_users(users: &[ConsoleUserSettings]) -> Result<(), ConsoleSettingsError> {
    let invalid = |m: String| Err(ConsoleSettingsError::Invalid(m));
    let mut seen = std::collections::HashSet::new();
    for user in users {
        if user.name.is_empty()
            || user.name.len() > 64
            || !user
                .name
                .chars()
                .all(|c| c.is_alphanumeric() || "._@-".contains(c))
        {
            return invalid(format!(
                "user name {:?}: 1 to 64 letters, digits, `.`, `_`, `@` or `-`",
                user.name
            ));
        }
        if !seen.insert(user.name.as_str()) {
            return invalid(format!("user {:?} is given twice", user.name));
        }
        if !user.password_hash.starts_with("$argon2") {
            return invalid(format!(
                "user {:?}: password_hash must be an argon2 PHC string (`sync console \
                 hash-password` prints one)",
                user.name
            ));
        }
    }
    Ok(())
}

/// Parses [`USERS_VAR`]'s value: `name:role:phc` entries separated by whitespace or `;`.
pub fn parse_users(text: &str) -> Result<Vec<ConsoleUserSettings>, ConsoleSettingsError> {
    text.split(|c: char| c.is_whitespace() || c == ';')
        .filter(|e| !e.is_empty())
        .enumerate()
        .map(|(i, entry)| {
            let bad = |reason: &str| ConsoleSettingsError::BadUserEntry {
                position: i + 1,
                reason: reason.to_owned(),
            };
            let mut parts = entry.splitn(3, ':');
            let (Some(name), Some(role), Some(hash)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(bad("three parts separated by `:` expected"));
            };
            let role = ConsoleRole::parse(role)
                .ok_or_else(|| bad("role must be viewer, operations, finance or admin"))?;
            Ok(ConsoleUserSettings {
                name: name.to_owned(),
                role,
                password_hash: hash.to_owned(),
            })
        })
        .collect()
}

/// The key that signs session cookies; shown as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey(Vec<u8>);

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey(***)")
    }
}

impl SessionKey {
    /// A key from `bytes`, refused under [`MIN_SESSION_KEY_BYTES`].
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<SessionKey, ConsoleSettingsError> {
        let bytes = bytes.into();
        if bytes.len() < MIN_SESSION_KEY_BYTES {
            return Err(ConsoleSettingsError::ShortSessionKey(bytes.len()));
        }
        Ok(SessionKey(bytes))
    }

    /// The key of [`SESSION_KEY_VAR`]'s value `var`. `None` when it is unset and one instance
    /// serves the console (the console then makes a random key for the process); refused with
    /// [`ConsoleSettingsError::SessionKeyRequired`] when unset and `several_instances`.
    ///
    /// ```
    /// use sync_engine::console_settings::SessionKey;
    ///
    /// assert!(SessionKey::from_var(Some("too short"), false).is_err());
    /// assert!(SessionKey::from_var(None, true).is_err());
    /// assert!(SessionKey::from_var(None, false).unwrap().is_none());
    /// assert!(SessionKey::from_var(Some(&"k".repeat(32)), true).unwrap().is_some());
    /// ```
    pub fn from_var(
        var: Option<&str>,
        several_instances: bool,
    ) -> Result<Option<SessionKey>, ConsoleSettingsError> {
        match var {
            Some(text) => SessionKey::new(text.as_bytes()).map(Some),
            None if several_instances => Err(ConsoleSettingsError::SessionKeyRequired),
            None => Ok(None),
        }
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> ConsoleSettings {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_and_ranges() {
        let s = settings("listen = \"127.0.0.1:8090\"");
        assert_eq!(s.session_hours, 8);
        assert_eq!(s.failures_per_user, 5);
        s.validate().unwrap();
        assert!(!s.secure_cookies());
        let s = settings("listen = \"0.0.0.0:8090\"\nsession_hours = 0");
        assert!(s.validate().unwrap_err().contains("session_hours"));
        assert!(s.secure_cookies());
        let s = settings("listen = \"127.0.0.1:8090\"\npublic_url = \"https://console.example\"");
        assert!(s.secure_cookies());
    }

    #[test]
    fn users_are_checked() {
        let s = settings(
            "listen = \"127.0.0.1:8090\"\n[[users]]\nname = \"a\"\nrole = \"admin\"\npassword_hash = \"plain\"",
        );
        assert!(s.validate().unwrap_err().contains("argon2"));
        let s = settings(
            "listen = \"127.0.0.1:8090\"\n[[users]]\nname = \"a\"\nrole = \"admin\"\npassword_hash = \"$argon2id$x\"",
        );
        s.validate().unwrap();
        assert!(s.all_users(Some("a:viewer:$argon2id$y")).is_err());
        let all = s
            .all_users(Some("b:viewer:$argon2id$y;c:finance:$argon2id$z"))
            .unwrap();
        assert_eq!(all.len(), 3);
        assert!(matches!(
            parse_users("b:boss:$argon2id$y"),
            Err(ConsoleSettingsError::BadUserEntry { position: 1, .. })
        ));
        assert!(!format!("{:?}", all[1]).contains("argon2"));
    }

    #[test]
    fn session_key_is_hidden() {
        let key = SessionKey::new(vec![7u8; 32]).unwrap();
        assert_eq!(format!("{key:?}"), "SessionKey(***)");
        assert_eq!(
            SessionKey::new(vec![7u8; 31]),
            Err(ConsoleSettingsError::ShortSessionKey(31))
        );
    }
}
