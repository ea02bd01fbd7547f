//! Quarantine: a payload that cannot be understood is kept in `rejected_events`, bounded and
//! with its secrets redacted first (a bound must not leave half of one), so that it can be
//! looked at and replayed once the reader is fixed.
//!
//! Owns the redaction and bounding of what is kept; it must not parse the payload again, and
//! leaves retrying and spooling to the `Recorder`.

use super::understand::Refused;
use super::{Outcome, Recorder};
use crate::event;
use crate::event::flags::Invocation;
use crate::input::Received;
use crate::store::{Rejected, StoreError};
use crate::time::Time;
use chrono::{DateTime, Utc};

impl Recorder {
    /// Keeps a refused payload (a person typing a hook command gets the error instead).
    pub(super) async fn quarantine(
        &mut self,
        refused: &Refused,
        received: &Received,
        inv: &Invocation,
        at: DateTime<Utc>,
    ) -> Result<Outcome, StoreError> {
        let Refused { reason, to } = refused;
        if !self.quarantine {
            return Ok(Outcome::Rejected {
                reason: reason.clone(),
                kept: String::new(),
            });
        }
        let now = &Time::at(at);
        let raw = String::from_utf8_lossy(&received.bytes);
        let limit = to.config().limits.rejected_bytes;
        // Secrets go first: a bound must not leave half of one (see `redact`).
        let (head, cut) = crate::text::truncate(&raw, limit + 4096);
        let clean = crate::redact::redact_raw(head, &to.patterns, cut || received.too_large);
        let (kept, cut_again) = crate::text::truncate(&clean, limit);
        let args: Vec<String> = inv
            .args
            .iter()
            .map(|a| crate::redact::redact(a, &to.patterns).into_owned())
            .collect();
        let reason = crate::redact::redact(reason, &to.patterns);
        let key = event::key_of(&[&String::from_utf8_lossy(&received.bytes)]);
        let once = self.replay;
        let store = self.store(to).await?;
        store
            .reject(
                &Rejected {
                    reason: &reason,
                    args: &args,
                    payload: kept,
                    key: &key,
                    payload_bytes: received.total,
                    truncated: cut || cut_again || received.too_large,
                    once,
                },
                now,
            )
            .await?;
        let kept = format!("{} (rejected_events)", store.path().display());
        tracing::warn!("rejected hook payload: {reason}; kept in {kept}");
        Ok(Outcome::Rejected {
            reason: reason.into_owned(),
            kept,
        })
    }
}
