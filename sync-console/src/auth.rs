//! People who may sign in: argon2 password verification and hashing.

use std::collections::BTreeMap;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sync_engine::console_settings::{ConsoleRole, ConsoleUserSettings};

use crate::ConsoleError;

/// A person who may sign in.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// The name they sign in with, shown in the audit trail.
    pub name: String,
    /// What they may do.
    pub role: ConsoleRole,
    phc: String,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Every person who may sign in, by name.
#[derive(Debug, Clone)]
pub struct Users {
    by_name: BTreeMap<String, User>,
    /// Checked against when the name is unknown, so an unknown name costs as much as a known
    /// one.
    decoy: String,
}

impl Users {
    /// The users of the settings; every password hash must be an argon2 PHC string.
    pub fn new(settings: &[ConsoleUserSettings]) -> Result<Users, ConsoleError> {
        let mut by_name = BTreeMap::new();
        for user in settings {
            PasswordHash::new(&user.password_hash).map_err(|e| ConsoleError::PasswordHash {
                user: user.name.clone(),
                reason: e.to_string(),
            })?;
            by_name.insert(
                user.name.clone(),
                User {
                    name: user.name.clone(),
                    role: user.role,
                    phc: user.password_hash.clone(),
                },
            );
        }
        // A decoy with the cost of the first user's hash (or the default's).
        let decoy = match by_name.values().next() {
            Some(u) => u.phc.clone(),
            None => hash_password("decoy")?,
        };
        Ok(Users { by_name, decoy })
    }

    /// The user named `name`.
    pub fn get(&self, name: &str) -> Option<&User> {
        self.by_name.get(name)
    }

    /// Every user, by name.
    pub fn all(&self) -> impl Iterator<Item = &User> {
        self.by_name.values()
    }

    /// The user named `name` when `password` is theirs. Slow on purpose (argon2): call it off
    /// the async executor.
    ///
    /// ```
    /// use sync_console::auth::{Users, hash_password_with};
    /// use sync_engine::console_settings::{ConsoleRole, ConsoleUserSettings};
    ///
    /// let users = Users::new(&[ConsoleUserSettings {
    ///     name: "ops".into(),
    ///     role: ConsoleRole::Operations,
    ///     password_hash: hash_password_with("correct horse", 8, 1).unwrap(),
    /// }]).unwrap();
    /// assert!(users.verify("ops", "correct horse").is_some());
    /// assert!(users.verify("ops", "wrong").is_none());
    /// assert!(users.verify("nobody", "correct horse").is_none());
    /// ```
    pub fn verify(&self, name: &str, password: &str) -> Option<&User> {
        let user = self.by_name.get(name);
        let phc = user.map_or(self.decoy.as_str(), |u| u.phc.as_str());
        let ok = PasswordHash::new(phc).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        });
        if ok { user } else { None }
    }
}

/// An argon2id PHC string of `password` with argon2's default cost (19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String, ConsoleError> {
    let params = argon2::Params::default();
    hash_password_with(password, params.m_cost(), params.t_cost())
}

/// An argon2id PHC string of `password` costing `memory_kib` KiB and `passes` passes (tests
/// use a low cost; people's passwords use [`hash_password`]).
pub fn hash_password_with(
    password: &str,
    memory_kib: u32,
    passes: u32,
) -> Result<String, ConsoleError> {
    let params = argon2::Params::new(memory_kib, passes, 1, None)
        .map_err(|e| ConsoleError::Hashing(e.to_string()))?;
    let argon = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt_bytes: [u8; 16] = rand::random();
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| ConsoleError::Hashing(e.to_string()))?;
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ConsoleError::Hashing(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_and_checked() {
        let a = hash_password_with("pw", 8, 1).unwrap();
        let b = hash_password_with("pw", 8, 1).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
        let bad = Users::new(&[ConsoleUserSettings {
            name: "x".into(),
            role: ConsoleRole::Viewer,
            password_hash: "plain text".into(),
        }]);
        assert!(matches!(bad, Err(ConsoleError::PasswordHash { .. })));
    }
}
