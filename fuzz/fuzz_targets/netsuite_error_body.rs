//! NetSuite REST error bodies (`title`, `o:errorDetails`): `ApiError::from_response` for any
//! status and body, and the error code parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netsuite_client::{ApiError, ErrorCode};

fuzz_target!(|data: &[u8]| {
    // The first two bytes choose the status (100..=599), the rest is the body.
    let (status, body) = match data {
        [a, b, rest @ ..] => (100 + u16::from_le_bytes([*a, *b]) % 500, rest),
        _ => (400, data),
    };
    let error = ApiError::from_response(status, body);
    let _ = error.to_string();
    let _ = format!("{error:?}");
    let _ = ErrorCode::parse(&String::from_utf8_lossy(body));
});
