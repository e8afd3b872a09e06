//! The webhook checks: the automations the engine subscribes with exist in Clarus and point at
//! the intake, and a signed test delivery reaches the intake at `webhook.public_url`.

use std::time::Duration;

use clarus_client::graphql::{AutomationNode, Filter};
use clarus_client::webhook::{WebhookSecret, WebhookTarget, subscription_url};
use clarus_client::{HttpUrl, Secret};
use serde_json::json;
use sync_engine::alerts::{Alert, AlertExample, AlertSink, DeliveryError, WebhookSink};
use sync_engine::clarus::SYNC_SUBSCRIPTIONS;

use super::{AUTOMATIONS, DELIVERY, TEST_ROUTE, client, read};
use crate::doctor::{Check, Context, one_line, some_of};

pub async fn automations(ctx: &Context<'_>) -> Vec<Check> {
    let client = match client(ctx, AUTOMATIONS) {
        Ok(c) => c,
        Err(check) => return vec![check],
    };
    let webhook = &ctx.config.webhook;
    let base = match HttpUrl::parse(&webhook.public_url) {
        Ok(url) => url,
        Err(e) => {
            return vec![Check::fail(
                AUTOMATIONS,
                format!(
                    "webhook.public_url {:?} is not a URL: {e}",
                    webhook.public_url
                ),
                "set webhook.public_url to the https:// address Clarus reaches the intake at",
            )];
        }
    };
    let target = WebhookTarget::new(base, None, &webhook.automation_prefix);
    let names: Vec<String> = SYNC_SUBSCRIPTIONS
        .iter()
        .map(|(r, e)| target.automation_name(r, e))
        .collect();
    let found: Vec<AutomationNode> = match read(client, Filter::new().any_of("name", names.clone()))
        .await
    {
        Ok(found) => found,
        Err(e) => {
            return vec![Check::fail(
                AUTOMATIONS,
                format!("could not read automations: {e}"),
                "give the API user access to automations: `sync run` creates its webhooks there on start and stops when it cannot",
            )];
        }
    };
    let mut missing = Vec::new();
    let mut disabled = Vec::new();
    for ((resource, event), name) in SYNC_SUBSCRIPTIONS.iter().zip(&names) {
        let automation = found.iter().find(|a| {
            a.name.as_deref() == Some(name.as_str())
                && a.resource_name.as_deref().is_none_or(|r| r == *resource)
                && a.event.as_deref().is_none_or(|e| e == *event)
        });
        match automation {
            None => missing.push(format!("{resource}.{event}")),
            Some(a) if a.enabled == Some(false) => disabled.push(format!("{resource}.{event}")),
            Some(_) => {}
        }
    }
    let total = SYNC_SUBSCRIPTIONS.len();
    let data = json!({"needed": total, "missing": missing, "disabled": disabled});
    let check = if missing.is_empty() && disabled.is_empty() {
        Check::pass(
            AUTOMATIONS,
            format!(
                "{total} of {total} present and enabled (\"{} …\"); where they send cannot be read without changing them: `sync run` points them at webhook.public_url on start",
                webhook.automation_prefix
            ),
        )
    } else {
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!(
                "{} of {total} missing: {}",
                missing.len(),
                some_of(&missing, 4)
            ));
        }
        if !disabled.is_empty() {
            parts.push(format!("disabled: {}", some_of(&disabled, 4)));
        }
        Check::warn(
            AUTOMATIONS,
            parts.join("; "),
            "`sync run` creates and enables them on start, pointing at webhook.public_url (or run `clarus subscribe --url <public_url>`)",
        )
    };
    vec![check.with_data(data)]
}

