//! Reading one NetSuite record with its sublists and converting it to an engine event, learning
//! the SKUs of the items its lines name.

use futures_util::TryStreamExt;
use netsuite_client::records::{InventoryItem, PurchaseOrder, ReturnAuthorization, SalesOrder};
use netsuite_client::suiteql::{Query, StreamOptions, lenient};
use netsuite_client::{RecordId, RecordKey, RecordType};
use serde::Deserialize;
use sync_core::{Event, NetSuiteId};

use super::super::convert::{self, ConversionError, SkuIndex};
use super::{NetSuitePoller, PollKind};

#[derive(Deserialize)]
struct ItemSkuRow {
    #[serde(deserialize_with = "lenient::i64")]
    id: i64,
    itemid: String,
}

/// A record as read.
pub(super) enum Fetched {
    Item(InventoryItem),
    Sales(SalesOrder),
    Purchase(PurchaseOrder),
    Return(ReturnAuthorization),
}

impl NetSuitePoller {
    /// Reads one record with its sublists. `Ok(None)`: it no longer exists.
    pub(super) async fn fetch(
        &self,
        kind: PollKind,
        record_type: &RecordType,
        id: i64,
    ) -> Result<Option<Fetched>, netsuite_client::Error> {
        let key = RecordKey::Id(RecordId::new(id.to_string())?);
        macro_rules! fetch {
            ($ty:ty, $variant:ident) => {
                match self
                    .client
                    .get_as::<$ty>(record_type.clone(), key)
                    .expand_sub_resources(true)
                    .send()
                    .await
                {
                    Ok(record) => Ok(Some(Fetched::$variant(record))),
                    Err(e) if e.is_not_found() => Ok(None),
                    Err(e) => Err(e),
                }
            };
        }
        match kind {
            PollKind::Items => fetch!(InventoryItem, Item),
            PollKind::SalesOrders => fetch!(SalesOrder, Sales),
            PollKind::PurchaseOrders => fetch!(PurchaseOrder, Purchase),
            PollKind::ReturnAuthorisations => fetch!(ReturnAuthorization, Return),
        }
    }

    /// Converts a record, first learning the SKUs of the items its lines name.
    pub(super) async fn convert(
        &self,
        record_type: &RecordType,
        record: Fetched,
        skus: &mut SkuIndex,
    ) -> Result<Result<Event, ConversionError>, netsuite_client::Error> {
        // An order's lines name items: their SKUs are learnt before it converts.
        macro_rules! order {
            ($record:expr, $convert:path) => {{
                let items = convert::line_items(
                    $record
                        .item
                        .iter()
                        .flat_map(|s| &s.items)
                        .map(|l| l.item.as_ref()),
                );
                self.learn_skus(&items, skus).await?;
                $convert(&$record, skus)
            }};
        }
        Ok(match record {
            Fetched::Item(r) => convert::item_event(record_type.as_str(), &r),
            Fetched::Sales(r) => order!(r, convert::sales_order_event),
            Fetched::Purchase(r) => order!(r, convert::purchase_order_event),
            Fetched::Return(r) => order!(r, convert::return_authorization_event),
        })
    }

    /// Looks up the SKUs of items not yet in the index, in one query.
    async fn learn_skus(
        &self,
        items: &[NetSuiteId],
        skus: &mut SkuIndex,
    ) -> Result<(), netsuite_client::Error> {
        let unknown: Vec<i64> = items
            .iter()
            .filter(|i| !skus.contains(i))
            .filter_map(|i| i.as_str().parse().ok())
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let query =
            Query::new("SELECT id, itemid FROM item WHERE id IN ? ORDER BY id").bind(unknown);
        let rows: Vec<ItemSkuRow> = self
            .client
            .suiteql(query, StreamOptions::default())
            .try_collect()
            .await?;
        for row in rows {
            skus.insert(NetSuiteId::new(row.id.to_string()), row.itemid.into());
        }
        Ok(())
    }
}
