//! Pure rules of the Clarus WMS ⇄ NetSuite integration.
//!
//! `sync-core` holds the domain model (items, orders, despatches, receipts, stock movements and
//! snapshots), the mapping tables between the two systems, and the planner that turns what happened
//! (an event with its source identity) into what must happen (actions for Clarus and NetSuite, and
//! exceptions with an owner). It does no I/O, runs no async code and reads no clock: time is passed
//! in, and what is already known is read through a read-only view, so every rule is a plain function
//! that can be unit- and property-tested.
