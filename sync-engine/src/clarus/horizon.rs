//! How far the Clarus sweeps may look: a webhook still waiting in the intake is not lost.
//!
//! A sweep stands in for a webhook that never came once the record is older than the sweep's
//! overlap. When the intake has a backlog (a burst of webhooks, a restart after an outage), a
//! webhook can wait longer than the overlap before it is processed, and the sweep would rebuild
//! the record from the poorer listing (a stock movement without its reason, batch or serial).
//! So the sweeps measure age against the intake's horizon instead of the clock: the arrival of
//! the oldest Clarus webhook not processed yet, when that is earlier than now. Everything that
//! arrived before it has been processed, so a record older than the horizon by the overlap has
//! no webhook on its way.
//!
//! A backlog that does not drain (a processor that stopped) must not stop the sweeps for good:
//! the horizon never lags the clock by more than [`MAX_INTAKE_WAIT`]. A stalled intake raises
//! its own exception (`delivery-stalled`).

use jiff::{SignedDuration, Timestamp};

use crate::intake::CLARUS_WEBHOOK_SOURCE;
use crate::store::{Store, StoreError};

/// The longest the sweeps wait for the intake's backlog: 10 minutes.
pub const MAX_INTAKE_WAIT: SignedDuration = SignedDuration::from_mins(10);

/// The sweeps' horizon at `now`: see the [module documentation](self).
///
/// ```
/// use jiff::{SignedDuration, Timestamp};
/// use sync_engine::clarus::{MAX_INTAKE_WAIT, sweep_horizon};
///
/// let now: Timestamp = "2026-12-07T12:00:00Z".parse().unwrap();
/// let waiting: Timestamp = "2026-12-07T11:59:40Z".parse().unwrap();
/// assert_eq!(sweep_horizon(now, None), now);
/// assert_eq!(sweep_horizon(now, Some(waiting)), waiting);
/// let stalled = now - SignedDuration::from_hours(3);
/// assert_eq!(sweep_horizon(now, Some(stalled)), now - MAX_INTAKE_WAIT);
/// ```
pub fn sweep_horizon(now: Timestamp, oldest_waiting: Option<Timestamp>) -> Timestamp {
    match oldest_waiting {
        Some(oldest) => oldest.max(now - MAX_INTAKE_WAIT).min(now),
        None => now,
    }
}

/// The intake lag reconciliation tolerates: a webhook waiting less than this is being
/// processed, not queued behind others. One second.
pub const NORMAL_INTAKE_LAG: SignedDuration = SignedDuration::from_secs(1);

/// Whether the intake is behind at `now`, given when its oldest waiting Clarus webhook arrived:
/// `Some(arrival)` when that webhook has waited at least [`NORMAL_INTAKE_LAG`] and at most
/// [`MAX_INTAKE_WAIT`]. Clarus may then have moved stock the engine has not planned yet, so
/// reconciliation raises no new drift from a run taken then. A webhook being processed (a
/// shorter wait) holds nothing back, so a busy but healthy intake never keeps drift from being
/// raised; an older backlog is a stalled intake and holds nothing back either.
///
/// ```
/// use jiff::{SignedDuration, Timestamp};
/// use sync_engine::clarus::intake_behind;
///
/// let now: Timestamp = "2026-12-07T12:00:00Z".parse().unwrap();
/// assert_eq!(intake_behind(now, None), None);
/// let queued = now - SignedDuration::from_secs(4);
/// assert_eq!(intake_behind(now, Some(queued)), Some(queued));
/// assert_eq!(intake_behind(now, Some(now - SignedDuration::from_millis(50))), None);
/// assert_eq!(intake_behind(now, Some(now - SignedDuration::from_hours(1))), None);
/// ```
pub fn intake_behind(now: Timestamp, oldest_waiting: Option<Timestamp>) -> Option<Timestamp> {
    oldest_waiting
        .filter(|oldest| *oldest > now - MAX_INTAKE_WAIT && *oldest <= now - NORMAL_INTAKE_LAG)
}

/// When the oldest Clarus webhook still waiting in the intake at `now` arrived (`None` when
/// none waits): give it to [`sweep_horizon`] or [`intake_behind`] with the time of the check.
pub(crate) async fn oldest_waiting(
    store: &dyn Store,
    now: Timestamp,
) -> Result<Option<Timestamp>, StoreError> {
    store.oldest_due_delivery(CLARUS_WEBHOOK_SOURCE, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_webhook_arriving_after_now_does_not_move_the_horizon_forward() {
        let now = at("2026-12-07T12:00:00Z");
        assert_eq!(sweep_horizon(now, Some(at("2026-12-07T12:00:05Z"))), now);
    }

    #[test]
    fn the_horizon_waits_for_a_backlog_up_to_the_limit() {
        let now = at("2026-12-07T12:00:00Z");
        let nine = now - SignedDuration::from_mins(9);
        assert_eq!(sweep_horizon(now, Some(nine)), nine);
        let eleven = now - SignedDuration::from_mins(11);
        assert_eq!(sweep_horizon(now, Some(eleven)), now - MAX_INTAKE_WAIT);
    }
}
