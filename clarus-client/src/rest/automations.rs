//! Automations (rules with conditions and actions), used here for webhook subscriptions.

use serde::Serialize;
use serde_json::Value;

use super::common::Change;
use crate::client::{ClarusClient, Record};
use crate::{ClarusId, Error};

/// An automation: on `event` of `resource_name`, when the conditions hold, run the actions.
/// On create only `ADD` changes are allowed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Automation {
    /// Triggering resource, e.g. `goods_out`.
    pub resource_name: String,
    /// Triggering event, e.g. `completed`.
    pub event: String,
    /// Name (used to find the automation again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether it runs.
    pub enabled: bool,
    /// Condition changes.
    pub conditions_changes: Vec<Change<AutomationCondition>>,
    /// Action changes.
    pub actions_changes: Vec<Change<AutomationAction>>,
}

/// Partial update of an automation (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AutomationUpdate {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Enable or disable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Condition changes (`ADD`, `UPDATE`, `DESTROY`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions_changes: Vec<Change<AutomationCondition>>,
    /// Action changes (`ADD`, `UPDATE`, `DESTROY`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions_changes: Vec<Change<AutomationAction>>,
}

/// A condition, e.g. `account_id` / `data.account_id` / `eq` / `"42"`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutomationCondition {
    /// Condition code (e.g. `account_id`, `warehouse_id`).
    pub condition_code: String,
    /// Path into the record (e.g. `data.account_id`).
    pub source_path: String,
    /// Operator (`eq`, `neq`, `in`, …).
    pub operator: String,
    /// Value to compare with.
    pub value: Value,
}

/// An action with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutomationAction {
    /// `webhook`, `email`, `api`, …
    pub destination_type: String,
    /// Destination code (`default` in the documented examples).
    pub destination_code: String,
    /// Parameter changes.
    pub parameters_changes: Vec<Change<AutomationParameter>>,
}

/// An action parameter, e.g. `webhook_url`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutomationParameter {
    /// Parameter code.
    pub parameter_code: String,
    /// Value, always a string.
    pub value: String,
}

impl AutomationAction {
    /// A webhook action sending to `url` with HTTP `method` (`POST` or `GET`).
    pub fn webhook(url: &str, method: &str) -> Self {
        Self {
            destination_type: "webhook".into(),
            destination_code: "default".into(),
            parameters_changes: vec![
                Change::Add(AutomationParameter {
                    parameter_code: "webhook_url".into(),
                    value: url.into(),
                }),
                Change::Add(AutomationParameter {
                    parameter_code: "webhook_method".into(),
                    value: method.into(),
                }),
            ],
        }
    }
}

impl ClarusClient {
    /// `POST /automations`.
    pub async fn create_automation(&self, automation: &Automation) -> Result<Record, Error> {
        if automation
            .conditions_changes
            .iter()
            .any(|c| !matches!(c, Change::Add(_)))
            || automation
                .actions_changes
                .iter()
                .any(|c| !matches!(c, Change::Add(_)))
        {
            return Err(Error::InvalidRequest(
                "only ADD changes are allowed when creating an automation".into(),
            ));
        }
        self.create_resource("automations", automation, None).await
    }

    /// `PATCH /automations/{id}`.
    pub async fn update_automation(
        &self,
        id: ClarusId,
        update: &AutomationUpdate,
    ) -> Result<Record, Error> {
        self.update_resource("automations", id, update, None).await
    }

    /// `DELETE /automations/{id}`.
    pub async fn delete_automation(&self, id: ClarusId) -> Result<(), Error> {
        self.delete_resource("automations", id).await
    }
}
