//! The integration tests of `sync-core`, one test binary: the planning rules one by one, the
//! item-master agreement rules, and property tests over random event streams; [`support`] builds
//! the events, mappings and states they share.

mod support;

mod item_validation;
mod properties;
mod rules;
