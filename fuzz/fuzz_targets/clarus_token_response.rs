//! Clarus `/oauth/token` answers, read as the client reads them (RFC 6749 §5.1 plus
//! Doorkeeper's `created_at`, lenient `expires_in`): every value the token cache uses.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(answer) = clarus_client::read_token_answer(data) {
        if let Some(lifetime) = answer.expires_in {
            assert!(lifetime <= clarus_client::MAX_TOKEN_LIFETIME);
        }
        let _ = answer.scopes.as_ref().map(Vec::len);
        let _ = format!("{answer:?}");
    }
});
