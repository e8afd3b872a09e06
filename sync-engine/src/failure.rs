//! What went wrong in one attempt, for people, with the error that caused it: the payload of
//! the outbox's [`ExecutionError`](crate::outbox::ExecutionError) and the processor's
//! [`DecodeError`](crate::processor::DecodeError). The message is what the exception and the
//! logs show; the cause stays reachable as the error's source, typed, for whoever needs more
//! than the text.

use std::error::Error;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A failure's message and, when there is one, the error that caused it.
///
/// ```
/// use std::error::Error as _;
/// use sync_engine::failure::Failure;
///
/// let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "read timed out");
/// let failure = Failure::caused_by("NetSuite did not answer", io);
/// assert_eq!(failure.to_string(), "NetSuite did not answer");
/// assert_eq!(failure.source().unwrap().to_string(), "read timed out");
/// // Plain text is a failure without a cause.
/// let plain = Failure::from("stored action cannot be read");
/// assert!(plain.source().is_none());
/// assert!(plain.contains("cannot be read"));
/// ```
#[derive(Clone)]
pub struct Failure {
    message: String,
    cause: Option<Arc<dyn Error + Send + Sync + 'static>>,
}

impl Failure {
    /// A failure described by `message` alone.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            cause: None,
        }
    }

    /// A failure described by `message`, caused by `cause`.
    pub fn caused_by(
        message: impl Into<String>,
        cause: impl Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            cause: Some(Arc::new(cause)),
        }
    }

    /// A failure whose message is `cause`'s text, keeping `cause` as its source.
    pub fn of(cause: impl Error + Send + Sync + 'static) -> Self {
        Self::caused_by(cause.to_string(), cause)
    }

    /// The same failure, caused by `cause` (its message unchanged).
    pub fn with_cause(self, cause: impl Error + Send + Sync + 'static) -> Self {
        Self {
            message: self.message,
            cause: Some(Arc::new(cause)),
        }
    }

    /// The message, for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error that caused it, typed, when there is one: downcast it to the client's error
    /// (`netsuite_client::Error`, `clarus_client::Error`) to read more than the message.
    pub fn cause(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        self.cause.as_deref()
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The message only: a client error's debug form may hold more than people should read.
        f.debug_struct("Failure")
            .field("message", &self.message)
            .field("caused", &self.cause.is_some())
            .finish()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for Failure {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

/// Two failures are equal when their messages are: the cause is not compared.
impl PartialEq for Failure {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}

impl Eq for Failure {}

impl Deref for Failure {
    type Target = str;

    fn deref(&self) -> &str {
        &self.message
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}
