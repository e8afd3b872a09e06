//! Adoption during the go-live window: a goods out or goods-in receipt Clarus already has (by
//! `reference`, not cancelled) is taken over instead of creating a second one, its lines matched
//! one to one to the order's, and counted.

use super::*;

/// The store entry of the go-live record the NetSuite poller writes on a store's first poll
/// (`sync-engine/src/netsuite/poller/go_live.rs`); the executor reads only the adoption
/// window's end.
const GO_LIVE_RECORD: &str = "go_live";

/// The go-live record as the executor reads it.
#[derive(Deserialize)]
struct GoLiveWindow {
    #[serde(default)]
    adopt_until: Option<Timestamp>,
}

/// The store entry counting the Clarus records adopted instead of created.
const ADOPTED_RECORD: &str = "clarus.adopted";

/// How many goods outs and goods-in receipts were adopted (store entry `clarus.adopted`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct AdoptedCounts {
    #[serde(default)]
    goods_outs: u64,
    #[serde(default)]
    goods_ins: u64,
}

impl ClarusExecutor {
    /// Whether the go-live window is open: the go-live record's `adopt_until` is in the future.
    /// No record (no store, no poller, or a store that polled before go-live records were kept):
    /// closed. Once seen closed, the record is not read again by this executor.
    pub(super) async fn adopting(&self) -> Result<bool, ExecutionError> {
        if self.window_closed.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let Some(store) = &self.store else {
            return Ok(false);
        };
        let until = store
            .watermark(GO_LIVE_RECORD)
            .await
            .map_err(|e| {
                ExecutionError::Retryable(format!("reading the go-live record: {e}").into())
            })?
            .and_then(|text| serde_json::from_str::<GoLiveWindow>(&text).ok())
            .and_then(|w| w.adopt_until);
        match until {
            Some(until) if self.clock.now() < until => Ok(true),
            Some(_) => {
                self.window_closed.store(true, Ordering::Relaxed);
                Ok(false)
            }
            None => Ok(false),
        }
    }

    /// Adopts goods out `goods_out`, found by the order's reference, instead of creating one:
    /// reads its lines (`goods_out_lines` by `goods_out_id`), matches them to the order's lines
    /// by SKU in order, and writes the engine's record of it as for a goods out it created. Lines
    /// that cannot be matched one to one are not guessed: the record keeps the order and
    /// reference without lines, and an `adopted-lines-unmatched` exception goes to integration.
    pub(super) async fn adopt_goods_out(
        &self,
        document: &DocumentRef,
        goods_out: ClarusId,
        order: &WarehouseOrder,
    ) -> Result<Option<String>, ExecutionError> {
        let lines: Vec<GoodsOutLineRead> =
            list(&self.client, Filter::new().eq("goods_out_id", goods_out))
                .await
                .map_err(|e| classify(e, Sent::Repeatable))?;
        let matched = match_lines(&lines, order);
        let record = LineOrder {
            lines: matched.clone().unwrap_or_default(),
            order: Some(order.order.id.as_str().to_owned()),
            reference: Some(order.reference.clone()),
        };
        let store = self.store.as_ref().ok_or_else(|| {
            ExecutionError::Retryable("adopting a goods out needs the store".into())
        })?;
        // Without the record an adopted goods out's despatch cannot be tied to its order: the
        // attempt fails and the next one adopts again.
        record
            .save(store.as_ref(), goods_out, self.clock.now())
            .await
            .map_err(|e| {
                ExecutionError::Retryable(
                    format!("recording adopted goods out {goods_out}: {e}").into(),
                )
            })?;
        if matched.is_none() {
            let found: Vec<String> = sorted_lines(&lines)
                .iter()
                .map(|l| {
                    format!(
                        "{} × {}",
                        l.order_quantity.unwrap_or_default(),
                        l.product
                            .as_ref()
                            .and_then(|p| p.code.as_deref())
                            .unwrap_or("no product")
                    )
                })
                .collect();
            let wanted: Vec<String> = order
                .lines
                .iter()
                .map(|l| format!("line {} {} × {}", l.order_line, l.quantity, l.sku))
                .collect();
            let exception = NewException::of(
                ExceptionKind::AdoptedLinesUnmatched,
                format!("EX-CLARUS-ADOPTED-LINES-{goods_out}"),
                document.to_string(),
                format!(
                    "{document} {}: goods out {goods_out} was already in Clarus and was adopted \
                     instead of creating a second one, but its lines ({}) cannot be matched one \
                     to one by SKU to the order's open lines ({}). Its despatch cannot be tied \
                     to order lines unless the webhook names them: compare the goods out in \
                     Clarus with the order in NetSuite.",
                    order.reference,
                    if found.is_empty() {
                        "none".to_owned()
                    } else {
                        found.join(", ")
                    },
                    wanted.join(", ")
                ),
                serde_json::json!({
                    "goods_out": goods_out.to_string(),
                    "order": order.order.id.as_str(),
                    "reference": order.reference,
                    "clarus_lines": found,
                    "order_lines": wanted,
                }),
            );
            store
                .refresh_exception(exception, self.clock.now())
                .await
                .map_err(|e| {
                    ExecutionError::Retryable(
                        format!("raising the exception of adopted goods out {goods_out}: {e}")
                            .into(),
                    )
                })?;
        }
        let total = self.count_adoption(store.as_ref(), true).await;
        tracing::info!(
            %goods_out,
            reference = %order.reference,
            order = %order.order.id,
            lines_matched = matched.is_some(),
            adopted_goods_outs = total,
            "adopted a goods out already in Clarus instead of creating one"
        );
        Ok(Some(goods_out.to_string()))
    }

