//! The keys the store files things under: an event's source identity, a document, an action's
//! type, and how people read a document key.

use sync_core::{Action, DocumentRef, SourceId};

/// Short, stable name of an action kind, for the outbox and reports: the core's
/// [`ActionType::code`](sync_core::ActionType::code).
pub fn action_kind(action: &Action) -> &'static str {
    action.action_type().code()
}

/// The deterministic key of an event's source identity, used to recognise a redelivery.
pub fn event_key(source: &SourceId) -> String {
    // serde_json of the identity is unambiguous (every part quoted) and stable.
    serde_json::to_string(source).unwrap_or_else(|_| format!("{source:?}"))
}

/// The key under which a document's actions are ordered in the outbox.
pub fn document_key(document: &DocumentRef) -> String {
    serde_json::to_string(document).unwrap_or_else(|_| document.to_string())
}

/// A document key (see [`document_key`]) as people read it: `SO 1001`, `item 77`, ...
pub fn document_label(key: &str) -> String {
    serde_json::from_str::<DocumentRef>(key)
        .map(|d| d.to_string())
        .unwrap_or_else(|_| key.to_owned())
}
