//! Webhook delivery to the URLs registered through automations, with seeded duplicates,
//! reordering (a random delay per copy) and loss, and a log of every webhook fired.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::state::{Automation, ClarusId, Event, State};
use crate::governance::lock_unpoisoned as lock;

/// How webhooks misbehave. Rates are probabilities in `0.0..=1.0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WebhookBehaviour {
    /// Share of webhooks sent twice.
    pub duplicate_rate: f64,
    /// Share of webhooks never sent at all.
    pub loss_rate: f64,
    /// Each copy waits a random delay up to this long before it is sent, so deliveries overtake
    /// each other. Zero sends in firing order.
    pub reorder_window: Duration,
    /// Attempts per copy when the receiver fails (non-2xx or connection error).
    pub max_attempts: u32,
    /// Delay before the second attempt; doubled for each further attempt.
    pub retry_backoff: Duration,
    /// Timeout of one attempt.
    pub timeout: Duration,
    /// The log keeps the payload of this many of the newest webhooks; an older one's payload
    /// is dropped (left `null`) once it has reached its receiver, so a long day's log holds
    /// what was fired, not every body sent. A webhook not delivered (lost, failed or still
    /// pending) keeps its payload, to be sent again.
    pub payloads_kept: usize,
}

/// [`WebhookBehaviour::payloads_kept`] by default.
pub const DEFAULT_PAYLOADS_KEPT: usize = 10_000;

impl Default for WebhookBehaviour {
    fn default() -> Self {
        Self {
            duplicate_rate: 0.0,
            loss_rate: 0.0,
            reorder_window: Duration::ZERO,
            max_attempts: 3,
            retry_backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(5),
            payloads_kept: DEFAULT_PAYLOADS_KEPT,
        }
    }
}

/// What happened to one copy of a webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Not sent yet (waiting for its delay or retrying).
    Pending,
    /// The receiver answered 2xx.
    Delivered {
        /// The receiver's status code.
        status: u16,
        /// Attempts used.
        attempts: u32,
    },
    /// Every attempt failed.
    Failed {
        /// The last error.
        error: String,
        /// Attempts used.
        attempts: u32,
    },
}

/// One webhook fired by an automation: its payload and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRecord {
    /// Position in firing order, from 0.
    pub sequence: u64,
    /// The automation that fired it.
    pub automation_id: ClarusId,
    /// `resource_name`, e.g. `goods_out`.
    pub resource: String,
    /// `event`, e.g. `completed`.
    pub event: String,
    /// The destination URL.
    pub url: String,
    /// The body sent: `{"data": <full record>}`; `null` once dropped from an older delivered
    /// webhook (see [`WebhookBehaviour::payloads_kept`]).
    pub payload: Value,
    /// Dropped on purpose: never sent.
    pub lost: bool,
    /// One outcome per copy sent (two when duplicated; none when lost).
    pub copies: Vec<DeliveryOutcome>,
}

impl WebhookRecord {
    /// Whether at least one copy reached the receiver.
    pub fn delivered(&self) -> bool {
        self.copies
            .iter()
            .any(|c| matches!(c, DeliveryOutcome::Delivered { .. }))
    }
}

/// Where one webhook goes.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub automation: u64,
    pub url: String,
    pub method: String,
    pub integration: Option<String>,
}

pub(crate) struct Webhooks {
    behaviour: Mutex<WebhookBehaviour>,
    rng: Mutex<StdRng>,
    log: std::sync::Arc<Mutex<Vec<WebhookRecord>>>,
    in_flight: std::sync::Arc<AtomicUsize>,
    tasks: Mutex<JoinSet<()>>,
    runtime: tokio::runtime::Handle,
    client: reqwest::Client,
    subdomain: String,
    api_domain: String,
}

fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn condition_holds(condition: &serde_json::Map<String, Value>, payload: &Value) -> bool {
    let path = condition
        .get("source_path")
        .and_then(Value::as_str)
        .unwrap_or("");
    let operator = condition
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or("eq");
    let wanted = condition.get("value").cloned().unwrap_or(Value::Null);
    let Some(actual) = lookup(payload, path) else {
        return operator == "neq" || operator == "notin";
    };
    let actual = as_text(actual);
    let list: Vec<String> = match &wanted {
        Value::Array(items) => items.iter().map(as_text).collect(),
        other => as_text(other)
            .split(',')
            .map(|s| s.trim().to_string())
            .collect(),
    };
    let wanted = as_text(&wanted);
    let numeric = |a: &str, b: &str| Some((a.parse::<f64>().ok()?, b.parse::<f64>().ok()?));
    match operator {
        "eq" => actual == wanted,
        "neq" => actual != wanted,
        "in" => list.contains(&actual),
        "notin" => !list.contains(&actual),
        "matches" => actual.contains(&wanted),
        "starts_with" => actual.starts_with(&wanted),
        "greater_than" => numeric(&actual, &wanted).is_some_and(|(a, b)| a > b),
        "greater_than_eq" => numeric(&actual, &wanted).is_some_and(|(a, b)| a >= b),
        "less_than" => numeric(&actual, &wanted).is_some_and(|(a, b)| a < b),
        "less_than_eq" => numeric(&actual, &wanted).is_some_and(|(a, b)| a <= b),
        _ => false,
    }
}

