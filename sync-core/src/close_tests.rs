use super::*;
use crate::money::Currency;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn november() -> ClosePeriod {
    "2026-11".parse().unwrap()
}

fn exception(kind: &str, owner: &str, severity: &str, when: &str) -> OpenException {
    OpenException {
        key: format!("EXC-{kind}-{owner}-{when}"),
        kind: kind.into(),
        owner: owner.into(),
        severity: severity.into(),
        document: "sales order 501".into(),
        message: "something happened".into(),
        raised_at: at(when),
        runbook: format!("operations.md#{kind}"),
        concerns: vec![],
        ledger_action: kind == ACTION_FAILED_KIND,
    }
}

fn activity(flow: &str, when: &str, posting: PostingState, units: i64) -> Activity {
    Activity {
        document: "sales order 501".into(),
        activity: format!("despatch 1 of goods out 9 at {when}"),
        flow: flow.into(),
        occurred_at: at(when),
        posting,
        transaction: TransactionType::ItemFulfillment,
        lines: vec![TieOutLine {
            sku: "MUG".into(),
            location: Some("1".into()),
            units: Decimal::from(units),
        }],
    }
}

const IN_NOVEMBER: &str = "2026-11-15T10:00:00Z";
const IN_OCTOBER: &str = "2026-10-15T10:00:00Z";
const IN_DECEMBER: &str = "2026-12-02T10:00:00Z";

/// The expected category and whether it blocks; `None`: left out of the list.
type Expected = Option<(CloseCategory, bool)>;

/// Each row: an exception, the rules, and what is expected.
#[test]
fn exceptions_are_classified_by_kind_owner_severity_and_period() {
    let default = CloseRules::default();
    let warnings = CloseRules {
        warnings_block: true,
        ..default
    };
    let earlier = CloseRules {
        earlier_periods_block: true,
        ..default
    };
    let others = CloseRules {
        other_errors_block: true,
        ..default
    };
    use CloseCategory::*;
    let table: Vec<(OpenException, CloseRules, Expected)> = vec![
        // Short-pick notices are warnings: shown, not blocking, unless configured.
        (
            exception("short-despatch", "operations", "warning", IN_NOVEMBER),
            default,
            Some((Warning, false)),
        ),
        (
            exception("short-despatch", "operations", "warning", IN_NOVEMBER),
            warnings,
            Some((Warning, true)),
        ),
        (
            exception("barcode-mismatch", "item_master", "warning", IN_NOVEMBER),
            default,
            Some((Warning, false)),
        ),
        // Failed postings and finance errors of the period block.
        (
            exception("action-failed", "finance", "error", IN_NOVEMBER),
            default,
            Some((FailedPosting, true)),
        ),
        (
            exception("missing-account-mapping", "finance", "error", IN_NOVEMBER),
            default,
            Some((FinanceException, true)),
        ),
        // A finance warning is a warning.
        (
            exception("drift-note", "finance", "warning", IN_NOVEMBER),
            default,
            Some((Warning, false)),
        ),
        // Other owners' errors hold no posting by themselves.
        (
            exception("unknown-sku", "item_master", "error", IN_NOVEMBER),
            default,
            Some((OtherException, false)),
        ),
        (
            exception("unknown-sku", "item_master", "error", IN_NOVEMBER),
            others,
            Some((OtherException, true)),
        ),
        // Drift is the state of stock now: it blocks whenever it was raised.
        (
            exception("stock-drift", "operations", "error", IN_OCTOBER),
            default,
            Some((UnexplainedDrift, true)),
        ),
        (
            exception("drift-value", "finance", "error", IN_DECEMBER),
            default,
            Some((UnexplainedDrift, true)),
        ),
        // Earlier periods are listed; they block only when configured, and only what would
        // block its own period.
        (
            exception("action-failed", "finance", "error", IN_OCTOBER),
            default,
            Some((EarlierPeriod, false)),
        ),
        (
            exception("action-failed", "finance", "error", IN_OCTOBER),
            earlier,
            Some((EarlierPeriod, true)),
        ),
        (
            exception("short-despatch", "operations", "warning", IN_OCTOBER),
            earlier,
            Some((EarlierPeriod, false)),
        ),
        // Later periods are left out.
        (
            exception("action-failed", "finance", "error", IN_DECEMBER),
            earlier,
            None,
        ),
        // A failed action that is no ledger posting is another owner's error.
        (
            OpenException {
                ledger_action: false,
                ..exception("action-failed", "operations", "error", IN_NOVEMBER)
            },
            default,
            Some((OtherException, false)),
        ),
    ];
    for (e, rules, expected) in table {
        assert_eq!(
            classify_exception(&november(), &rules, &e),
            expected,
            "{} {} {} {} with {rules:?}",
            e.kind,
            e.owner,
            e.severity,
            e.raised_at
        );
    }
}

