//! Automations (webhook subscriptions): conditions, actions and parameters.

use serde_json::{Map, Value, json};

use super::changes::{change_attrs, change_type, changed_item, changes, is_delete};
use super::{Automation, AutomationAction, ClarusError, State, merge, with_id};

impl State {
    /// Applies an automation's `conditions_changes` and `actions_changes` (with each action's
    /// `parameters_changes`); on create, only `ADD` changes are allowed.
    fn automation_parts(
        &mut self,
        automation: &mut Automation,
        attrs: &Map<String, Value>,
        creating: bool,
    ) -> Result<(), ClarusError> {
        self.change_items(
            &mut automation.conditions,
            changes(attrs, "conditions_changes"),
            "/data/attributes/conditions_changes",
            creating,
            "Condition",
        )?;
        for (i, change) in changes(attrs, "actions_changes").into_iter().enumerate() {
            let source = format!("/data/attributes/actions_changes/{i}");
            let kind = change_type(&change).to_string();
            add_only(creating, &kind, &source)?;
            let action_attrs = change_attrs(&change);
            let index = if kind == "ADD" {
                let id = self.allocate_id();
                automation.actions.push(AutomationAction {
                    id,
                    attrs: Map::new(),
                    parameters: Vec::new(),
                });
                automation.actions.len() - 1
            } else {
                let index = changed_item(
                    &automation.actions,
                    |a| a.id,
                    &change,
                    &source,
                    "id_required",
                    "Action",
                )?;
                if is_delete(&kind) {
                    automation.actions.remove(index);
                    continue;
                }
                index
            };
            let action = &mut automation.actions[index];
            self.change_items(
                &mut action.parameters,
                changes(&action_attrs, "parameters_changes"),
                &format!("{source}/attributes/parameters_changes"),
                false,
                "Parameter",
            )?;
            let mut plain = action_attrs;
            plain.remove("parameters_changes");
            merge(&mut action.attrs, plain, &[]);
        }
        Ok(())
    }

    /// Applies changes to a list of items with an id and attributes (conditions, parameters).
    fn change_items(
        &mut self,
        items: &mut Vec<(u64, Map<String, Value>)>,
        list: Vec<Map<String, Value>>,
        source: &str,
        creating: bool,
        noun: &str,
    ) -> Result<(), ClarusError> {
        for (i, change) in list.into_iter().enumerate() {
            let source = format!("{source}/{i}");
            let kind = change_type(&change).to_string();
            add_only(creating, &kind, &source)?;
            if kind == "ADD" {
                let id = self.allocate_id();
                items.push((id, change_attrs(&change)));
                continue;
            }
            let index = changed_item(items, |(id, _)| *id, &change, &source, "id_required", noun)?;
            if is_delete(&kind) {
                items.remove(index);
            } else {
                merge(&mut items[index].1, change_attrs(&change), &[]);
            }
        }
        Ok(())
    }

    pub(crate) fn create_automation(
        &mut self,
        attrs: Map<String, Value>,
    ) -> Result<u64, ClarusError> {
        let mut automation = Automation {
            resource_name: attrs
                .get("resource_name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            event: attrs
                .get("event")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            name: attrs
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string),
            enabled: attrs
                .get("enabled")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            conditions: Vec::new(),
            actions: Vec::new(),
        };
        self.automation_parts(&mut automation, &attrs, true)?;
        for action in &automation.actions {
            if action.attrs.get("destination_type").and_then(Value::as_str) == Some("webhook")
                && Automation::parameter(action, "webhook_url").is_none()
            {
                return Err(ClarusError::unprocessable(
                    929,
                    "webhook_url_required",
                    "A webhook action needs a webhook_url parameter",
                ));
            }
        }
        let id = self.allocate_id();
        self.automations.insert(id, automation);
        Ok(id)
    }

    pub(crate) fn update_automation(
        &mut self,
        id: u64,
        attrs: Map<String, Value>,
    ) -> Result<(), ClarusError> {
        let mut automation = self
            .automations
            .get(&id)
            .cloned()
            .ok_or_else(|| ClarusError::not_found("Automation", id))?;
        if let Some(v) = attrs.get("resource_name").and_then(Value::as_str) {
            automation.resource_name = v.to_string();
        }
        if let Some(v) = attrs.get("event").and_then(Value::as_str) {
            automation.event = v.to_string();
        }
        if let Some(v) = attrs.get("name").and_then(Value::as_str) {
            automation.name = Some(v.to_string());
        }
        if let Some(v) = attrs.get("enabled").and_then(Value::as_bool) {
            automation.enabled = v;
        }
        self.automation_parts(&mut automation, &attrs, false)?;
        self.automations.insert(id, automation);
        Ok(())
    }

    pub(crate) fn automation_json(&self, id: u64) -> Value {
        let Some(a) = self.automations.get(&id) else {
            return Value::Null;
        };
        let items = |items: &[(u64, Map<String, Value>)]| {
            items
                .iter()
                .map(|(item, attrs)| Value::Object(with_id(attrs, *item)))
                .collect::<Vec<_>>()
        };
        let actions: Vec<Value> = a
            .actions
            .iter()
            .map(|action| {
                let mut out = with_id(&action.attrs, action.id);
                out.insert("parameters".into(), json!(items(&action.parameters)));
                Value::Object(out)
            })
            .collect();
        json!({
            "id": id,
            "resource_name": a.resource_name,
            "event": a.event,
            "name": a.name,
            "enabled": a.enabled,
            "conditions": items(&a.conditions),
            "actions": actions,
        })
    }
}

/// Refuses a change other than `ADD` when creating.
fn add_only(creating: bool, kind: &str, source: &str) -> Result<(), ClarusError> {
    if creating && kind != "ADD" {
        return Err(ClarusError::unprocessable(
            928,
            "only_add_allowed_on_create",
            "Only ADD changes are allowed on create",
        )
        .at(source));
    }
    Ok(())
}