/// The webhook destinations of enabled automations whose conditions match the event.
pub(crate) fn targets(state: &State, event: &Event, payload: &Value) -> Vec<Target> {
    targets_for(state, event.resource, event.event, payload)
}

/// The webhook destinations of enabled automations for `resource`/`event` whose conditions
/// match the payload.
pub(crate) fn targets_for(
    state: &State,
    resource: &str,
    event: &str,
    payload: &Value,
) -> Vec<Target> {
    let mut out = Vec::new();
    for (id, automation) in &state.automations {
        if !automation.enabled || automation.resource_name != resource || automation.event != event
        {
            continue;
        }
        if !automation
            .conditions
            .iter()
            .all(|(_, c)| condition_holds(c, payload))
        {
            continue;
        }
        for action in &automation.actions {
            if action.attrs.get("destination_type").and_then(Value::as_str) != Some("webhook") {
                continue;
            }
            let Some(url) = Automation::parameter(action, "webhook_url") else {
                continue;
            };
            out.push(Target {
                automation: *id,
                url,
                method: Automation::parameter(action, "webhook_method")
                    .unwrap_or_else(|| "POST".into())
                    .to_ascii_uppercase(),
                integration: Automation::parameter(action, "integration_id"),
            });
        }
    }
    out
}

impl Webhooks {
    /// Must be called inside a Tokio runtime (the simulator's `start` is); deliveries run there.
    pub(crate) fn new(
        behaviour: WebhookBehaviour,
        seed: u64,
        subdomain: String,
        api_domain: String,
    ) -> Self {
        Self {
            behaviour: Mutex::new(behaviour),
            // A generator of its own, so webhook decisions depend only on the sequence of events.
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0x5eed_c1a2_0b00_0001)),
            log: std::sync::Arc::new(Mutex::new(Vec::new())),
            in_flight: std::sync::Arc::new(AtomicUsize::new(0)),
            tasks: Mutex::new(JoinSet::new()),
            // Deliveries run on the simulator's runtime, whichever thread fires the event.
            runtime: tokio::runtime::Handle::current(),
            client: reqwest::Client::new(),
            subdomain,
            api_domain,
        }
    }

    pub(crate) fn set_behaviour(&self, behaviour: WebhookBehaviour) {
        *lock(&self.behaviour) = behaviour;
    }

    /// Fires one webhook per target: decides loss, duplicates and delays, then sends.
    pub(crate) fn fire(&self, event: &Event, payload: &Value, targets: Vec<Target>) {
        let behaviour = *lock(&self.behaviour);
        for target in targets {
            let (lost, delays) = {
                let mut rng = lock(&self.rng);
                let lost = rng.random::<f64>() < behaviour.loss_rate;
                let copies = if rng.random::<f64>() < behaviour.duplicate_rate {
                    2
                } else {
                    1
                };
                let window = behaviour.reorder_window.as_micros() as u64;
                let delays: Vec<Duration> = (0..copies)
                    .map(|_| {
                        Duration::from_micros(if window == 0 {
                            0
                        } else {
                            rng.random_range(0..=window)
                        })
                    })
                    .collect();
                (lost, delays)
            };
            let sequence = {
                let mut log = lock(&self.log);
                let sequence = log.len() as u64;
                log.push(WebhookRecord {
                    sequence,
                    automation_id: ClarusId(target.automation),
                    resource: event.resource.to_string(),
                    event: event.event.to_string(),
                    url: target.url.clone(),
                    payload: payload.clone(),
                    lost,
                    copies: if lost {
                        Vec::new()
                    } else {
                        vec![DeliveryOutcome::Pending; delays.len()]
                    },
                });
                sequence
            };
            if let Some(older) = sequence.checked_sub(behaviour.payloads_kept as u64) {
                drop_delivered_payload(&mut lock(&self.log), older);
            }
            if lost {
                continue;
            }
            for (copy, delay) in delays.into_iter().enumerate() {
                let request = self.request(&target, payload, behaviour.timeout);
                self.spawn_copy(request, behaviour, sequence, copy, delay);
            }
        }
    }

    fn request(
        &self,
        target: &Target,
        payload: &Value,
        timeout: Duration,
    ) -> reqwest::RequestBuilder {
        let method =
            reqwest::Method::from_bytes(target.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut request = self
            .client
            .request(method, &target.url)
            .timeout(timeout)
            .header(
                "X-ClarusWMS-Domain",
                format!("{}.claruswms.com", self.subdomain),
            )
            .header("X-ClarusWMS-API-Domain", &self.api_domain)
            .header("X-ClarusWMS-Subdomain", &self.subdomain)
            .header("X-ClarusWMS-Automation-ID", target.automation.to_string())
            .json(payload);
        if let Some(integration) = &target.integration {
            request = request.header("X-ClarusWMS-Integration-ID", integration);
        }
        request
    }

    pub(crate) fn log(&self) -> Vec<WebhookRecord> {
        lock(&self.log).clone()
    }

    /// The logged webhooks of `resource` and one of `events`, in firing order (only those are
    /// copied out of the log).
    pub(crate) fn log_of(&self, resource: &str, events: &[&str]) -> Vec<WebhookRecord> {
        lock(&self.log)
            .iter()
            .filter(|r| r.resource == resource && events.contains(&r.event.as_str()))
            .cloned()
            .collect()
    }

    /// Sends logged webhook `sequence` again to `targets` (its automation's destinations as
    /// they are now), once each, without loss, duplicates or delay: a person re-sending it from
    /// the automation log. The outcome is added to the record's copies.
    pub(crate) fn send_again(&self, sequence: u64, targets: Vec<Target>) {
        let behaviour = *lock(&self.behaviour);
        let Some(payload) = lock(&self.log)
            .get(sequence as usize)
            .map(|r| r.payload.clone())
        else {
            return;
        };
        for target in targets {
            let copy = {
                let mut log = lock(&self.log);
                let Some(record) = log.get_mut(sequence as usize) else {
                    return;
                };
                record.copies.push(DeliveryOutcome::Pending);
                record.copies.len() - 1
            };
            let request = self.request(&target, &payload, behaviour.timeout);
            self.spawn_copy(request, behaviour, sequence, copy, Duration::ZERO);
        }
    }

    /// Sends one copy of logged webhook `sequence` after `delay`, recording its outcome as
    /// copy `copy` of the record.
    fn spawn_copy(
        &self,
        request: reqwest::RequestBuilder,
        behaviour: WebhookBehaviour,
        sequence: u64,
        copy: usize,
        delay: Duration,
    ) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let log = self.log.clone();
        let in_flight = self.in_flight.clone();
        let mut tasks = lock(&self.tasks);
        while tasks.try_join_next().is_some() {}
        tasks.spawn_on(
            async move {
                tokio::time::sleep(delay).await;
                let outcome = send(request, behaviour).await;
                let mut log = lock(&log);
                if let Some(record) = log.get_mut(sequence as usize) {
                    record.copies[copy] = outcome;
                }
                if log.len() as u64 > sequence.saturating_add(behaviour.payloads_kept as u64) {
                    drop_delivered_payload(&mut log, sequence);
                }
                in_flight.fetch_sub(1, Ordering::SeqCst);
            },
            &self.runtime,
        );
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn abort_all(&self) {
        lock(&self.tasks).abort_all();
    }
}

