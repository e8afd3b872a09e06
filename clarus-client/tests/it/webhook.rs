//! Webhooks: a fixture per documented event, routing, headers, secrets, lossless failure,
//! arbitrary input never panicking, and idempotent subscription.

use crate::support::*;
use clarus_client::ClarusId;
use clarus_client::Secret;
use clarus_client::webhook::{
    GoodsInEvent, GoodsOutEvent, InvoiceEvent, PickListEvent, ScheduleKind, StockEvent,
    SubscriptionOutcome, WebhookDelivery, WebhookEvent, WebhookHeaders, WebhookSecret,
    WebhookTarget, documented_pairs, subscription_url,
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Documented pairs to subscribe to in the subscription tests.
const SOME_PAIRS: &[(&str, &str)] = &[
    ("goods_out", "completed"),
    ("goods_out", "cancelled"),
    ("goods_in", "completed"),
    ("goods_in", "moved_to_part"),
];

fn fixture(resource: &str, event: &str) -> Vec<u8> {
    let p = format!(
        "{}/tests/fixtures/webhooks/{resource}.{event}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&p).unwrap_or_else(|e| panic!("missing fixture {p}: {e}"))
}

fn parse(resource: &str, event: &str) -> WebhookDelivery {
    WebhookDelivery::parse(
        WebhookHeaders::default(),
        &fixture(resource, event),
        Some((resource, event)),
    )
    .unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn every_documented_event_has_a_fixture_that_parses_to_its_variant() {
    for (resource, event) in documented_pairs() {
        let d = parse(resource, event);
        let ok = match (&d.event, resource) {
            (WebhookEvent::GoodsOut { event: e, .. }, "goods_out") => e.as_str() == event,
            (WebhookEvent::GoodsIn { event: e, .. }, "goods_in") => e.as_str() == event,
            (WebhookEvent::GoodsOutPickList { event: e, .. }, "goods_out_pick_list") => {
                e.as_str() == event
            }
            (WebhookEvent::Stock { event: e, .. }, "stock") => e.as_str() == event,
            (WebhookEvent::StockBalanceUpdated { .. }, "stock_balance") => true,
            (WebhookEvent::LoadDropDispatched { .. }, "load_drop") => true,
            (WebhookEvent::PutawayTaskCompleted { .. }, "putaway_task") => true,
            (WebhookEvent::Invoice { event: e, .. }, "invoice") => e.as_str() == event,
            (WebhookEvent::FailureEventLogCreated { .. }, "failure_event_log") => true,
            (WebhookEvent::FtpFileUploaded { .. }, "ftp_file") => true,
            (WebhookEvent::FtpImportFailed { .. }, "ftp_import") => true,
            (WebhookEvent::ScheduleTriggered { schedule }, _) => schedule.as_str() == resource,
            _ => false,
        };
        assert!(ok, "{resource}.{event} parsed as {:?}", d.event);
        // The raw body is kept whole.
        let raw: Value = serde_json::from_slice(&fixture(resource, event)).unwrap();
        assert_eq!(d.raw, raw);
        assert_eq!(d.record(), &raw["data"]);
        if !resource.ends_with("_schedule") {
            assert!(
                d.event.record_id().is_some(),
                "{resource}.{event} lost its id"
            );
        }
    }
}

#[test]
fn goods_out_completed_carries_dispatch_facts() {
    let d = parse("goods_out", "completed");
    let WebhookEvent::GoodsOut {
        event: GoodsOutEvent::Completed,
        record,
    } = d.event
    else {
        panic!("{:?}", d.event)
    };
    assert_eq!(record.id, Some(ClarusId::new(3301)));
    assert_eq!(record.reference.as_deref(), Some("SO-2026-008812"));
    assert_eq!(record.goods_out_status_id, Some(ClarusId::new(6)));
    assert_eq!(
        record.goods_out_status.unwrap().code.as_deref(),
        Some("COMPLETED")
    );
    assert_eq!(
        record.external_system_reference1.as_deref(),
        Some("NS-SO-123")
    );
    assert_eq!(
        record.actual_date_of_dispatch.as_deref(),
        Some("2026-06-15T14:32:08Z")
    );
    assert_eq!(
        record.tracking_number.as_deref(),
        Some("1Z999AA10123456784")
    );
    assert_eq!(record.lines.len(), 2);
    assert_eq!(record.lines[1].dispatch_quantity, Some(dec("2")));
    assert_eq!(record.lines[1].order_quantity, Some(dec("2.5")));
    assert_eq!(record.lines[1].short_status.as_deref(), Some("SHORT"));
    assert_eq!(record.lines[1].string1.as_deref(), Some("BATCH-7"));
    assert_eq!(
        record.lines[0].product.as_ref().unwrap().code.as_deref(),
        Some("WIDGET-RED-500")
    );
}

#[test]
fn goods_in_and_stock_events_carry_their_facts() {
    let d = parse("goods_in", "moved_to_part");
    let WebhookEvent::GoodsIn {
        event: GoodsInEvent::MovedToPart,
        record,
    } = d.event
    else {
        panic!()
    };
    assert_eq!(record.reference.as_deref(), Some("PO-2026-0042"));
    assert_eq!(record.lines[0].received_quantity, Some(dec("120")));

    let d = parse("stock", "positively_adjusted");
    let WebhookEvent::Stock {
        event: StockEvent::PositivelyAdjusted,
        record,
    } = d.event
    else {
        panic!()
    };
    assert_eq!(record.quantity, Some(dec("12")));
    assert_eq!(record.new_quantity, Some(dec("252")));
    assert_eq!(
        record.product.unwrap().code.as_deref(),
        Some("WIDGET-RED-500")
    );
    assert_eq!(record.warehouse.unwrap().code.as_deref(), Some("WH1"));
    assert_eq!(record.reason_code.unwrap().code.as_deref(), Some("DAMAGED"));

    let d = parse("stock_balance", "updated");
    let WebhookEvent::StockBalanceUpdated { record } = d.event else {
        panic!()
    };
    assert_eq!(record.available, Some(dec("1380")));
    assert_eq!(record.warehouse.unwrap().id, Some(ClarusId::new(2)));

    assert!(matches!(
        parse("goods_out_pick_list", "picked").event,
        WebhookEvent::GoodsOutPickList {
            event: PickListEvent::Picked,
            ..
        }
    ));
    assert!(matches!(
        parse("invoice", "paid").event,
        WebhookEvent::Invoice {
            event: InvoiceEvent::Paid,
            ..
        }
    ));
    assert!(matches!(
        parse("weekly_schedule", "triggered").event,
        WebhookEvent::ScheduleTriggered {
            schedule: ScheduleKind::Weekly
        }
    ));
}

#[test]
fn route_can_come_from_the_body() {
    let body = br#"{"resource_name":"stock","event":"negatively_adjusted","data":{"id":"9","quantity":"2"}}"#;
    let d = WebhookDelivery::parse(WebhookHeaders::default(), body, None).unwrap();
    let WebhookEvent::Stock {
        event: StockEvent::NegativelyAdjusted,
        record,
    } = d.event
    else {
        panic!()
    };
    assert_eq!(record.id, Some(ClarusId::new(9)));
    assert_eq!(record.quantity, Some(dec("2")));
}

#[test]
fn record_at_top_level_is_read_too() {
    let body = br#"{"id":3301,"reference":"SO-1"}"#;
    let d = WebhookDelivery::parse(
        WebhookHeaders::default(),
        body,
        Some(("goods_out", "created")),
    )
    .unwrap();
    let WebhookEvent::GoodsOut { record, .. } = d.event else {
        panic!()
    };
    assert_eq!(record.reference.as_deref(), Some("SO-1"));
}

#[test]
fn unknown_pairs_and_odd_fields_never_lose_the_delivery() {
    let body = br#"{"data":{"id":1,"x":2}}"#;
    let d = WebhookDelivery::parse(WebhookHeaders::default(), body, Some(("robot", "woke_up")))
        .unwrap();
    assert_eq!(
        d.event,
        WebhookEvent::Unknown {
            resource_name: "robot".into(),
            event: "woke_up".into()
        }
    );
    assert_eq!(d.raw["data"]["x"], 2);
    let d = WebhookDelivery::parse(WebhookHeaders::default(), body, None).unwrap();
    assert!(
        matches!(d.event, WebhookEvent::Unknown { ref resource_name, .. } if resource_name.is_empty())
    );
    // Fields of an unexpected shape become None; the rest still reads.
    let body = br#"{"data":{"id":{"nested":1},"reference":42,"lines":"none","account_id":"7"}}"#;
    let d = WebhookDelivery::parse(
        WebhookHeaders::default(),
        body,
        Some(("goods_out", "completed")),
    )
    .unwrap();
    let WebhookEvent::GoodsOut { record, .. } = d.event else {
        panic!()
    };
    assert_eq!(record.id, None);
    assert_eq!(record.reference, None);
    assert!(record.lines.is_empty());
    assert_eq!(record.account_id, Some(ClarusId::new(7)));
}

#[test]
fn non_json_bodies_fail_with_the_bytes_kept() {
    let err =
        WebhookDelivery::parse(WebhookHeaders::default(), b"\xff not json", None).unwrap_err();
    assert_eq!(err.raw_body, b"\xff not json");
}

#[test]
fn claruswms_headers_are_captured() {
    let mut map = reqwest::header::HeaderMap::new();
    map.insert("X-ClarusWMS-Domain", "acme.claruswms.com".parse().unwrap());
    map.insert("X-ClarusWMS-API-Domain", "clarus-api.com".parse().unwrap());
    map.insert("x-claruswms-subdomain", "acme-warehouse".parse().unwrap());
    map.insert("X-ClarusWMS-Automation-ID", "12".parse().unwrap());
    map.insert("X-ClarusWMS-Integration-ID", "3".parse().unwrap());
    let h = WebhookHeaders::from_header_map(&map);
    assert_eq!(h.domain.as_deref(), Some("acme.claruswms.com"));
    assert_eq!(h.api_domain.as_deref(), Some("clarus-api.com"));
    assert_eq!(h.subdomain.as_deref(), Some("acme-warehouse"));
    assert_eq!(h.automation_id, Some(ClarusId::new(12)));
    assert_eq!(h.integration_id, Some(ClarusId::new(3)));
    let h = WebhookHeaders::from_pairs([("X-ClarusWMS-Automation-ID", "abc")]);
    assert_eq!(h.automation_id, None);
    assert_eq!(h.raw_automation_id.as_deref(), Some("abc"));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512),
                                   resource in "[a-z_]{0,20}", event in "[a-z_]{0,20}") {
        let _ = WebhookDelivery::parse(WebhookHeaders::default(), &bytes, Some((&resource, &event)));
        let _ = WebhookDelivery::parse(WebhookHeaders::default(), &bytes, None);
    }

    #[test]
    fn arbitrary_json_never_panics_and_is_kept(value in arb_json(), pair in proptest::sample::select(documented_pairs())) {
        let bytes = serde_json::to_vec(&json!({"data": value})).unwrap();
        let d = WebhookDelivery::parse(WebhookHeaders::default(), &bytes, Some(pair)).unwrap();
        prop_assert_eq!(serde_json::to_vec(&d.raw).unwrap(), bytes);
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z0-9 ._-]{0,12}".prop_map(Value::String),
    ];
    let key = prop_oneof![
        Just("id".to_owned()),
        Just("quantity".to_owned()),
        Just("lines".to_owned()),
        Just("product".to_owned()),
        Just("reference".to_owned()),
        Just("goods_out_lines".to_owned()),
        "[a-z_]{1,10}",
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

// ---------------------------------------------------------------- secrets and subscriptions

#[test]
fn subscription_url_carries_route_and_token() {
    let target = WebhookTarget::new(
        "https://sync.example.com/hooks/clarus/".parse().unwrap(),
        Some(WebhookSecret::new(Secret::new(
            "s3cr3t&=x-0123456789abcdef0123456789",
        ))),
        "netsuite-sync",
    );
    let url = subscription_url(&target, "goods_out", "completed");
    assert_eq!(url.path(), "/hooks/clarus/goods_out/completed");
    let secret = WebhookSecret::new(Secret::new("s3cr3t&=x-0123456789abcdef0123456789"));
    assert_eq!(secret.verify_query(url.query()), Ok(()));
    assert!(secret.verify_query(Some("token=s3cr3t")).is_err());
}

/// The receiver the automation tests subscribe, with the token in its URLs.
fn receiver_target() -> WebhookTarget {
    WebhookTarget::new(
        "https://sync.example.com/hooks/clarus".parse().unwrap(),
        Some(WebhookSecret::new(Secret::new(
            "tok-0123456789abcdef0123456789abcdef",
        ))),
        "netsuite-sync",
    )
}

/// Expects exactly `times` updates of automation `id`, each answered with `response`.
async fn expect_update(server: &MockServer, id: u64, times: u64, response: ResponseTemplate) {
    Mock::given(method("PATCH"))
        .and(path(format!("/api/automations/{id}")))
        .respond_with(response)
        .expect(times)
        .mount(server)
        .await;
}

/// Serves the automation list: one enabled, one disabled, the rest missing.
struct AutomationList;

impl Respond for AutomationList {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let name = body["variables"]["filter"]["name"]["eq"]
            .as_str()
            .unwrap()
            .to_owned();
        let edges = match name.as_str() {
            "netsuite-sync goods_out.completed" => vec![
                json!({"cursor":"MQ","node":{"id":"21","name":name,"resource_name":"goods_out","event":"completed","enabled":true}}),
            ],
            "netsuite-sync goods_out.cancelled" => vec![
                json!({"cursor":"MQ","node":{"id":"22","name":name,"resource_name":"goods_out","event":"cancelled","enabled":false}}),
            ],
            // A partial-match server might return a similar name: it must not count.
            "netsuite-sync goods_in.completed" => vec![
                json!({"cursor":"MQ","node":{"id":"23","name":"netsuite-sync goods_in.completed (old)","resource_name":"goods_in","event":"completed","enabled":true}}),
            ],
            _ => vec![],
        };
        ResponseTemplate::new(200).set_body_json(json!({"data":{"automations":{"all":{"pageInfo":{"hasNextPage":false},"edges":edges}}}}))
    }
}

#[tokio::test]
async fn ensure_webhook_automations_is_idempotent() {
    let server = server().await;
    mount_answer(&server, "POST", "/graphql", AutomationList).await;
    // Enabling an existing automation is a no-op when it is enabled; these answers do not
    // list the actions, so the automations are left pointing where they point.
    expect_update(&server, 21, 1, data_response(21, "automations")).await;
    expect_update(&server, 22, 1, data_response(22, "automations")).await;
    Mock::given(method("POST"))
        .and(path("/api/automations"))
        .respond_with(data_response(99, "automations"))
        .expect(2)
        .mount(&server)
        .await;
    let target = receiver_target();
    let pairs = SOME_PAIRS;
    let outcomes = client(&server)
        .ensure_webhook_automations(&target, pairs)
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        vec![
            SubscriptionOutcome::Existing(ClarusId::new(21)),
            SubscriptionOutcome::Enabled(ClarusId::new(22)),
            SubscriptionOutcome::Created(ClarusId::new(99)),
            SubscriptionOutcome::Created(ClarusId::new(99)),
        ]
    );
    let requests = api_requests(&server).await;
    let patch = requests
        .iter()
        .find(|r| r.method.as_str() == "PATCH")
        .unwrap();
    let patch_body = body(patch);
    assert_valid("updateAutomation", &patch_body);
    assert_eq!(
        patch_body,
        json!({"data":{"type":"automations","attributes":{"enabled":true}}})
    );
    let creates: Vec<Value> = requests
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/api/automations")
        .map(body)
        .collect();
    for b in &creates {
        assert_valid("createAutomation", b);
    }
    let first = &creates[0]["data"]["attributes"];
    assert_eq!(first["resource_name"], "goods_in");
    assert_eq!(first["event"], "completed");
    assert_eq!(first["name"], "netsuite-sync goods_in.completed");
    let params = &first["actions_changes"][0]["attributes"]["parameters_changes"];
    assert_eq!(
        params[0]["attributes"]["value"],
        "https://sync.example.com/hooks/clarus/goods_in/completed?token=tok-0123456789abcdef0123456789abcdef"
    );
    assert_eq!(
        params[1]["attributes"],
        json!({"parameter_code":"webhook_method","value":"POST"})
    );
    for r in requests.iter().filter(|r| r.url.path() == "/graphql") {
        assert_valid("listAutomations", &body(r));
    }
}

