//! Requests counted by kind, so a test or the demo can tell the requests a posting costs from
//! the polling and reconciliation reads around it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::http::Method;

use crate::governance::lock_unpoisoned as lock;

/// What a request did, as the simulator sees it from its method, path and (for SuiteQL) query.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequestKind {
    /// `POST /record/v1/{type}`: a create (one record or a collection).
    Create(String),
    /// `POST /record/v1/{source}/{id}/!transform/{target}`.
    Transform {
        /// Source record type.
        source: String,
        /// Target record type.
        target: String,
    },
    /// `PATCH`, `PUT` or `DELETE` of a record or a collection.
    Change(String),
    /// `GET /record/v1/{type}/eid:{externalId}`: a look-up by external id.
    LookupByExternalId(String),
    /// `GET /record/v1/{type}/{id}` (or one of its sublists or lines) by internal id.
    Read(String),
    /// `GET /record/v1/{type}`: a record list.
    List(String),
    /// A SuiteQL query, by the first table after `FROM` (lower case).
    SuiteQl(String),
    /// Asynchronous job status and results.
    AsyncJob,
    /// Anything else (governance limits, metadata catalog, unknown paths).
    Other,
}

impl RequestKind {
    /// Classifies a request; `suiteql` is the query text of a SuiteQL request.
    pub(crate) fn classify(method: &Method, path: &str, suiteql: Option<&str>) -> RequestKind {
        if path.ends_with("/query/v1/suiteql") {
            return RequestKind::SuiteQl(suiteql.map(first_table).unwrap_or_default());
        }
        if path.contains("/async/v1/job") {
            return RequestKind::AsyncJob;
        }
        let Some(rest) = path.split("/record/v1/").nth(1) else {
            return RequestKind::Other;
        };
        let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let Some(record) = parts.first().map(|r| (*r).to_owned()) else {
            return RequestKind::Other;
        };
        if record == "metadata-catalog" {
            return RequestKind::Other;
        }
        match (method, parts.as_slice()) {
            (&Method::POST, [_, _, action, target]) if *action == "!transform" => {
                RequestKind::Transform {
                    source: record,
                    target: (*target).to_owned(),
                }
            }
            (&Method::POST, [_]) => RequestKind::Create(record),
            (&Method::GET, [_]) => RequestKind::List(record),
            (&Method::GET, [_, id, ..]) if id.starts_with("eid:") => {
                RequestKind::LookupByExternalId(record)
            }
            (&Method::GET, _) => RequestKind::Read(record),
            (m, _) if m == Method::PATCH || m == Method::PUT || m == Method::DELETE => {
                RequestKind::Change(record)
            }
            _ => RequestKind::Other,
        }
    }

    /// A short label, e.g. `transform salesOrder>itemFulfillment`, `suiteql transaction`.
    pub fn label(&self) -> String {
        match self {
            RequestKind::Create(r) => format!("create {r}"),
            RequestKind::Transform { source, target } => format!("transform {source}>{target}"),
            RequestKind::Change(r) => format!("change {r}"),
            RequestKind::LookupByExternalId(r) => format!("lookup {r}"),
            RequestKind::Read(r) => format!("read {r}"),
            RequestKind::List(r) => format!("list {r}"),
            RequestKind::SuiteQl(t) => format!("suiteql {t}"),
            RequestKind::AsyncJob => "async job".to_owned(),
            RequestKind::Other => "other".to_owned(),
        }
    }

    /// Whether the request writes (creates, transforms, changes or deletes a record).
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            RequestKind::Create(_) | RequestKind::Transform { .. } | RequestKind::Change(_)
        )
    }
}

/// The first table named after `FROM` in a SuiteQL query, in lower case.
fn first_table(q: &str) -> String {
    let lower = q.to_ascii_lowercase();
    let mut words = lower.split_whitespace();
    while let Some(word) = words.next() {
        if word == "from" {
            return words
                .next()
                .unwrap_or_default()
                .trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .to_owned();
        }
    }
    String::new()
}

/// Requests the simulator received, by kind (every governed request, throttled ones included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// Requests per kind.
    pub by_kind: BTreeMap<RequestKind, u64>,
}

impl RequestCounts {
    /// Every request counted.
    pub fn total(&self) -> u64 {
        self.by_kind.values().sum()
    }

    /// Requests of the kinds `pick` selects.
    pub fn count(&self, pick: impl Fn(&RequestKind) -> bool) -> u64 {
        self.by_kind
            .iter()
            .filter(|(kind, _)| pick(kind))
            .map(|(_, n)| *n)
            .sum()
    }

    /// The counts by [`RequestKind::label`].
    pub fn by_label(&self) -> BTreeMap<String, u64> {
        self.by_kind
            .iter()
            .map(|(kind, n)| (kind.label(), *n))
            .collect()
    }
}

/// The simulator's request counter.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    counts: Mutex<RequestCounts>,
}

impl Traffic {
    pub(crate) fn record(&self, kind: RequestKind) {
        *lock(&self.counts).by_kind.entry(kind).or_default() += 1;
    }

    pub(crate) fn snapshot(&self) -> RequestCounts {
        lock(&self.counts).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_classified_by_method_and_path() {
        let base = "/services/rest/record/v1";
        let cases = [
            (
                Method::POST,
                format!("{base}/inventoryAdjustment"),
                "create inventoryAdjustment",
            ),
            (
                Method::POST,
                format!("{base}/salesOrder/12/!transform/itemFulfillment"),
                "transform salesOrder>itemFulfillment",
            ),
            (
                Method::GET,
                format!("{base}/itemReceipt/eid:K-1"),
                "lookup itemReceipt",
            ),
            (
                Method::GET,
                format!("{base}/salesOrder/12"),
                "read salesOrder",
            ),
            (
                Method::GET,
                format!("{base}/salesOrder/12/item"),
                "read salesOrder",
            ),
            (Method::GET, format!("{base}/salesOrder"), "list salesOrder"),
            (
                Method::PATCH,
                format!("{base}/salesOrder/12"),
                "change salesOrder",
            ),
            (Method::GET, format!("{base}/metadata-catalog"), "other"),
            (
                Method::GET,
                "/services/rest/async/v1/job/3".to_owned(),
                "async job",
            ),
        ];
        for (method, path, want) in cases {
            assert_eq!(
                RequestKind::classify(&method, &path, None).label(),
                want,
                "{path}"
            );
        }
        let q = "SELECT id, inventorynumber FROM InventoryNumber WHERE item = 1";
        assert_eq!(
            RequestKind::classify(&Method::POST, "/services/rest/query/v1/suiteql", Some(q))
                .label(),
            "suiteql inventorynumber"
        );
    }
}
