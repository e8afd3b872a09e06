//! Look-ups by `reference` and `external_system_reference1`, so a caller can check whether a
//! create went through before trying it again.

use futures_util::TryStreamExt;

use super::filter::Filter;
use super::nodes::{GoodsInReceiptNode, GoodsOutNode, ProductNode, ShipmentNode};
use super::paging::{ListQuery, Node};
use crate::{ClarusClient, Error};

const LOOKUP_PAGE_SIZE: u32 = 50;

impl ClarusClient {
    async fn lookup<N: Node>(&self, filter: Filter) -> Result<Vec<N>, Error> {
        self.list_all::<N>(ListQuery::new(filter, LOOKUP_PAGE_SIZE))
            .try_collect()
            .await
    }

    /// Goods outs whose `reference` equals `reference`.
    pub async fn find_goods_outs_by_reference(
        &self,
        reference: &str,
    ) -> Result<Vec<GoodsOutNode>, Error> {
        self.lookup(Filter::new().eq("reference", reference)).await
    }

    /// Goods outs whose `external_system_reference1` equals `value`.
    pub async fn find_goods_outs_by_external_reference(
        &self,
        value: &str,
    ) -> Result<Vec<GoodsOutNode>, Error> {
        self.lookup(Filter::new().eq("external_system_reference1", value))
            .await
    }

    /// Goods-in receipts whose `reference` equals `reference`.
    pub async fn find_goods_in_receipts_by_reference(
        &self,
        reference: &str,
    ) -> Result<Vec<GoodsInReceiptNode>, Error> {
        self.lookup(Filter::new().eq("reference", reference)).await
    }

    /// Goods-in receipts whose `external_system_reference1` equals `value`.
    pub async fn find_goods_in_receipts_by_external_reference(
        &self,
        value: &str,
    ) -> Result<Vec<GoodsInReceiptNode>, Error> {
        self.lookup(Filter::new().eq("external_system_reference1", value))
            .await
    }

    /// Shipments whose `reference` equals `reference`.
    pub async fn find_shipments_by_reference(
        &self,
        reference: &str,
    ) -> Result<Vec<ShipmentNode>, Error> {
        self.lookup(Filter::new().eq("reference", reference)).await
    }

    /// Products whose `code` (SKU) equals `code`.
    pub async fn find_products_by_code(&self, code: &str) -> Result<Vec<ProductNode>, Error> {
        self.lookup(Filter::new().eq("code", code)).await
    }

    /// Products whose unit `barcode` equals `barcode`.
    pub async fn find_products_by_barcode(&self, barcode: &str) -> Result<Vec<ProductNode>, Error> {
        self.lookup(Filter::new().eq("barcode", barcode)).await
    }

    /// Products whose `external_system_reference1` equals `value`.
    pub async fn find_products_by_external_reference(
        &self,
        value: &str,
    ) -> Result<Vec<ProductNode>, Error> {
        self.lookup(Filter::new().eq("external_system_reference1", value))
            .await
    }
}