#[test]
fn an_exception_belongs_to_the_period_of_the_activity_it_concerns() {
    // Raised on 2 December about a despatch of 30 November: November's.
    let mut e = exception("action-failed", "finance", "error", IN_DECEMBER);
    e.concerns = vec![at("2026-11-30T18:00:00Z")];
    assert_eq!(
        classify_exception(&november(), &CloseRules::default(), &e),
        Some((CloseCategory::FailedPosting, true))
    );
    // Concerning October and November activity: November's.
    e.concerns = vec![at(IN_OCTOBER), at(IN_NOVEMBER)];
    assert_eq!(
        classify_exception(&november(), &CloseRules::default(), &e),
        Some((CloseCategory::FailedPosting, true))
    );
    // Raised in November about October activity: October's.
    let mut e = exception("action-failed", "finance", "error", IN_NOVEMBER);
    e.concerns = vec![at(IN_OCTOBER)];
    assert_eq!(
        classify_exception(&november(), &CloseRules::default(), &e),
        Some((CloseCategory::EarlierPeriod, false))
    );
}

#[test]
fn unposted_activity_of_the_period_blocks_and_earlier_activity_is_listed() {
    use PostingState::*;
    let rules = CloseRules::default();
    let table = [
        (
            IN_NOVEMBER,
            Queued,
            Some((CloseCategory::UnpostedDocument, true)),
        ),
        (
            IN_NOVEMBER,
            Withheld,
            Some((CloseCategory::UnpostedDocument, true)),
        ),
        (
            IN_NOVEMBER,
            Failed,
            Some((CloseCategory::FailedPosting, true)),
        ),
        (IN_NOVEMBER, Posted, None),
        (IN_NOVEMBER, NothingToPost, None),
        (
            IN_OCTOBER,
            Queued,
            Some((CloseCategory::EarlierPeriod, false)),
        ),
        (IN_DECEMBER, Queued, None),
    ];
    for (when, posting, expected) in table {
        let inputs = CloseInputs {
            activity: vec![activity("sales_order", when, posting, 2)],
            ..CloseInputs::default()
        };
        let check = assess(&november(), &rules, &inputs, &NoCosts);
        let got = check.items.first().map(|i| (i.category, i.blocking));
        assert_eq!(got, expected, "{when} {posting:?}");
        assert_eq!(check.blocking, expected.is_some_and(|(_, b)| b));
    }
    let inputs = CloseInputs {
        activity: vec![activity("sales_order", IN_OCTOBER, Queued, 2)],
        ..CloseInputs::default()
    };
    let strict = CloseRules {
        earlier_periods_block: true,
        ..rules
    };
    assert!(assess(&november(), &strict, &inputs, &NoCosts).blocking);
}

#[test]
fn unconfirmed_drift_blocks_unless_configured_not_to() {
    let inputs = CloseInputs {
        unconfirmed_drift: vec![DriftPosition {
            document: "MUG at location 1 (Available)".into(),
            seen_at: at(IN_DECEMBER),
            clarus: Decimal::from(10),
            netsuite: Decimal::from(8),
            in_flight: Decimal::ZERO,
            unexplained: Decimal::from(2),
            value: None,
        }],
        ..CloseInputs::default()
    };
    let check = assess(&november(), &CloseRules::default(), &inputs, &NoCosts);
    assert!(check.blocking);
    assert_eq!(check.items[0].category, CloseCategory::UnconfirmedDrift);
    let lenient = CloseRules {
        unconfirmed_drift_blocks: false,
        ..CloseRules::default()
    };
    let check = assess(&november(), &lenient, &inputs, &NoCosts);
    assert!(!check.blocking);
    assert_eq!(check.items.len(), 1);
}

struct Costs;

impl Costing for Costs {
    fn unit_cost(&self, sku: &Sku, location: &LocationId) -> Option<Amount> {
        let currency: Currency = match location.as_str() {
            "1" => "USD".parse().unwrap(),
            "2" => "EUR".parse().unwrap(),
            _ => return None,
        };
        let value = match sku.as_str() {
            "MUG" => Decimal::new(250, 2),
            "CUP" => Decimal::from(4),
            _ => return None,
        };
        Some(Amount { value, currency })
    }
}

