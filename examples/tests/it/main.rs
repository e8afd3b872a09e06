//! The integration tests of the examples, built as one test binary: one module per area (the
//! flows end to end, the chaos days, the demo run, the operations report in a browser, and the
//! `sync` and `netsuite` command lines), with the set-up they share in [`support`].

mod chaos;
mod demo_run;
mod flows;
mod guide_samples;
mod html_report;
mod multi_instance;
mod netsuite_cli;
mod support;
mod sync_close_check;
mod sync_doctor;
mod sync_drift;
mod sync_exceptions;
mod sync_report;