    /// Adopts goods-in receipt `found` (its id), found by the order's reference, instead of
    /// creating one, and writes the engine's record of it as for a receipt it created.
    pub(super) async fn adopt_goods_in(
        &self,
        found: &str,
        order: &WarehouseOrder,
    ) -> Result<Option<String>, ExecutionError> {
        let goods_in = found.parse::<i64>().map(ClarusId::new).map_err(|_| {
            ExecutionError::Rejected(format!("Clarus goods in id {found:?} is not a number").into())
        })?;
        let store = self.store.as_ref().ok_or_else(|| {
            ExecutionError::Retryable("adopting a goods in needs the store".into())
        })?;
        GoodsInOrder::of(order)
            .save(store.as_ref(), goods_in, self.clock.now())
            .await
            .map_err(|e| {
                ExecutionError::Retryable(
                    format!("recording adopted goods in {goods_in}: {e}").into(),
                )
            })?;
        let total = self.count_adoption(store.as_ref(), false).await;
        tracing::info!(
            %goods_in,
            reference = %order.reference,
            order = %order.order.id,
            kind = order.order.kind.code(),
            adopted_goods_ins = total,
            "adopted a goods-in receipt already in Clarus instead of creating one"
        );
        Ok(Some(goods_in.to_string()))
    }

    /// Counts one adoption in the store (`clarus.adopted`); returns the new count of its kind.
    /// A failure is only logged: the record is adopted either way.
    async fn count_adoption(&self, store: &dyn Store, goods_out: bool) -> u64 {
        let _one_at_a_time = self.adoptions.lock().await;
        let mut counts: AdoptedCounts = match store.watermark(ADOPTED_RECORD).await {
            Ok(text) => text
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the adoption counts");
                return 0;
            }
        };
        let total = if goods_out {
            counts.goods_outs += 1;
            counts.goods_outs
        } else {
            counts.goods_ins += 1;
            counts.goods_ins
        };
        let text = serde_json::to_string(&counts).unwrap_or_default();
        if let Err(e) = store.set_watermark(ADOPTED_RECORD, &text).await {
            tracing::warn!(error = %e, "could not count the adoption");
        }
        total
    }
}

/// The lines sorted by id (the order the despatch reader reads them in).
fn sorted_lines(lines: &[GoodsOutLineRead]) -> Vec<&GoodsOutLineRead> {
    let mut sorted: Vec<&GoodsOutLineRead> = lines.iter().collect();
    sorted.sort_by_key(|l| l.id);
    sorted
}

/// `(NetSuite line, SKU)` per goods-out line, lines sorted by id, each matched to the first
/// order line not yet matched with the same SKU; `None` unless every goods-out line finds one
/// and every order line is matched (one to one).
fn match_lines(lines: &[GoodsOutLineRead], order: &WarehouseOrder) -> Option<Vec<(u64, String)>> {
    if lines.len() != order.lines.len() {
        return None;
    }
    let mut used = vec![false; order.lines.len()];
    let mut matched = Vec::with_capacity(lines.len());
    for line in sorted_lines(lines) {
        let sku = line.product.as_ref()?.code.as_deref()?;
        let (index, order_line) = order
            .lines
            .iter()
            .enumerate()
            .find(|(i, l)| !used[*i] && l.sku.as_str() == sku)?;
        used[index] = true;
        matched.push((order_line.order_line.0, sku.to_owned()));
    }
    Some(matched)
}
