//! The REST operations: products, goods-in receipts, goods outs, pick processing, shipments,
//! stock holds and adjustments, stock checks and automations.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{address, attributes, data, ids, path_id, validated};
use crate::clarus::Shared;
use crate::clarus::state::{ClarusError, GoodsOutStatus, StockStatus};
use crate::governance::lock_unpoisoned as lock;
use crate::json::{decimal_from_json, id_from_json};

// ------------------------------------------------------------------ products

pub(super) async fn create_product(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Response, ClarusError> {
    let body = validated(&shared, "createProduct", &body)?;
    let mut state = lock(&shared.state);
    let id = state.create_product(attributes(&body))?;
    Ok(data("products", state.product_json(id)))
}

pub(super) async fn update_product(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ClarusError> {
    let id = path_id(&id)?;
    let body = validated(&shared, "updateProduct", &body)?;
    let mut state = lock(&shared.state);
    state.update_product(id, attributes(&body))?;
    Ok(data("products", state.product_json(id)))
}

pub(super) async fn delete_product(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ClarusError> {
    lock(&shared.state).delete_product(path_id(&id)?)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ------------------------------------------------------------------ goods in

pub(super) async fn create_goods_in(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Response, ClarusError> {
    let body = validated(&shared, "createGoodsInReceipt", &body)?;
    let mut state = lock(&shared.state);
    let (id, events) = state.create_goods_in(attributes(&body), address(&body))?;
    shared.fire(&state, events);
    Ok(data("goods_in_receipts", state.goods_in_json(id)))
}

pub(super) async fn update_goods_in(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ClarusError> {
    let id = path_id(&id)?;
    let body = validated(&shared, "updateGoodsInReceipt", &body)?;
    let mut state = lock(&shared.state);
    state.update_goods_in(id, attributes(&body), address(&body))?;
    Ok(data("goods_in_receipts", state.goods_in_json(id)))
}

pub(super) async fn delete_goods_in(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ClarusError> {
    let mut state = lock(&shared.state);
    let events = state.delete_goods_in(path_id(&id)?)?;
    shared.fire(&state, events);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn receive_goods_in(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ClarusError> {
    let id = path_id(&id)?;
    let mut state = lock(&shared.state);
    state.start_receiving(id)?;
    Ok(data("goods_in_receipts", state.goods_in_json(id)))
}

pub(super) async fn revert_goods_in(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ClarusError> {
    let id = path_id(&id)?;
    let mut state = lock(&shared.state);
    state.revert_receiving(id)?;
    Ok(data("goods_in_receipts", state.goods_in_json(id)))
}

// ------------------------------------------------------------------ goods out

pub(super) async fn create_goods_out(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Response, ClarusError> {
    let body = validated(&shared, "createGoodsOut", &body)?;
    let mut state = lock(&shared.state);
    let (id, events) = state.create_goods_out(attributes(&body), address(&body))?;
    shared.fire(&state, events);
    Ok(data("goods_outs", state.goods_out_json(id)))
}

pub(super) async fn update_goods_out(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ClarusError> {
    let id = path_id(&id)?;
    let body = validated(&shared, "updateGoodsOut", &body)?;
    let mut state = lock(&shared.state);
    let events = state.update_goods_out(id, attributes(&body), address(&body))?;
    shared.fire(&state, events);
    Ok(data("goods_outs", state.goods_out_json(id)))
}

pub(super) async fn delete_goods_out(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ClarusError> {
    lock(&shared.state).delete_goods_out(path_id(&id)?)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn cancel_goods_out(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ClarusError> {
    let id = path_id(&id)?;
    let mut state = lock(&shared.state);
    let (record, events) = state.cancel_goods_out(id)?;
    shared.fire(&state, events);
    Ok(data("goods_outs", record))
}

pub(super) async fn process_picks(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Response, ClarusError> {
    let body = validated(&shared, "processPicksAsync", &body)?;
    let ids = ids(&body);
    let mut state = lock(&shared.state);
    for id in &ids {
        if !state.goods_outs.contains_key(id) {
            return Err(ClarusError::unprocessable(
                37,
                "invalid_ids_provided",
                format!("Goods out {id} does not exist"),
            ));
        }
    }
    let mut references = Vec::new();
    for id in ids {
        let reference = format!("PPR-{}", state.allocate_id());
        // Processing is immediate in the simulator; the request is already final when polled.
        let (status, message) = match state.allocate(id) {
            Ok((GoodsOutStatus::Pending, _)) => (
                "failed",
                "not_enough_stocks_for_picking: no stock could be allocated".to_string(),
            ),
            Ok((status, events)) => {
                shared.fire(&state, events);
                (
                    "completed",
                    format!("Pick processing completed: {}", status.code()),
                )
            }
            Err(e) => ("failed", format!("{}: {}", e.symbol, e.details)),
        };
        let goods_out = state
            .goods_outs
            .get(&id)
            .and_then(|o| o.attrs.get("reference").cloned())
            .unwrap_or(Value::Null);
        let now = jiff::Timestamp::now().to_string();
        state.pick_requests.push(json!({
            "process_reference": reference,
            "status": status,
            "message": message,
            "goods_out": {"id": id.to_string(), "reference": goods_out},
            "created_at": now,
            "updated_at": now,
        }));
        references.push(reference);
    }
    Ok(axum::Json(json!({"process_references": references})).into_response())
}

pub(super) async fn short_order_lines(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Response, ClarusError> {
    let body = validated(&shared, "shortOrderLines", &body)?;
    let mut state = lock(&shared.state);
    let events = state.short_order_lines(&ids(&body))?;
    shared.fire(&state, events);
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ------------------------------------------------------------------ shipments

pub(super) async fn create_shipment(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Response, ClarusError> {
    let body = validated(&shared, "createShipment", &body)?;
    let mut state = lock(&shared.state);
    let id = state.create_shipment(attributes(&body), address(&body))?;
    Ok(data("shipments", state.shipment_json(id)))
}

pub(super) async fn submit_shipment(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ClarusError> {
    let id = path_id(&id)?;
    let seed = shared.next_tracking();
    let mut state = lock(&shared.state);
    state.submit_shipment(id, seed)?;
    Ok(data("shipments", state.shipment_json(id)))
}

// ------------------------------------------------------------------ stock

async fn change_hold(
    shared: Arc<Shared>,
    operation: &str,
    body: Bytes,
    status: StockStatus,
) -> Result<Response, ClarusError> {
    let body = validated(&shared, operation, &body)?;
    let ids = ids(&body);
    if ids.is_empty() {
        return Err(ClarusError::unprocessable(
            36,
            "empty_ids_provided",
            "ids is empty",
        ));
    }
    let mut state = lock(&shared.state);
    for id in &ids {
        let stock = state.stocks.get(id).ok_or_else(|| {
            ClarusError::unprocessable(
                37,
                "invalid_ids_provided",
                format!("Stock {id} does not exist"),
            )
        })?;
        if stock.status == status {
            return Err(ClarusError::unprocessable(
                910,
                "stock_already_in_status",
                format!("Stock {id} is already {}", status.as_str()),
            ));
        }
        if state.free_quantity(*id) < stock.quantity {
            return Err(ClarusError::unprocessable(
                911,
                "not_enough_free_stock",
                format!("Stock {id} is allocated"),
            ));
        }
    }
    let extra = json!({"description": body.get("description"), "reason_code_id": body.get("reason_code_id")});
    let mut events = Vec::new();
    for id in &ids {
        let quantity = state.stocks[id].quantity;
        events.push(state.set_status(*id, quantity, status, extra.clone())?);
    }
    shared.fire(&state, events);
    Ok(axum::Json(
        json!({"data": {"id": ids[0], "type": "stocks", "attributes": {"ids": ids, "status": status.as_str()}}}),
    )
    .into_response())
}

pub(super) async fn hold(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Response, ClarusError> {
    change_hold(shared, "holdStocks", body, StockStatus::Held).await
}

pub(super) async fn offhold(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Response, ClarusError> {
    change_hold(shared, "offholdStocks", body, StockStatus::Available).await
}

pub(super) async fn negative_adjustment(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ClarusError> {
    let id = path_id(&id)?;
    let body = validated(&shared, "negativeAdjustmentStock", &body)?;
    let attrs = attributes(&body);
    let quantity = attrs
        .get("quantity")
        .and_then(decimal_from_json)
        .unwrap_or_default();
    let mut state = lock(&shared.state);
    let event = state.negative_adjustment(
        id,
        quantity,
        json!({"reason_code_id": attrs.get("reason_code_id"), "reason": "negative_adjustment"}),
    )?;
    shared.fire(&state, vec![event]);
    Ok(data("stocks", state.stock_json(id)))
}

pub(super) async fn create_stock_check(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Response, ClarusError> {
    let body = validated(&shared, "createStockCheck", &body)?;
    let location = attributes(&body)
        .get("location_id")
        .and_then(id_from_json)
        .unwrap_or_default();
    let (check, task) = lock(&shared.state).create_stock_check(location)?;
    Ok(axum::Json(json!({"stock_check_id": check, "task_id": task})).into_response())
}

// ------------------------------------------------------------------ automations

pub(super) async fn create_automation(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Response, ClarusError> {
    let body = validated(&shared, "createAutomation", &body)?;
    let mut state = lock(&shared.state);
    let id = state.create_automation(attributes(&body))?;
    Ok(data("automations", state.automation_json(id)))
}

pub(super) async fn update_automation(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ClarusError> {
    let id = path_id(&id)?;
    let body = validated(&shared, "updateAutomation", &body)?;
    let mut state = lock(&shared.state);
    state.update_automation(id, attributes(&body))?;
    Ok(data("automations", state.automation_json(id)))
}

pub(super) async fn delete_automation(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, ClarusError> {
    let id = path_id(&id)?;
    let mut state = lock(&shared.state);
    state
        .automations
        .remove(&id)
        .ok_or_else(|| ClarusError::not_found("Automation", id))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
