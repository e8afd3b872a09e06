//! `sync webhooks`: the webhook shared secret.
//!
//! `rotate-secret` prints a new random secret and the steps that replace the current one without
//! losing a delivery: the intake accepts `CLARUS_WEBHOOK_SECRET` and, while it is set,
//! `CLARUS_WEBHOOK_SECRET_PREVIOUS`, so the automations can be re-pointed at the new secret
//! while deliveries made with the old one are still taken.

use clap::Subcommand;
use rand::RngCore;
use sync_engine::config::{WEBHOOK_SECRET_PREVIOUS_VAR, WEBHOOK_SECRET_VAR};

use crate::BoxError;

/// Bytes of randomness in a generated secret (printed as twice as many hex characters).
const SECRET_BYTES: usize = 32;

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Prints a new random webhook shared secret (64 hex characters) and the steps to rotate
    /// to it without losing deliveries. Printing the secret to standard output is this
    /// command's purpose: run it where the output is not recorded, and put the secret straight
    /// into the secret store. Nothing is changed and nothing is logged.
    RotateSecret,
}

pub fn run(command: WebhookCommand) -> Result<(), BoxError> {
    match command {
        WebhookCommand::RotateSecret => {
            print!("{}", rotation_steps(&new_secret()));
            Ok(())
        }
    }
}

/// A new random secret: 32 bytes from `rand`'s cryptographically secure thread generator
/// (seeded by the operating system), as 64 hex characters.
fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn rotation_steps(secret: &str) -> String {
    format!(
        "{secret}

To rotate the webhook shared secret without losing deliveries:
  1. Set {WEBHOOK_SECRET_PREVIOUS_VAR} to the current value of {WEBHOOK_SECRET_VAR}
     (the intake keeps accepting it).
  2. Set {WEBHOOK_SECRET_VAR} to the new secret above.
  3. Restart `sync run`: it re-points the Clarus automations at the URL with the new token;
     deliveries already under way with the old one are still accepted.
  4. Once Clarus has delivered with the new secret (the intake logs no refusals, `sync doctor`
     passes), remove {WEBHOOK_SECRET_PREVIOUS_VAR} and restart `sync run` again.
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_secret_is_64_random_hex_characters() {
        let a = new_secret();
        assert_eq!(a.len(), 64);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, new_secret());
        assert!(sync_engine::config::check_webhook_secret(&a).is_ok());
    }

    #[test]
    fn the_steps_name_both_variables_and_the_restart() {
        let text = rotation_steps("abc");
        assert!(text.starts_with("abc\n"), "{text}");
        assert!(text.contains("CLARUS_WEBHOOK_SECRET_PREVIOUS"), "{text}");
        assert!(text.contains("restart `sync run`") || text.contains("Restart `sync run`"));
        assert!(
            text.contains("remove CLARUS_WEBHOOK_SECRET_PREVIOUS"),
            "{text}"
        );
    }
}