#[test]
fn totals_are_per_flow_and_transaction_and_never_add_currencies() {
    let usd: Currency = "USD".parse().unwrap();
    let eur: Currency = "EUR".parse().unwrap();
    let mut in_eur = activity("sales_order", IN_NOVEMBER, PostingState::Queued, 3);
    in_eur.lines[0].location = Some("2".into());
    in_eur.lines.push(TieOutLine {
        sku: "UNCOSTED".into(),
        location: Some("1".into()),
        units: Decimal::ONE,
    });
    let mut adjustment = activity("adjustment", IN_NOVEMBER, PostingState::Posted, -4);
    adjustment.transaction = TransactionType::InventoryAdjustment;
    adjustment.lines[0].sku = "CUP".into();
    let inputs = CloseInputs {
        activity: vec![
            activity("sales_order", IN_NOVEMBER, PostingState::Posted, 2),
            in_eur,
            adjustment,
            // Other months are not in November's totals.
            activity("sales_order", IN_OCTOBER, PostingState::Posted, 100),
            activity("sales_order", IN_DECEMBER, PostingState::Posted, 100),
        ],
        ..CloseInputs::default()
    };
    let check = assess(&november(), &CloseRules::default(), &inputs, &Costs);
    assert_eq!(check.totals.len(), 2, "{check:#?}");
    let adj = &check.totals[0];
    assert_eq!(
        (adj.flow.as_str(), adj.transaction),
        ("adjustment", TransactionType::InventoryAdjustment)
    );
    assert_eq!(adj.units, Decimal::from(-4));
    assert_eq!(adj.posted_value.get(usd), Some(Decimal::from(-16)));
    let sales = &check.totals[1];
    assert_eq!(sales.transaction, TransactionType::ItemFulfillment);
    assert_eq!((sales.documents, sales.posted_documents), (2, 1));
    assert_eq!(
        (sales.units, sales.posted_units),
        (Decimal::from(6), Decimal::from(2))
    );
    assert_eq!(sales.value.get(usd), Some(Decimal::from(5)));
    assert_eq!(sales.value.get(eur), Some(Decimal::new(750, 2)));
    assert_eq!(sales.posted_value.get(usd), Some(Decimal::from(5)));
    assert_eq!(sales.posted_value.get(eur), None);
    assert_eq!(sales.lines_without_value, 1);
    // The unposted despatch blocks; its value is unknown (one line has no cost).
    let blockers: Vec<&CloseItem> = check.blockers().collect();
    assert_eq!(blockers.len(), 1);
    assert_eq!(blockers[0].value, None);
}

#[test]
fn blocking_items_come_first() {
    let inputs = CloseInputs {
        exceptions: vec![
            exception("short-despatch", "operations", "warning", IN_NOVEMBER),
            exception("action-failed", "finance", "error", "2026-11-20T00:00:00Z"),
            exception("stock-drift", "operations", "error", "2026-11-01T00:00:00Z"),
        ],
        ..CloseInputs::default()
    };
    let check = assess(&november(), &CloseRules::default(), &inputs, &NoCosts);
    let order: Vec<(CloseCategory, bool)> = check
        .items
        .iter()
        .map(|i| (i.category, i.blocking))
        .collect();
    assert_eq!(
        order,
        [
            (CloseCategory::FailedPosting, true),
            (CloseCategory::UnexplainedDrift, true),
            (CloseCategory::Warning, false),
        ]
    );
    assert_eq!(check.blockers().count(), 2);
    assert_eq!(check.non_blocking().count(), 1);
}

#[test]
fn a_period_is_a_month_in_a_time_zone() {
    let november = november();
    assert_eq!(november.label(), "2026-11");
    assert_eq!(november.range(), "2026-11-01..2026-12-01");
    assert!(november.contains(at("2026-11-30T23:59:59Z")));
    assert!(!november.contains(at("2026-12-01T00:00:00Z")));
    assert_eq!(
        november.relation(at("2026-10-31T23:59:59Z")),
        PeriodRelation::Earlier
    );
    assert_eq!(
        november.relation(at("2026-12-01T00:00:00Z")),
        PeriodRelation::Later
    );
    // 07:00 UTC on 1 December is still 30 November in Los Angeles.
    let pacific = november.in_time_zone(TimeZone::get("America/Los_Angeles").unwrap());
    assert!(pacific.contains(at("2026-12-01T07:00:00Z")));
    let december: ClosePeriod = "2026-12".parse().unwrap();
    assert_eq!(december.range(), "2026-12-01..2027-01-01");
    for bad in [
        "2026-13",
        "2026-1",
        "26-11",
        "november",
        "2026-11-01",
        "2026-00",
    ] {
        assert!(bad.parse::<ClosePeriod>().is_err(), "{bad}");
    }
}

#[test]
fn ledger_actions_give_their_transaction_and_lines() {
    use crate::action::{InventoryAdjustment, StockMove};
    use crate::stock::StockStatus;
    let adjustment = Action::PostInventoryAdjustment(InventoryAdjustment {
        location: "1".into(),
        item: "77".into(),
        sku: "MUG".into(),
        quantity: Decimal::from(-2),
        account: "500".into(),
        memo: String::new(),
        lots: vec![],
        serials: vec![],
        occurred_at: at(IN_NOVEMBER),
        inventory_status: None,
    });
    let (t, lines) = tie_out_lines(&adjustment).unwrap();
    assert_eq!(t, TransactionType::InventoryAdjustment);
    assert_eq!(lines[0].units, Decimal::from(-2));
    let hold = |to: StockPlace| {
        Action::MoveStock(StockMove {
            location: "1".into(),
            item: "77".into(),
            sku: "MUG".into(),
            quantity: Decimal::from(3),
            to_status: StockStatus::Held,
            from: StockPlace::Status { status: "1".into() },
            to,
            lots: vec![],
            serials: vec![],
            occurred_at: at(IN_NOVEMBER),
        })
    };
    let (t, lines) = tie_out_lines(&hold(StockPlace::Status { status: "2".into() })).unwrap();
    assert_eq!(t, TransactionType::InventoryStatusChange);
    assert_eq!(lines[0].units, Decimal::from(3));
    let (t, _) = tie_out_lines(&hold(StockPlace::Location {
        location: "9".into(),
    }))
    .unwrap();
    assert_eq!(t, TransactionType::InventoryTransfer);
}
