//! One alert: a group of exceptions of one kind for one owner, with a count and examples.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::store::StoredException;

/// One exception shown in an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertExample {
    /// The exception key.
    pub key: String,
    /// The document it concerns.
    pub document: String,
    /// The human message.
    pub message: String,
}

/// A group of new exceptions of one kind for one owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Who owns the exceptions (`operations`, `finance`, ...).
    pub owner: String,
    /// The exception kind (`unknown-sku`, ...).
    pub kind: String,
    /// The severity of the first exception in the group.
    pub severity: String,
    /// How many exceptions the alert stands for.
    pub count: u64,
    /// When the earliest of them was raised.
    pub first_raised_at: Timestamp,
    /// When the latest of them was raised.
    pub last_raised_at: Timestamp,
    /// The first few exceptions, in the order they were raised.
    pub examples: Vec<AlertExample>,
    /// The runbook entry (`operations.md#unknown-sku`), or a full link when a base address is
    /// configured.
    pub runbook: String,
}

impl Alert {
    /// Starts an alert from one exception.
    pub(crate) fn start(exception: &StoredException, runbook_base: Option<&str>) -> Self {
        let e = &exception.exception;
        Alert {
            owner: e.owner.clone(),
            kind: e.kind.clone(),
            severity: e.severity.clone(),
            count: 0,
            first_raised_at: exception.raised_at,
            last_raised_at: exception.raised_at,
            examples: Vec::new(),
            runbook: match runbook_base {
                Some(base) => format!("{base}{}", e.runbook),
                None => e.runbook.clone(),
            },
        }
    }

    /// Counts one more exception in, keeping at most `max_examples` examples.
    pub(crate) fn add(&mut self, exception: &StoredException, max_examples: usize) {
        self.count += 1;
        self.first_raised_at = self.first_raised_at.min(exception.raised_at);
        self.last_raised_at = self.last_raised_at.max(exception.raised_at);
        if self.examples.len() < max_examples {
            let e = &exception.exception;
            self.examples.push(AlertExample {
                key: e.key.clone(),
                document: e.document.clone(),
                message: e.message.clone(),
            });
        }
    }

    /// A one-line summary, used as the email subject and the webhook's `text`.
    pub fn title(&self) -> String {
        let noun = if self.count == 1 {
            "exception"
        } else {
            "exceptions"
        };
        format!(
            "[{}] {} new {} {noun} ({})",
            self.owner, self.count, self.kind, self.severity
        )
    }

    /// The examples as lines of text (`document: message`), with how many are not shown.
    pub fn example_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .examples
            .iter()
            .map(|x| format!("{}: {}", x.document, x.message))
            .collect();
        let hidden = self.count.saturating_sub(self.examples.len() as u64);
        if hidden > 0 {
            lines.push(format!("... and {hidden} more"));
        }
        lines
    }

    /// The full message as plain text (the email body).
    pub fn plain_text(&self) -> String {
        let mut text = format!(
            "{}\n\nRaised between {} and {}.\n\n",
            self.title(),
            self.first_raised_at,
            self.last_raised_at
        );
        for line in self.example_lines() {
            text.push_str("- ");
            text.push_str(&line);
            text.push('\n');
        }
        text.push_str(&format!("\nWhat to do: {}\n", self.runbook));
        text
    }
}
