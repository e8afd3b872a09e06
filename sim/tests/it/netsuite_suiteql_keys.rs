//! SuiteQL in the NetSuite simulator reads only the rows a query's keys allow (type, id, dates,
//! transaction) and answers exactly what reading the whole table answers; a wrong query is
//! refused whatever the data.

use crate::support::netsuite::Client;

use reqwest::StatusCode;
use rust_decimal::Decimal;
use sim::netsuite::{
    GOOD, InternalId, ItemKind, NetSuiteConfig, NetSuiteSim, NewItem, NewOrder, NewOrderLine,
    OrderKind, RunningNetSuite,
};

impl Client {
    /// The `id`s of a query's rows.
    async fn ids(&self, query: &str) -> Vec<String> {
        self.column(query, "id").await
    }

    /// The values of a query's rows in the column named.
    async fn column(&self, query: &str, column: &str) -> Vec<String> {
        self.query(query).await["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[column].as_str().unwrap_or("").to_string())
            .collect()
    }
}

struct Day {
    sim: RunningNetSuite,
    orders: Vec<InternalId>,
    purchase: InternalId,
}

async fn day() -> Day {
    let sim = NetSuiteSim::start(NetSuiteConfig::default()).await.unwrap();
    let handle = sim.handle();
    let location = handle.add_location("Main", Some("WH-MAIN")).unwrap();
    let item = handle
        .add_item(NewItem::new("SKU-K", ItemKind::Inventory))
        .unwrap();
    handle.set_on_hand(item, location, GOOD, Decimal::from(100));
    let order = |n: i64| NewOrder {
        location: Some(location),
        lines: vec![NewOrderLine {
            item,
            quantity: Decimal::from(n),
            location: None,
        }],
        ..NewOrder::default()
    };
    let orders: Vec<InternalId> = (1..=3)
        .map(|n| handle.add_order(OrderKind::SalesOrder, order(n)).unwrap())
        .collect();
    let purchase = handle
        .add_order(OrderKind::PurchaseOrder, order(9))
        .unwrap();
    handle
        .cancel_order(OrderKind::SalesOrder, orders[1])
        .unwrap();
    Day {
        sim,
        orders,
        purchase,
    }
}

#[tokio::test]
async fn queries_on_keys_answer_what_the_whole_table_answers() {
    let day = day().await;
    let client = Client::connect(&day.sim).await;
    let [a, b, c] = [day.orders[0], day.orders[1], day.orders[2]].map(|i| i.0.to_string());
    let po = day.purchase.0.to_string();

    let all = client
        .ids("SELECT id, type FROM transaction ORDER BY id")
        .await;
    assert_eq!(all, [a.clone(), b.clone(), c.clone(), po.clone()]);
    assert_eq!(
        client
            .ids("SELECT id FROM transaction WHERE type = 'SalesOrd' ORDER BY id")
            .await,
        [a.clone(), b.clone(), c.clone()]
    );
    assert_eq!(
        client
            .ids(&format!(
                "SELECT id FROM transaction WHERE type = 'PurchOrd' AND id = {po}"
            ))
            .await,
        [po.as_str()]
    );
    // An OR across a key and another column is not narrowed by the key alone.
    assert_eq!(
        client
            .ids(&format!(
                "SELECT id FROM transaction WHERE id = {a} OR status = 'SalesOrd:C' ORDER BY id"
            ))
            .await,
        [a.clone(), b.clone()]
    );
    assert_eq!(
        client
            .ids("SELECT id FROM transaction WHERE type = 'SalesOrd' AND NOT (status = 'SalesOrd:C') ORDER BY id")
            .await,
        [a.clone(), c.clone()]
    );
    assert_eq!(
        client
            .ids("SELECT id FROM transaction WHERE lastmodifieddate >= TO_TIMESTAMP('2000-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS') AND type IN ('SalesOrd', 'PurchOrd') ORDER BY id")
            .await,
        all
    );
    assert!(
        client
            .ids("SELECT id FROM transaction WHERE lastmodifieddate > TO_TIMESTAMP('2999-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')")
            .await
            .is_empty()
    );
    // Lines of one transaction, its main line first.
    assert_eq!(
        client
            .column(
                &format!("SELECT transaction, mainline FROM transactionline WHERE transaction = {c} ORDER BY linesequencenumber"),
                "mainline"
            )
            .await,
        ["T", "F"]
    );
    assert_eq!(
        client
            .column(
                &format!("SELECT quantity FROM transactionline WHERE transaction IN ({a}, {po}) AND mainline = 'F' ORDER BY transaction"),
                "quantity"
            )
            .await,
        ["-1", "9"]
    );
    // The display form of a key column is not read from the keys.
    assert_eq!(
        client
            .ids("SELECT id FROM transaction WHERE BUILTIN.DF(type) = 'Purchase Order'")
            .await,
        [po]
    );
    day.sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_query_is_refused_even_when_its_keys_match_no_row() {
    let day = day().await;
    let client = Client::connect(&day.sim).await;
    for query in [
        "SELECT id FROM transaction WHERE type = 'NoSuchType' AND bogus = 1",
        "SELECT id FROM transaction WHERE id = -1 AND TO_TIMESTAMP('not a time', 'YYYY-MM-DD') IS NULL",
        "SELECT id FROM transactionline WHERE transaction = -1 AND LOWER(item) = 'x'",
        "SELECT id FROM inventorybalance WHERE item = -1 AND nothere IS NULL",
    ] {
        let (status, body) = client.suiteql(query, 1000, 0).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
    }
    day.sim.shutdown().await;
}
