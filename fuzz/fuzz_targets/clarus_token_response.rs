//! Clarus `/oauth/token` answers: `ClarusTokenResponse` (RFC 6749 §5.1 plus Doorkeeper's
//! `created_at`, lenient `expires_in`) and every value the token cache reads from it.
#![no_main]

use clarus_client::ClarusTokenResponse;
use libfuzzer_sys::fuzz_target;
use oauth2::TokenResponse;

fuzz_target!(|data: &[u8]| {
    if let Ok(response) = serde_json::from_slice::<ClarusTokenResponse>(data) {
        let _ = response.access_token().secret().len();
        let _ = response.token_type();
        let _ = response.expires_in();
        let _ = response.refresh_token().map(|t| t.secret().len());
        let _ = response.scopes().map(Vec::len);
        let _ = format!("{response:?}");
        let _ = serde_json::to_vec(&response);
    }
});
