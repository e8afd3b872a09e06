//! Clarus simulator (in progress).