/// An automation whose webhook action sends to `url`, as the answer to an update lists it.
fn automation_sending_to(id: i64, url: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"data": {"id": id, "type": "automations",
        "attributes": {"enabled": true, "actions": [{"id": 501, "destination_type": "webhook",
            "destination_code": "default", "parameters": [
                {"id": 601, "parameter_code": "webhook_url", "value": url},
                {"id": 602, "parameter_code": "webhook_method", "value": "POST"}]}]}}}))
}

#[tokio::test]
async fn an_automation_sending_elsewhere_is_retargeted_and_one_sending_here_is_kept() {
    let server = server().await;
    mount_answer(&server, "POST", "/graphql", AutomationList).await;
    // 21 sends to the receiver's old address; 22 already sends to the target.
    let elsewhere = "https://old.example.com/hooks/clarus/goods_out/completed?token=tok-0123456789abcdef0123456789abcdef";
    let here = "https://sync.example.com/hooks/clarus/goods_out/cancelled?token=tok-0123456789abcdef0123456789abcdef";
    expect_update(&server, 21, 2, automation_sending_to(21, elsewhere)).await;
    expect_update(&server, 22, 1, automation_sending_to(22, here)).await;
    let target = receiver_target();
    let outcomes = client(&server)
        .ensure_webhook_automations(&target, &SOME_PAIRS[..2])
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        vec![
            SubscriptionOutcome::Retargeted(ClarusId::new(21)),
            SubscriptionOutcome::Enabled(ClarusId::new(22)),
        ]
    );
    let requests = api_requests(&server).await;
    let retarget = requests
        .iter()
        .filter(|r| r.url.path() == "/api/automations/21")
        .map(body)
        .nth(1)
        .expect("a second update of 21");
    assert_valid("updateAutomation", &retarget);
    let changes = &retarget["data"]["attributes"]["actions_changes"];
    assert_eq!(changes[0], json!({"type": "DESTROY", "id": 501}));
    assert_eq!(changes[1]["type"], "ADD");
    assert_eq!(
        changes[1]["attributes"]["parameters_changes"][0]["attributes"]["value"],
        "https://sync.example.com/hooks/clarus/goods_out/completed?token=tok-0123456789abcdef0123456789abcdef"
    );
}

