//! Clarus REST error bodies (`errors[]`, `error`): `ClarusError::from_response` for any status
//! and body.
#![no_main]

use clarus_client::ClarusError;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first two bytes choose the status (100..=599), the rest is the body.
    let (status, body) = match data {
        [a, b, rest @ ..] => (100 + u16::from_le_bytes([*a, *b]) % 500, rest),
        _ => (422, data),
    };
    let error = ClarusError::from_response(status, String::from_utf8_lossy(body).into_owned());
    let _ = error.to_string();
    let _ = format!("{error:?}");
});
