//! Stateful simulators of NetSuite and Clarus WMS, used by the demo and the end-to-end tests.
//!
//! Will hold: a NetSuite simulator with records, transforms with real line semantics, external-id
//! look-ups, on-hand per item × location × status, SuiteQL, the account concurrency limit (429s),
//! latency and injected faults (including commit-then-fail); and a Clarus simulator with OAuth, the
//! REST operations and GraphQL reads the client uses, and a warehouse that picks, short-picks,
//! despatches, receives, adjusts, holds and counts while firing webhooks with duplicates,
//! reordering and loss.