#[test]
fn pick_lists_name_the_goods_outs_they_cover() {
    let d = parse("goods_out_pick_list", "created");
    let WebhookEvent::GoodsOutPickList {
        event: PickListEvent::Created,
        record,
    } = &d.event
    else {
        panic!("{:?}", d.event)
    };
    assert_eq!(record.id, Some(ClarusId::new(880)));
    assert_eq!(record.reference.as_deref(), Some("PL-880"));
    assert_eq!(
        record.covered_goods_outs(),
        vec![ClarusId::new(3301), ClarusId::new(3302)]
    );
    assert_eq!(d.event.record_id(), Some(ClarusId::new(880)));

    // Other plausible shapes: one id, objects, string ids; each goods out once.
    let body = json!({"data": {"id": "881", "goods_out_id": "12",
        "goods_outs": [{"id": 12, "reference": "SO1"}, {"id": "13"}, "bad"],
        "goods_out": {"id": 14}}});
    let d = WebhookDelivery::parse(
        WebhookHeaders::default(),
        body.to_string().as_bytes(),
        Some(("goods_out_pick_list", "picked")),
    )
    .unwrap();
    let WebhookEvent::GoodsOutPickList { record, .. } = &d.event else {
        panic!("{:?}", d.event)
    };
    assert_eq!(
        record.covered_goods_outs(),
        vec![ClarusId::new(12), ClarusId::new(13), ClarusId::new(14)]
    );

    // A pick list that names no goods out covers none, and is still typed.
    let d = WebhookDelivery::parse(
        WebhookHeaders::default(),
        br#"{"data": {"id": 882, "goods_out_ids": "oops"}}"#,
        Some(("goods_out_pick_list", "completed")),
    )
    .unwrap();
    let WebhookEvent::GoodsOutPickList { record, .. } = &d.event else {
        panic!("{:?}", d.event)
    };
    assert!(record.covered_goods_outs().is_empty());
}
