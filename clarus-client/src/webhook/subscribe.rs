//! Creating the automations the sync needs, idempotently.

use futures_util::TryStreamExt;
use url::Url;

use super::verify::{TOKEN_QUERY_PARAM, WebhookSecret};
use crate::graphql::{AutomationNode, Filter, ListQuery};
use crate::rest::automations::{Automation, AutomationAction, AutomationUpdate};
use crate::rest::common::Change;
use crate::{ClarusClient, ClarusError, ClarusId};

/// The `(resource_name, event)` pairs the NetSuite sync listens to.
pub const SYNC_SUBSCRIPTIONS: &[(&str, &str)] = &[
    ("goods_out", "completed"),
    ("goods_out", "cancelled"),
    ("goods_in", "completed"),
    ("goods_in", "moved_to_part"),
    ("stock", "positively_adjusted"),
    ("stock", "negatively_adjusted"),
    ("stock", "placed_on_hold"),
    ("stock", "released_from_hold"),
    ("stock", "account_transferred"),
    ("stock_balance", "updated"),
];

/// Where and how webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    /// Base URL of the receiver, e.g. `https://sync.example.com/hooks/clarus`.
    pub base_url: Url,
    /// Secret added as the `token` query parameter, when set.
    pub secret: Option<WebhookSecret>,
    /// `POST` (default) or `GET`.
    pub method: String,
    /// Prefix of the automation names, used to find them again (e.g. `netsuite-sync`).
    pub name_prefix: String,
}

impl WebhookTarget {
    /// A POST target with the given base URL, secret and name prefix.
    pub fn new(base_url: Url, secret: Option<WebhookSecret>, name_prefix: &str) -> Self {
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
pub fn subscription_url(target: &WebhookTarget, resource_name: &str, event: &str) -> Url {
    let mut url = target.base_url.clone();
    let base = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{base}/{resource_name}/{event}"));
    if let Some(secret) = &target.secret {
        url.query_pairs_mut()
            .append_pair(TOKEN_QUERY_PARAM, secret.secret().expose());
    }
    url
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
}

impl ClarusClient {
    /// Makes sure one webhook automation exists and is enabled for each pair, found by name.
    /// Safe to run repeatedly. Existing automations are not modified apart from enabling.
    pub async fn ensure_webhook_automations(
        &self,
        target: &WebhookTarget,
        pairs: &[(&str, &str)],
    ) -> Result<Vec<SubscriptionOutcome>, ClarusError> {
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
            let outcome = match found {
                Some(a) if a.enabled == Some(false) => {
                    let update = AutomationUpdate {
                        enabled: Some(true),
                        ..AutomationUpdate::default()
                    };
                    self.update_automation(a.id, &update).await?;
                    SubscriptionOutcome::Enabled(a.id)
                }
                Some(a) => SubscriptionOutcome::Existing(a.id),
                None => {
                    let url = subscription_url(target, resource_name, event);
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
