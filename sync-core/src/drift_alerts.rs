//! The life of drift exceptions across reconciliation runs: when a drifting position is
//! raised, when its exception is refreshed or resolved, and the finance exception on the value
//! of the drift (one a day while the value stays above the threshold).

use std::collections::HashSet;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::drift::{DriftClass, DriftRow};
use crate::exception::{Exception, ExceptionKind};
use crate::key::IdempotencyKey;
use crate::stock::StockKey;

/// How drift is alerted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriftAlerts {
    /// Consecutive runs a position must drift in before its exception is raised (1: at once).
    /// At 2, a difference seen while a movement was still on its way (a webhook queued, or lost
    /// until the sweep finds it) is confirmed by the next run before anyone is alerted.
    pub confirm_runs: u32,
}

/// An open exception as reconciliation reads it before deciding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenAlert<'a> {
    /// Its key.
    pub key: &'a str,
    /// Its kind: [`ExceptionKind::StockDrift`] or [`ExceptionKind::DriftValue`].
    pub kind: ExceptionKind,
}

/// What one reconciliation run does with drift exceptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftDecision {
    /// Exceptions to raise, or refresh where open: drifting positions already open, or
    /// confirmed while the intake is not behind.
    pub refresh: Vec<Exception>,
    /// Open exceptions to resolve, each with its note.
    pub resolve: Vec<(String, String)>,
}

impl Default for DriftAlerts {
    fn default() -> Self {
        DriftAlerts { confirm_runs: 1 }
    }
}

impl DriftAlerts {
    /// Whether a position drifted in each of the `confirm_runs` most recent runs:
    /// `recent_runs` (newest first, this run included) and `drifted_in`, the runs it drifted
    /// in. Fewer recent runs than `confirm_runs` confirm nothing yet.
    ///
    /// ```
    /// use sync_core::drift_alerts::DriftAlerts;
    ///
    /// let twice = DriftAlerts { confirm_runs: 2 };
    /// assert!(twice.confirmed(&[9, 8], &[9, 8, 5]));
    /// assert!(!twice.confirmed(&[9, 8], &[9]));
    /// assert!(!twice.confirmed(&[9], &[9]));
    /// assert!(DriftAlerts { confirm_runs: 1 }.confirmed(&[], &[]));
    /// ```
    pub fn confirmed(&self, recent_runs: &[i64], drifted_in: &[i64]) -> bool {
        if self.confirm_runs <= 1 {
            return true;
        }
        recent_runs.len() >= self.confirm_runs as usize
            && recent_runs
                .iter()
                .take(self.confirm_runs as usize)
                .all(|run| drifted_in.contains(run))
    }

    /// Whether confirming a position needs its history (more than one run to drift in).
    pub fn needs_history(&self) -> bool {
        self.confirm_runs > 1
    }

