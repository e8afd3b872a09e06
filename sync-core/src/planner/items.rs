//! Item master: NetSuite items become Clarus products; Clarus products are checked against them;
//! orders held for an item are released when it appears.

use super::{Context, orders};
use crate::action::{Action, ProductSpec};
use crate::document::DocumentRef;
use crate::event::{Revision, SourceId};
use crate::exception::ExceptionKind;
use crate::item::{ClarusProduct, Item};
use crate::key::KeyBuilder;
use crate::state::{KnownItem, StateChange, StateView};

/// A NetSuite item was created or changed.
pub(super) fn plan_item<V: StateView>(cx: &mut Context<'_, V>, source: &SourceId, item: &Item) {
    let known = cx.view.item_by_id(&item.netsuite_id);
    if known.is_some_and(|k| source.revision < k.revision) {
        // An older version than the one recorded: it must not undo the newer one.
        return;
    }
    // NetSuite times have whole seconds: a version saved in the same second as the one known,
    // with other content, is the newer one.
    if known.is_none_or(|k| {
        source.revision > k.revision || (source.revision == k.revision && k.item != *item)
    }) {
        cx.change(StateChange::ItemKnown(KnownItem {
            item: item.clone(),
            revision: source.revision,
        }));
    }
    let document = DocumentRef::Item {
        id: item.netsuite_id.clone(),
    };
    let product = cx.view.product(&item.sku);
    let spec = ProductSpec {
        item: item.netsuite_id.clone(),
        product: product.map(|p| p.id),
        sku: item.sku.clone(),
        barcode: item.barcode.clone(),
        description: item.description.clone(),
        tracking: item.tracking,
        inactive: item.inactive,
    };
    match (known, product) {
        (None, None) => {
            let key = KeyBuilder::new("NS-ITEM")
                .text(item.netsuite_id.as_str())
                .finish();
            cx.act(key, document, Action::CreateProduct(spec));
        }
        (known, _) if known.is_none_or(|k| k.item != *item) => {
            let key = KeyBuilder::new("NS-ITEM")
                .text(item.netsuite_id.as_str())
                .text(&revision_text(source.revision))
                .finish();
            cx.act(key, document, Action::UpdateProduct(spec));
        }
        _ => {}
    }
    for order in cx.view.orders_held_for(&item.sku) {
        if let Some(state) = cx.view.order(&order) {
            orders::evaluate(cx, &state.order, Some(state), Some(&item.sku));
        }
    }
}

/// A Clarus product was read: check that it agrees with the NetSuite item.
pub(super) fn plan_product<V: StateView>(cx: &mut Context<'_, V>, product: &ClarusProduct) {
    if cx.view.product(&product.sku) != Some(product) {
        cx.change(StateChange::ProductKnown(product.clone()));
    }
    // The item the product is linked to, else the item with the same SKU.
    let linked = product
        .netsuite_id
        .as_ref()
        .and_then(|id| cx.view.item_by_id(id));
    let Some(known) = linked.or_else(|| cx.view.item(&product.sku)) else {
        return;
    };
    let item = &known.item;
    let document = DocumentRef::Item {
        id: item.netsuite_id.clone(),
    };
    let linked_elsewhere = product
        .netsuite_id
        .as_ref()
        .is_some_and(|id| *id != item.netsuite_id);
    if item.sku != product.sku || linked_elsewhere {
        cx.raise(
            ExceptionKind::SkuMismatch,
            &document,
            &[],
            format!(
                "NetSuite item {} has SKU {}, but Clarus product {} (linked to item {}) has code {}",
                item.netsuite_id,
                item.sku,
                product.id,
                product
                    .netsuite_id
                    .as_ref()
                    .map_or("none", |id| id.as_str()),
                product.sku
            ),
        );
    } else {
        cx.resolve(
            ExceptionKind::SkuMismatch,
            &document,
            &[],
            "SKUs agree again",
        );
    }
    match (&item.barcode, &product.barcode) {
        (Some(ns), Some(clarus)) if ns != clarus => cx.raise(
            ExceptionKind::BarcodeMismatch,
            &document,
            &[],
            format!(
                "item {} has barcode {ns} in NetSuite but {clarus} in Clarus product {}",
                item.sku, product.id
            ),
        ),
        _ => cx.resolve(
            ExceptionKind::BarcodeMismatch,
            &document,
            &[],
            "barcodes agree again",
        ),
    }
}

/// A revision as key text: `S<n>` or `T<nanoseconds since the epoch>`.
pub(super) fn revision_text(revision: Revision) -> String {
    match revision {
        Revision::Sequence(n) => format!("S{n}"),
        Revision::ModifiedAt(t) => format!("T{}", t.as_nanosecond()),
    }
}
