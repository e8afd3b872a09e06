//! Named watermarks: how far a poller has read.

use async_trait::async_trait;

use super::StoreError;

/// Named watermarks (pollers: the last `lastmodifieddate` seen).
#[async_trait]
pub trait WatermarkStore: Send + Sync {
    /// A named watermark.
    async fn watermark(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Sets a named watermark.
    async fn set_watermark(&self, name: &str, value: &str) -> Result<(), StoreError>;
}
