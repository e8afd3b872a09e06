//! NetSuite account ids and the host names and realms derived from them.