    /// Decides the drift exceptions of a run from its `rows`, the exceptions `open` before
    /// it, whether the intake is behind on Clarus webhooks (their movements not yet in
    /// flight: no new drift is raised, open drift is still refreshed and resolved), which
    /// positions are `confirmed`, and the value exception raised this run (`value`, its key).
    ///
    /// ```
    /// use sync_core::drift_alerts::{DriftAlerts, OpenAlert};
    /// use sync_core::ExceptionKind;
    ///
    /// // Nothing drifts any more: the open drift exception and yesterday's value exception are
    /// // resolved.
    /// let open = [
    ///     OpenAlert { key: "EXC-a", kind: ExceptionKind::StockDrift },
    ///     OpenAlert { key: "EXC-v", kind: ExceptionKind::DriftValue },
    /// ];
    /// let now = "2026-11-02T10:00:00Z".parse().unwrap();
    /// let decision = DriftAlerts::default().decide(&[], &open, false, |_| true, None, now);
    /// assert!(decision.refresh.is_empty());
    /// assert_eq!(decision.resolve.len(), 2);
    /// ```
    pub fn decide(
        &self,
        rows: &[DriftRow],
        open: &[OpenAlert<'_>],
        intake_behind: bool,
        confirmed: impl Fn(&StockKey) -> bool,
        value: Option<&str>,
        now: Timestamp,
    ) -> DriftDecision {
        let open_drift: HashSet<&str> = open
            .iter()
            .filter(|o| o.kind == ExceptionKind::StockDrift)
            .map(|o| o.key)
            .collect();
        let mut drifting = HashSet::new();
        let mut refresh = Vec::new();
        for row in rows.iter().filter(|r| r.class == DriftClass::Drift) {
            let Some(exception) = row.exception(now) else {
                continue;
            };
            let key = exception.key.as_str().to_owned();
            if open_drift.contains(key.as_str()) || (!intake_behind && confirmed(&row.key)) {
                refresh.push(exception);
            }
            drifting.insert(key);
        }
        let mut resolve = Vec::new();
        for o in open {
            match o.kind {
                ExceptionKind::StockDrift if !drifting.contains(o.key) => resolve.push((
                    o.key.to_owned(),
                    "back in step at reconciliation".to_owned(),
                )),
                ExceptionKind::DriftValue if value != Some(o.key) => {
                    let note = match value {
                        Some(current) => format!("superseded by {current}"),
                        None => {
                            "drift value at or under the threshold at reconciliation".to_owned()
                        }
                    };
                    resolve.push((o.key.to_owned(), note));
                }
                _ => {}
            }
        }
        DriftDecision { refresh, resolve }
    }
}

/// The key of the finance exception on the value of the drift for the day (UTC) `now` falls
/// in: one a day while the value stays above the threshold, so finance is reminded daily but
/// not at every run. Returns the day too, for the message.
///
/// ```
/// let (key, day) = sync_core::drift_alerts::value_key("2026-11-02T23:59:00Z".parse().unwrap());
/// assert_eq!(day.to_string(), "2026-11-02");
/// let (next, _) = sync_core::drift_alerts::value_key("2026-11-03T00:01:00Z".parse().unwrap());
/// assert_ne!(key, next);
/// ```
pub fn value_key(now: Timestamp) -> (IdempotencyKey, jiff::civil::Date) {
    let day = TimeZone::UTC.to_datetime(now).date();
    let key = IdempotencyKey::build("EXC", &[ExceptionKind::DriftValue.code(), &day.to_string()]);
    (key, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::StockStatus;
    use rust_decimal::Decimal;

    fn row(sku: &str, class: DriftClass) -> DriftRow {
        DriftRow {
            key: StockKey {
                sku: sku.into(),
                location: "1".into(),
                status: StockStatus::Available,
            },
            clarus: Decimal::from(5),
            netsuite: Decimal::from(3),
            in_flight: Decimal::ZERO,
            unexplained: Decimal::from(2),
            class,
        }
    }

    fn now() -> Timestamp {
        "2026-11-02T10:00:00Z".parse().unwrap()
    }

    fn key_of(r: &DriftRow) -> String {
        r.exception(now()).unwrap().key.as_str().to_owned()
    }

    #[test]
    fn new_drift_is_raised_once_confirmed_and_never_while_the_intake_is_behind() {
        let rows = [row("A", DriftClass::Drift), row("B", DriftClass::InStep)];
        let alerts = DriftAlerts { confirm_runs: 2 };
        let unconfirmed = alerts.decide(&rows, &[], false, |_| false, None, now());
        assert!(unconfirmed.refresh.is_empty());
        let confirmed = alerts.decide(&rows, &[], false, |_| true, None, now());
        assert_eq!(confirmed.refresh.len(), 1);
        assert_eq!(confirmed.refresh[0].kind, ExceptionKind::StockDrift);
        let behind = alerts.decide(&rows, &[], true, |_| true, None, now());
        assert!(behind.refresh.is_empty());
    }

    #[test]
    fn open_drift_is_refreshed_while_drifting_and_resolved_when_in_step() {
        let a = row("A", DriftClass::Drift);
        let a_key = key_of(&a);
        let b_key = key_of(&row("B", DriftClass::Drift));
        let open = [
            OpenAlert {
                key: &a_key,
                kind: ExceptionKind::StockDrift,
            },
            OpenAlert {
                key: &b_key,
                kind: ExceptionKind::StockDrift,
            },
        ];
        // Refreshed even while the intake is behind and unconfirmed; B is back in step.
        let d = DriftAlerts { confirm_runs: 3 }.decide(&[a], &open, true, |_| false, None, now());
        assert_eq!(d.refresh.len(), 1);
        assert_eq!(d.refresh[0].key.as_str(), a_key);
        assert_eq!(
            d.resolve,
            [(b_key.clone(), "back in step at reconciliation".to_owned())]
        );
    }

    #[test]
    fn a_new_days_value_exception_supersedes_the_last() {
        let (today, _) = value_key(now());
        let open = [
            OpenAlert {
                key: "EXC-yesterday",
                kind: ExceptionKind::DriftValue,
            },
            OpenAlert {
                key: today.as_str(),
                kind: ExceptionKind::DriftValue,
            },
        ];
        let d =
            DriftAlerts::default().decide(&[], &open, false, |_| true, Some(today.as_str()), now());
        assert_eq!(
            d.resolve,
            [(
                "EXC-yesterday".to_owned(),
                format!("superseded by {}", today.as_str())
            )]
        );
    }
}
