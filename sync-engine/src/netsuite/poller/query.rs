//! The SuiteQL query of a pass and its keyset paging on `(lastmodifieddate, id)`, in the
//! account's time zone.

use jiff::Timestamp;
use netsuite_client::suiteql::{Query, lenient};
use serde::Deserialize;

use super::{NetSuitePoller, PollError, PollKind};

/// A row of the query: a record changed at or after the start of the pass.
#[derive(Deserialize)]
pub(super) struct ChangedRow {
    #[serde(deserialize_with = "lenient::i64")]
    pub(super) id: i64,
    #[serde(default)]
    pub(super) status: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(super) islotitem: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub(super) isserialitem: Option<bool>,
    pub(super) modified: String,
}

impl NetSuitePoller {
    pub(super) fn to_account_time(&self, at: Timestamp) -> jiff::civil::DateTime {
        at.to_zoned_datetime(self.config.time_zone.clone())
            .datetime()
    }

    pub(super) fn parse_account_time(&self, text: &str) -> Option<Timestamp> {
        let civil: jiff::civil::DateTime =
            jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S", text.trim())
                .ok()?
                .to_datetime()
                .ok()?;
        civil
            .to_zoned_datetime(self.config.time_zone.clone())
            .ok()
            .map(|z| z.timestamp())
    }

    /// The query of a pass: records changed at or after `since`, oldest first.
    /// The query of one page: rows of `kind` modified at or after `since`, in
    /// `(lastmodifieddate, id)` order, after the row `after` when a page was read before (its
    /// modification time in the account's time zone and its id).
    fn query(
        &self,
        kind: PollKind,
        since: Option<Timestamp>,
        after: Option<(jiff::civil::DateTime, i64)>,
    ) -> Query {
        let modified = "TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified";
        let (text, typed) = match kind.transaction_type() {
            None => (
                format!(
                    "SELECT id, islotitem, isserialitem, {modified} FROM item WHERE itemtype = 'InvtPart'"
                ),
                None,
            ),
            Some(t) => (
                format!("SELECT id, status, {modified} FROM transaction WHERE type = ?"),
                Some(t),
            ),
        };
        let mut text = text;
        // After a page, the next starts at the last row read: its time bounds the query as the
        // watermark does, and the rows of that same second come after its id.
        let from = match after {
            Some((at, _)) => Some(at),
            None => since.map(|since| self.to_account_time(since)),
        };
        if from.is_some() {
            text.push_str(" AND lastmodifieddate >= ?");
        }
        if after.is_some() {
            text.push_str(" AND (lastmodifieddate > ? OR id > ?)");
        }
        text.push_str(" ORDER BY lastmodifieddate, id");
        let mut query = Query::new(text);
        if let Some(t) = typed {
            query = query.bind(t);
        }
        if let Some(from) = from {
            query = query.bind(from);
        }
        if let Some((at, id)) = after {
            query = query.bind(at).bind(id);
        }
        query
    }

    /// Reads every row of `kind` changed since `since`, a page at a time, each page starting
    /// after the last row read (keyset paging on `(lastmodifieddate, id)`).
    ///
    /// Each SuiteQL page is a fresh query. Paging by offset, a record modified while the pages
    /// are read moves to the end of the result and every row behind it moves up a place, so the
    /// row at the next page's boundary would never be read; and once the watermark has passed
    /// its time, no later poll would read it either. Starting each page after the last row read
    /// reads a moved record again at its new place and skips none.
    pub(super) async fn read_changed(
        &self,
        kind: PollKind,
        since: Option<Timestamp>,
    ) -> Result<Vec<ChangedRow>, PollError> {
        let limit = self.config.page_size.clamp(1, 1000);
        let netsuite = |source| PollError::NetSuite { kind, source };
        let mut rows: Vec<ChangedRow> = Vec::new();
        let mut after = None;
        loop {
            let text = self.query(kind, since, after).build().map_err(netsuite)?;
            let (page, has_more) = self
                .client
                .suiteql_page::<ChangedRow>(&text, limit, 0)
                .await
                .map_err(netsuite)?;
            let Some(last) = page.last() else {
                break;
            };
            let at = self
                .parse_account_time(&last.modified)
                .map(|t| self.to_account_time(t))
                .ok_or_else(|| PollError::BadRow {
                    kind,
                    message: format!(
                        "record {} has an unreadable modification time {:?}",
                        last.id, last.modified
                    ),
                })?;
            let next = Some((at, last.id));
            let done = !has_more || page.len() < limit as usize || next == after;
            after = next;
            rows.extend(page);
            if done {
                break;
            }
        }
        Ok(rows)
    }
}
