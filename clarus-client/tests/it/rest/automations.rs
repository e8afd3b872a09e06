//! Automations: create and update (the delete is in `actions.rs`).

use super::*;

fn automation() -> Automation {
    Automation {
        resource_name: "goods_out".into(),
        event: "completed".into(),
        name: Some("netsuite-sync goods_out.completed".into()),
        enabled: true,
        conditions_changes: vec![Change::Add(AutomationCondition {
            condition_code: "account_id".into(),
            source_path: "data.account_id".into(),
            operator: "eq".into(),
            value: json!("42"),
        })],
        actions_changes: vec![Change::Add(AutomationAction::webhook(
            "https://sync.example.com/hooks/goods_out/completed?token=t",
            "POST",
        ))],
    }
}

#[tokio::test]
async fn create_automation() {
    let expected = json!({"data":{"type":"automations","attributes":{
        "resource_name":"goods_out","event":"completed","name":"netsuite-sync goods_out.completed","enabled":true,
        "conditions_changes":[{"type":"ADD","attributes":{"condition_code":"account_id","source_path":"data.account_id","operator":"eq","value":"42"}}],
        "actions_changes":[{"type":"ADD","attributes":{"destination_type":"webhook","destination_code":"default","parameters_changes":[
            {"type":"ADD","attributes":{"parameter_code":"webhook_url","value":"https://sync.example.com/hooks/goods_out/completed?token=t"}},
            {"type":"ADD","attributes":{"parameter_code":"webhook_method","value":"POST"}}]}}]}}});
    post("/api/automations")
        .body("createAutomation", expected)
        .record(12, "automations")
        .run(async |c| c.create_automation(&automation()).await)
        .await;

    let server = server().await;
    let mut bad = automation();
    bad.actions_changes.push(Change::Delete(id(1)));
    assert!(matches!(
        client(&server).create_automation(&bad).await,
        Err(Error::InvalidRequest(_))
    ));
    assert!(api_requests(&server).await.is_empty());
}

#[tokio::test]
async fn update_automation() {
    let update = AutomationUpdate {
        enabled: Some(false),
        actions_changes: vec![
            Change::Update {
                id: id(5),
                attributes: AutomationAction {
                    destination_type: "webhook".into(),
                    destination_code: "default".into(),
                    parameters_changes: vec![Change::Update {
                        id: id(6),
                        attributes: AutomationParameter {
                            parameter_code: "webhook_url".into(),
                            value: "https://new.example.com/h".into(),
                        },
                    }],
                },
            },
            Change::Delete(id(7)),
        ],
        ..AutomationUpdate::default()
    };
    // Automation arrays keep DESTROY even when lines use REMOVE.
    let expected = json!({"data":{"type":"automations","attributes":{"enabled":false,"actions_changes":[
        {"type":"UPDATE","id":5,"attributes":{"destination_type":"webhook","destination_code":"default","parameters_changes":[
            {"type":"UPDATE","id":6,"attributes":{"parameter_code":"webhook_url","value":"https://new.example.com/h"}}]}},
        {"type":"DESTROY","id":7}]}}});
    patch("/api/automations/12")
        .body("updateAutomation", expected)
        .record(12, "automations")
        .run_with(client_with_remove, async |c| {
            c.update_automation(id(12), &update).await
        })
        .await;
}
