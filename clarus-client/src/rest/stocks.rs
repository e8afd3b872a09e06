//! Stock actions: hold, release, negative adjustment, move and transfer.

use reqwest::Method;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;

use super::common::{decimal_number, envelope, positive};
use crate::client::{ClarusClient, Record};
use crate::retry::RequestKind;
use crate::{ClarusId, Error};

/// Flat body of `stocks/hold` and `stocks/offhold`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StockHold {
    /// Stock record ids.
    pub ids: Vec<ClarusId>,
    /// Why.
    pub description: String,
    /// Reason code of type `hold` or `release`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code_id: Option<ClarusId>,
}

#[derive(Default, Serialize)]
struct QuantityChange {
    #[serde(with = "decimal_number")]
    quantity: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_location_id: Option<ClarusId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_account_id: Option<ClarusId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason_code_id: Option<ClarusId>,
}

impl ClarusClient {
    /// `POST /stocks/hold` (flat body): held stock cannot be allocated (quarantine).
    pub async fn hold_stocks(&self, request: &StockHold) -> Result<(), Error> {
        self.hold_or_release("/stocks/hold", request).await
    }

    /// `POST /stocks/offhold` (flat body): releases held stock.
    pub async fn release_stocks(&self, request: &StockHold) -> Result<(), Error> {
        self.hold_or_release("/stocks/offhold", request).await
    }

    async fn hold_or_release(&self, path: &str, request: &StockHold) -> Result<(), Error> {
        if request.ids.is_empty() {
            return Err(Error::InvalidRequest("no stock ids given".into()));
        }
        let body = json!({
            "ids": request.ids,
            "description": request.description,
        });
        let mut body = body;
        if let Some(reason) = request.reason_code_id {
            body["reason_code_id"] = json!(reason);
        }
        // Holding held stock (or releasing released stock) changes nothing: safe to repeat.
        self.rest_as(RequestKind::Idempotent, Method::POST, path, &[], Some(body))
            .await
            .map(|_| ())
    }

    /// `POST /stocks/{id}/negative_adjustment`: removes `quantity` (> 0, at most what is
    /// available).
    ///
    /// Returns the record Clarus sends back, or `None` when it answers 204 with no body.
    pub async fn negative_adjustment(
        &self,
        stock_id: ClarusId,
        quantity: Decimal,
        reason_code_id: Option<ClarusId>,
    ) -> Result<Option<Record>, Error> {
        let change = QuantityChange {
            quantity,
            reason_code_id,
            ..QuantityChange::default()
        };
        self.quantity_action(stock_id, "negative_adjustment", change)
            .await
    }

    /// `POST /stocks/{id}/move`: moves `quantity` to another location in the same warehouse.
    ///
    /// Returns the record Clarus sends back, or `None` when it answers 204 with no body.
    pub async fn move_stock(
        &self,
        stock_id: ClarusId,
        quantity: Decimal,
        to_location_id: ClarusId,
        reason_code_id: Option<ClarusId>,
    ) -> Result<Option<Record>, Error> {
        let change = QuantityChange {
            quantity,
            to_location_id: Some(to_location_id),
            reason_code_id,
            ..QuantityChange::default()
        };
        self.quantity_action(stock_id, "move", change).await
    }

    /// `POST /stocks/{id}/transfer`: gives `quantity` to another account (owner).
    ///
    /// Returns the record Clarus sends back, or `None` when it answers 204 with no body.
    pub async fn transfer_stock(
        &self,
        stock_id: ClarusId,
        quantity: Decimal,
        to_account_id: ClarusId,
        reason_code_id: Option<ClarusId>,
    ) -> Result<Option<Record>, Error> {
        let change = QuantityChange {
            quantity,
            to_account_id: Some(to_account_id),
            reason_code_id,
            ..QuantityChange::default()
        };
        self.quantity_action(stock_id, "transfer", change).await
    }

    /// `POST /stocks/{id}/{action}` with the quantity change in the envelope, once the
    /// quantity is known to be positive.
    async fn quantity_action(
        &self,
        stock_id: ClarusId,
        action: &str,
        change: QuantityChange,
    ) -> Result<Option<Record>, Error> {
        positive(change.quantity, "quantity")?;
        self.rest_optional_record(
            Method::POST,
            &format!("/stocks/{stock_id}/{action}"),
            Some(envelope("stocks", &change, None)),
        )
        .await
    }
}
