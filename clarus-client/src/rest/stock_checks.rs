//! Stock checks (cycle counts): create, record an attempt, complete, resolve.

use jiff::Timestamp;
use jiff::civil::Date;
use reqwest::Method;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::common::decimal_number;
use crate::client::{ClarusClient, Record, decode};
use crate::{ClarusId, Error};

/// One counted group in a stock check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StockCheckAttempt {
    /// The product counted.
    pub product_id: ClarusId,
    /// The physical count.
    #[serde(with = "decimal_number")]
    pub physical_count: Decimal,
    /// Batch, when tracked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// Sell-by date, when tracked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sell_by_date: Option<Date>,
    /// Best-before date, when tracked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_before_date: Option<Date>,
}

/// Result of completing a stock check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StockCheckOutcome {
    /// Counts matched.
    Passed,
    /// Counts differed; resolve the records.
    Failed,
    /// Any other status word.
    #[serde(untagged)]
    Other(String),
}

impl ClarusClient {
    /// `POST /stock_checks`. If a check is already pending for the location Clarus returns
    /// that one, so this create is safe to repeat.
    pub async fn create_stock_check(
        &self,
        location_id: ClarusId,
        expected_completion_date: Timestamp,
    ) -> Result<Record, Error> {
        let attributes = json!({
            "location_id": location_id,
            "expected_completion_date": expected_completion_date,
        });
        self.create_resource("stock_checks", &attributes, None)
            .await
    }

    /// `POST /stock_checks/{id}/record_attempt` (at most two attempts per group). The schema's
    /// envelope for this call has `attributes` and no `type`.
    ///
    /// Returns the record Clarus sends back, or `None` when it answers 204 with no body.
    pub async fn record_stock_check_attempt(
        &self,
        stock_check_id: ClarusId,
        attempt: &StockCheckAttempt,
    ) -> Result<Option<Record>, Error> {
        let body = json!({ "data": { "attributes": attempt } });
        self.rest_optional_record(
            Method::POST,
            &format!("/stock_checks/{stock_check_id}/record_attempt"),
            Some(body),
        )
        .await
    }

    /// `POST /stock_checks/{id}/complete` → passed or failed.
    pub async fn complete_stock_check(
        &self,
        stock_check_id: ClarusId,
    ) -> Result<StockCheckOutcome, Error> {
        #[derive(Deserialize)]
        struct Completed {
            status: StockCheckOutcome,
        }
        let response = self
            .rest(
                Method::POST,
                &format!("/stock_checks/{stock_check_id}/complete"),
                &[],
                None,
            )
            .await?;
        decode::<Completed>(&response.body).map(|c| c.status)
    }

    /// `POST /stock_checks/resolve` (flat body) with a reason code of type `stock_check`.
    pub async fn resolve_stock_check_records(
        &self,
        stock_check_record_ids: &[ClarusId],
        reason_code_id: ClarusId,
    ) -> Result<(), Error> {
        if stock_check_record_ids.is_empty() {
            return Err(Error::InvalidRequest(
                "no stock check record ids given".into(),
            ));
        }
        let body = json!({
            "stock_check_record_ids": stock_check_record_ids,
            "reason_code_id": reason_code_id,
        });
        self.rest_unit(Method::POST, "/stock_checks/resolve", Some(body))
            .await
    }
}
