//! Item master: NetSuite items become Clarus products; Clarus products are checked against them;
//! orders held for an item are released when it appears.
//!
//! Agreement rules (the Clarus product of an item is the one whose `code` is the item's SKU, or
//! the one linked to the item's internal id when the read carries the link):
//!
//! - on every Clarus product read: a product whose code is the SKU of no NetSuite item raises
//!   `unknown-product` (on the product); otherwise the product's code and barcode are compared
//!   with its item's, raising or resolving `sku-mismatch` and `barcode-mismatch` (on the item,
//!   one per product);
//! - on every NetSuite item change: the product last read for the item is compared the same
//!   way. Agreement resolves what is open (the item was corrected to match Clarus, so the product
//!   will not be read as changed). A disagreement is raised only when the change writes nothing
//!   to Clarus: otherwise the product update it plans carries NetSuite's values, and the next
//!   read of the product settles it. An item renamed in NetSuite whose product still carries the
//!   old SKU raises `sku-mismatch` (the update goes to a product with the new SKU, not to it);
//!   an item whose SKU is a product's code resolves that product's `unknown-product`.

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
    // Whether this change writes the item to Clarus (now, or by an action planned before).
    let writes = match (known, product) {
        (None, None) => {
            let key = KeyBuilder::new("NS-ITEM")
                .text(item.netsuite_id.as_str())
                .finish();
            cx.act(key, document.clone(), Action::CreateProduct(spec));
            true
        }
        (known, _) if known.is_none_or(|k| k.item != *item) => {
            let key = KeyBuilder::new("NS-ITEM")
                .text(item.netsuite_id.as_str())
                .text(&revision_text(source.revision))
                .finish();
            cx.act(key, document.clone(), Action::UpdateProduct(spec));
            true
        }
        _ => false,
    };
    if let Some(product) = product {
        cx.resolve(
            ExceptionKind::UnknownProduct,
            &DocumentRef::Product { id: product.id },
            &[],
            "the product has a NetSuite item now",
        );
        check_agreement(cx, item, product, !writes);
    }
    // Renamed in NetSuite: the product with the old SKU is not the one the update goes to.
    if let Some(old) = known
        .filter(|k| k.item.sku != item.sku)
        .and_then(|k| cx.view.product(&k.item.sku))
        .filter(|old| product.is_none_or(|p| p.id != old.id))
    {
        cx.raise(
            ExceptionKind::SkuMismatch,
            &document,
            &[&old.id.to_string()],
            format!(
                "NetSuite item {} was renamed from SKU {} to {}, but Clarus product {} still has \
                 the old code {}: the integration writes the item to the product with code {} \
                 (creating it if there is none), so stock on product {} is no longer the item's",
                item.netsuite_id, old.sku, item.sku, old.id, old.sku, item.sku, old.id
            ),
        );
    }
    for order in cx.view.orders_held_for(&item.sku) {
        if let Some(state) = cx.view.order(&order) {
            orders::evaluate(cx, &state.order, Some(state), Some(&item.sku));
        }
    }
}

/// A Clarus product was read: check that it agrees with its NetSuite item.
pub(super) fn plan_product<V: StateView>(cx: &mut Context<'_, V>, product: &ClarusProduct) {
    if cx.view.product(&product.sku) != Some(product) {
        cx.change(StateChange::ProductKnown(product.clone()));
    }
    let document = DocumentRef::Product { id: product.id };
    // The item the product is linked to, else the item with the same SKU.
    let linked = product
        .netsuite_id
        .as_ref()
        .and_then(|id| cx.view.item_by_id(id));
    let Some(known) = linked.or_else(|| cx.view.item(&product.sku)) else {
        cx.raise(
            ExceptionKind::UnknownProduct,
            &document,
            &[],
            format!(
                "Clarus product {} has code {}, the SKU of no NetSuite inventory item{}: products \
                 are created from NetSuite items, so it was created by hand in Clarus, or its item \
                 was renamed, deleted or is not an inventory item; its stock movements cannot be \
                 posted",
                product.id,
                product.sku,
                product
                    .netsuite_id
                    .as_ref()
                    .map_or_else(String::new, |id| format!(
                        " (it is linked to item {id}, which is not known either)"
                    )),
            ),
        );
        return;
    };
    cx.resolve(
        ExceptionKind::UnknownProduct,
        &document,
        &[],
        "the product has a NetSuite item now",
    );
    check_agreement(cx, &known.item, product, true);
}

/// Compares `item` with `product`: resolves the mismatches they no longer have, and raises the
/// ones they have when `raise` is set.
fn check_agreement<V: StateView>(
    cx: &mut Context<'_, V>,
    item: &Item,
    product: &ClarusProduct,
    raise: bool,
) {
    let document = DocumentRef::Item {
        id: item.netsuite_id.clone(),
    };
    let detail = product.id.to_string();
    let detail = [detail.as_str()];
    match sku_problem(item, product) {
        Some(message) if raise => {
            cx.raise(ExceptionKind::SkuMismatch, &document, &detail, message);
        }
        Some(_) => {}
        None => cx.resolve(
            ExceptionKind::SkuMismatch,
            &document,
            &detail,
            "SKUs agree again",
        ),
    }
    match barcode_problem(item, product) {
        Some(message) if raise => {
            cx.raise(ExceptionKind::BarcodeMismatch, &document, &detail, message);
        }
        Some(_) => {}
        None => cx.resolve(
            ExceptionKind::BarcodeMismatch,
            &document,
            &detail,
            "barcodes agree again",
        ),
    }
}

/// How `item` and `product` disagree about the SKU: another code, or a link to another item.
fn sku_problem(item: &Item, product: &ClarusProduct) -> Option<String> {
    let linked_elsewhere = product
        .netsuite_id
        .as_ref()
        .is_some_and(|id| *id != item.netsuite_id);
    (item.sku != product.sku || linked_elsewhere).then(|| {
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
        )
    })
}

/// How `item` and `product` disagree about the barcode, when both have one.
fn barcode_problem(item: &Item, product: &ClarusProduct) -> Option<String> {
    match (&item.barcode, &product.barcode) {
        (Some(netsuite), Some(clarus)) if netsuite != clarus => Some(format!(
            "item {} (NetSuite item {}) has barcode {netsuite} (UPC code) in NetSuite but \
             {clarus} in Clarus product {}",
            item.sku, item.netsuite_id, product.id
        )),
        _ => None,
    }
}

/// A revision as key text: `S<n>` or `T<nanoseconds since the epoch>`.
pub(super) fn revision_text(revision: Revision) -> String {
    match revision {
        Revision::Sequence(n) => format!("S{n}"),
        Revision::ModifiedAt(t) => format!("T{}", t.as_nanosecond()),
    }
}
