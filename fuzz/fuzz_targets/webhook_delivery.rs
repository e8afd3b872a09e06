//! Clarus webhook deliveries: `WebhookDelivery::parse` with and without a route, the
//! `X-ClarusWMS-*` headers and the query-string signature check.
//!
//! Input: the first line is `resource event` (the route the delivery arrived on) and, after a
//! tab, a query string; the rest is the body. Inputs without a newline are a body alone.
#![no_main]

use clarus_client::Secret;
use clarus_client::webhook::{WebhookDelivery, WebhookHeaders, WebhookSecret};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&[][..], data),
    };
    let head = String::from_utf8_lossy(head);
    let (route, query) = head.split_once('\t').unwrap_or((&head, ""));
    let mut words = route.splitn(2, ' ');
    let resource = words.next().unwrap_or("");
    let event = words.next().unwrap_or("");

    let headers = WebhookHeaders::from_pairs([
        ("X-ClarusWMS-Subdomain", resource),
        ("X-ClarusWMS-Automation-ID", event),
        ("X-ClarusWMS-Integration-ID", query),
    ]);
    if let Ok(delivery) = WebhookDelivery::parse(headers, body, Some((resource, event))) {
        let _ = delivery.record();
        let _ = format!("{:?}", delivery.event);
    }
    if let Ok(delivery) = WebhookDelivery::parse(WebhookHeaders::default(), body, None) {
        let _ = delivery.record();
        let _ = format!("{:?}", delivery.event);
    }

    let secret = WebhookSecret::new(Secret::new("s3cret")).with_previous(Secret::new("old"));
    let _ = secret.verify_query(Some(query));
    let _ = secret.verify(Some(query));
});