/// Drops the payload of logged webhook `sequence` when it has reached its receiver and no
/// copy is still on its way.
fn drop_delivered_payload(log: &mut [WebhookRecord], sequence: u64) {
    if let Some(record) = log.get_mut(sequence as usize)
        && record.delivered()
        && !record.copies.contains(&DeliveryOutcome::Pending)
    {
        record.payload = Value::Null;
    }
}

async fn send(request: reqwest::RequestBuilder, behaviour: WebhookBehaviour) -> DeliveryOutcome {
    let mut attempts = 0;
    let mut backoff = behaviour.retry_backoff;
    loop {
        attempts += 1;
        let Some(attempt) = request.try_clone() else {
            return DeliveryOutcome::Failed {
                error: "request could not be cloned".into(),
                attempts,
            };
        };
        let error = match attempt.send().await {
            Ok(response) if response.status().is_success() => {
                return DeliveryOutcome::Delivered {
                    status: response.status().as_u16(),
                    attempts,
                };
            }
            Ok(response) => format!("HTTP {}", response.status().as_u16()),
            Err(e) => e.to_string(),
        };
        if attempts >= behaviour.max_attempts.max(1) {
            return DeliveryOutcome::Failed { error, attempts };
        }
        tokio::time::sleep(backoff).await;
        backoff *= 2;
    }
}

/// Wraps a record the way a webhook carries it.
pub(crate) fn payload(record: &Value) -> Value {
    json!({ "data": record })
}
