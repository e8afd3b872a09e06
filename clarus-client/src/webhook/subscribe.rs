//! Creating webhook automations idempotently, for whatever `(resource_name, event)` pairs the
//! caller subscribes to.

use futures_util::TryStreamExt;
use serde::Deserialize;
use serde_json::Value;

use super::verify::{TOKEN_QUERY_PARAM, WebhookSecret};
use crate::client::Record;
use crate::graphql::{AutomationNode, Filter, ListQuery};
use crate::rest::automations::{Automation, AutomationAction, AutomationUpdate};
use crate::rest::common::Change;
use crate::{ClarusClient, ClarusId, Error, HttpUrl};

/// Where and how webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    /// Base URL of the receiver, e.g. `https://sync.example.com/hooks/clarus`.
    pub base_url: HttpUrl,
    /// Secret added as the `token` query parameter, when set.
    pub secret: Option<WebhookSecret>,
    /// `POST` (default) or `GET`.
    pub method: String,
    /// Prefix of the automation names, used to find them again (e.g. `netsuite-sync`).
    pub name_prefix: String,
}

impl WebhookTarget {
    /// A POST target with the given base URL, secret and name prefix.
    pub fn new(base_url: HttpUrl, secret: Option<WebhookSecret>, name_prefix: &str) -> Self {
        Self {
            base_url,
            secret,
            method: "POST".into(),
            name_prefix: name_prefix.to_owned(),
        }
    }

    /// The automation name for a pair: `{prefix} {resource}.{event}`.
    pub fn automation_name(&self, resource_name: &str, event: &str) -> String {
        format!("{} {resource_name}.{event}", self.name_prefix)
    }
}

/// The URL Clarus calls for a pair: `{base}/{resource_name}/{event}?token={secret}`.
pub fn subscription_url(target: &WebhookTarget, resource_name: &str, event: &str) -> HttpUrl {
    let url = target
        .base_url
        .join_path(&format!("{resource_name}/{event}"));
    match &target.secret {
        Some(secret) => url.with_query_pair(TOKEN_QUERY_PARAM, secret.secret().expose()),
        None => url,
    }
}

/// What [`ClarusClient::ensure_webhook_automations`] did for one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionOutcome {
    /// A new automation was created.
    Created(ClarusId),
    /// An enabled automation of that name already existed.
    Existing(ClarusId),
    /// An automation of that name existed but was disabled; it was enabled.
    Enabled(ClarusId),
    /// An automation of that name existed but sent its webhooks to another URL (the receiver
    /// moved); its webhook action was replaced by one for the target, and it was enabled.
    Retargeted(ClarusId),
}

impl ClarusClient {
    /// Makes sure one webhook automation exists and is enabled for each pair, found by name.
    /// Safe to run repeatedly. An existing automation is enabled, and when the answer to that
    /// update shows it sending webhooks anywhere but the target's URL (the receiver moved to a
    /// new address), its webhook actions are replaced by one for the target. When the answer
    /// does not list the actions, the automation is left pointing where it points.
    pub async fn ensure_webhook_automations(
        &self,
        target: &WebhookTarget,
        pairs: &[(&str, &str)],
    ) -> Result<Vec<SubscriptionOutcome>, Error> {
        let mut outcomes = Vec::with_capacity(pairs.len());
        for &(resource_name, event) in pairs {
            let name = target.automation_name(resource_name, event);
            let existing: Vec<AutomationNode> = self
                .list_all::<AutomationNode>(ListQuery::new(Filter::new().eq("name", &name), 50))
                .try_collect()
                .await?;
            // The name filter may be a partial match on some servers: compare exactly.
            let found = existing.into_iter().find(|a| {
                a.name.as_deref() == Some(name.as_str())
                    && a.resource_name
                        .as_deref()
                        .is_none_or(|r| r == resource_name)
                    && a.event.as_deref().is_none_or(|e| e == event)
            });
            let url = subscription_url(target, resource_name, event);
            let outcome = match found {
                Some(a) => {
                    // Clarus serves no read of an automation's actions; the answer to an update
                    // carries them, so enabling (a no-op when enabled) also tells where it sends.
                    let update = AutomationUpdate {
                        enabled: Some(true),
                        ..AutomationUpdate::default()
                    };
                    let record = self.update_automation(a.id, &update).await?;
                    match webhook_actions(&record) {
                        Some(actions) if !(actions.len() == 1 && actions[0].1 == url.as_str()) => {
                            let mut actions_changes: Vec<Change<AutomationAction>> =
                                actions.iter().map(|(id, _)| Change::Delete(*id)).collect();
                            actions_changes.push(Change::Add(AutomationAction::webhook(
                                url.as_str(),
                                &target.method,
                            )));
                            let retarget = AutomationUpdate {
                                actions_changes,
                                ..AutomationUpdate::default()
                            };
                            self.update_automation(a.id, &retarget).await?;
                            SubscriptionOutcome::Retargeted(a.id)
                        }
                        _ if a.enabled == Some(false) => SubscriptionOutcome::Enabled(a.id),
                        _ => SubscriptionOutcome::Existing(a.id),
                    }
                }
                None => {
                    let automation = Automation {
                        resource_name: resource_name.to_owned(),
                        event: event.to_owned(),
                        name: Some(name),
                        enabled: true,
                        conditions_changes: Vec::new(),
                        actions_changes: vec![Change::Add(AutomationAction::webhook(
                            url.as_str(),
                            &target.method,
                        ))],
                    };
                    let record = self.create_automation(&automation).await?;
                    SubscriptionOutcome::Created(record.id)
                }
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }
}

/// The webhook actions of an automation record as `(action id, webhook_url)`, or `None` when
/// the record does not list its actions.
fn webhook_actions(record: &Record) -> Option<Vec<(ClarusId, String)>> {
    let actions = record.attributes.get("actions")?.as_array()?;
    Some(
        actions
            .iter()
            .filter(|a| a.get("destination_type").and_then(Value::as_str) == Some("webhook"))
            .filter_map(|a| {
                let id = ClarusId::deserialize(a.get("id")?).ok()?;
                let url = a
                    .get("parameters")?
                    .as_array()?
                    .iter()
                    .find(|p| {
                        p.get("parameter_code").and_then(Value::as_str) == Some("webhook_url")
                    })?
                    .get("value")?
                    .as_str()?
                    .to_owned();
                Some((id, url))
            })
            .collect(),
    )
}