/// Whether a URL's host is this machine: plain http is fine there (simulators, tests, a
/// TLS-terminating proxy forwarding to the intake on the same machine), as the token in the
/// query never crosses a network in clear.
fn loopback(url: &HttpUrl) -> bool {
    let host = url.host().trim_matches(['[', ']']);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub async fn delivery(ctx: &Context<'_>, limit: Duration) -> Vec<Check> {
    let webhook = &ctx.config.webhook;
    let shown = format!(
        "{}/{}/{}",
        webhook.public_url.trim_end_matches('/'),
        TEST_ROUTE.0,
        TEST_ROUTE.1
    );
    let Some(secret) = crate::env("CLARUS_WEBHOOK_SECRET") else {
        return vec![Check::fail(
            DELIVERY,
            "CLARUS_WEBHOOK_SECRET is not set: nothing was sent",
            "set CLARUS_WEBHOOK_SECRET to the shared secret the engine checks (?token=)",
        )];
    };
    let base = match HttpUrl::parse(&webhook.public_url) {
        Ok(url) => url,
        Err(e) => {
            return vec![Check::fail(
                DELIVERY,
                format!(
                    "webhook.public_url {:?} is not a URL: {e}",
                    webhook.public_url
                ),
                "set webhook.public_url to the https:// address Clarus reaches the intake at",
            )];
        }
    };
    let plain_http = base.scheme() != "https" && !loopback(&base);
    let target = WebhookTarget::new(
        base,
        Some(WebhookSecret::new(Secret::new(secret.clone()))),
        &webhook.automation_prefix,
    );
    let url = subscription_url(&target, TEST_ROUTE.0, TEST_ROUTE.1);
    // A little under the check's own limit, so a slow intake reads as such.
    let sink = match url::Url::parse(url.as_str())
        .map_err(|e| e.to_string())
        .and_then(|url| {
            WebhookSink::new("sync-doctor", url, limit.mul_f32(0.9)).map_err(|e| e.to_string())
        }) {
        Ok(sink) => sink,
        Err(e) => {
            return vec![Check::fail(
                DELIVERY,
                one_line(&e),
                "check webhook.public_url",
            )];
        }
    };
    let now = jiff::Timestamp::now();
    let ping = Alert {
        owner: "integration".into(),
        kind: "doctor-ping".into(),
        severity: "info".into(),
        count: 1,
        first_raised_at: now,
        last_raised_at: now,
        examples: vec![AlertExample {
            key: "doctor-ping".into(),
            document: "sync doctor".into(),
            message: "test delivery; the engine ignores it".into(),
        }],
        runbook: "guide.md#6-deploy".into(),
    };
    let check = match sink.deliver(&ping).await {
        Ok(()) if plain_http => Check::fail(
            DELIVERY,
            format!(
                "POST {shown} was accepted, but the URL is plain http: the webhook token (?token=) would cross the network in clear"
            ),
            "Clarus delivers webhooks to HTTPS endpoints only, and the webhook token in the URL's query must never cross a network in clear: set webhook.public_url to the https:// address of a TLS-terminating proxy; plain http is fine only on loopback, from a proxy on the same machine to webhook.listen",
        ),
        Ok(()) => Check::pass(
            DELIVERY,
            format!("POST {shown} was accepted: the intake stored the test delivery"),
        ),
        Err(DeliveryError::Rejected { status: 401, .. }) => Check::fail(
            DELIVERY,
            format!("POST {shown}: the intake refused the token (401)"),
            "CLARUS_WEBHOOK_SECRET here differs from the running engine's; use the same secret",
        ),
        Err(DeliveryError::Rejected { status, body }) => Check::fail(
            DELIVERY,
            format!("POST {shown} answered {status}: {}", one_line(&body)),
            if status == 404 || status == 405 {
                "webhook.public_url does not lead to the intake's /webhooks/clarus route: check the proxy's path"
            } else {
                "check the reverse proxy and the engine's log (RUST_LOG=info,sync_engine=debug)"
            },
        ),
        Err(e) => Check::fail(
            DELIVERY,
            format!("POST {shown} did not arrive: {}", one_line(&e.to_string())),
            "start `sync run` (the intake listens on webhook.listen) and make webhook.public_url reach it (DNS, TLS proxy, firewall)",
        ),
    };
    // A proxy's error page may echo the URL: the secret never shows.
    let mut check = check;
    check.detail = check.detail.replace(&secret, "***");
    vec![check]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_fine_on_this_machine_only() {
        assert!(loopback(
            &HttpUrl::parse("http://127.0.0.1:8080/x").unwrap()
        ));
        assert!(loopback(&HttpUrl::parse("http://localhost/x").unwrap()));
        assert!(!loopback(
            &HttpUrl::parse("http://sync.example.com/x").unwrap()
        ));
    }
}
