//! SKU → Clarus product id, looked up by `code` and cached.
//!
//! Goods outs and receipts name products by id while the core names them by SKU. A product id
//! never changes for a code, so found ids are kept for the life of the process; a SKU not found
//! is not cached (its product may be created a moment later by the item-master flow).

use std::collections::HashMap;
use std::sync::Mutex;

use clarus_client::{ClarusClient, ClarusId};
use sync_core::Sku;

/// A cache of product ids by SKU.
#[derive(Debug, Default)]
pub(crate) struct ProductCache {
    ids: Mutex<HashMap<Sku, ClarusId>>,
}

impl ProductCache {
    fn cached(&self, sku: &Sku) -> Option<ClarusId> {
        self.ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(sku)
            .copied()
    }

    /// Remembers a product id.
    pub fn remember(&self, sku: &Sku, id: ClarusId) {
        self.ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(sku.clone(), id);
    }

    /// The product with code `sku`: from the cache, else looked up (exact code match; the
    /// filter may match more on some servers).
    pub async fn resolve(
        &self,
        client: &ClarusClient,
        sku: &Sku,
    ) -> Result<Option<ClarusId>, clarus_client::Error> {
        if let Some(id) = self.cached(sku) {
            return Ok(Some(id));
        }
        let found = client
            .find_products_by_code(sku.as_str())
            .await?
            .into_iter()
            .find(|p| p.code.as_deref() == Some(sku.as_str()))
            .map(|p| p.id);
        if let Some(id) = found {
            self.remember(sku, id);
        }
        Ok(found)
    }
}
