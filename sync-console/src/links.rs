//! Links to the records in NetSuite and Clarus.
//!
//! ```
//! use sync_console::Links;
//!
//! let links = Links {
//!     netsuite_account: Some("1234567_SB1".into()),
//!     clarus_url: Some("https://acme.clarus.example/".into()),
//! };
//! assert_eq!(
//!     links.netsuite_record("4411").unwrap(),
//!     "https://1234567-sb1.app.netsuite.com/app/accounting/transactions/transaction.nl?id=4411"
//! );
//! assert_eq!(links.clarus("goods_outs", "55").unwrap(), "https://acme.clarus.example/goods_outs/55");
//! ```

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use sync_core::DocumentRef;

/// Where records are opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// The NetSuite account id (`1234567` or `1234567_SB1`).
    pub netsuite_account: Option<String>,
    /// The Clarus web application's address.
    pub clarus_url: Option<String>,
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

impl Links {
    /// The NetSuite page of transaction `id`.
    pub fn netsuite_record(&self, id: &str) -> Option<String> {
        let account = self.netsuite_account.as_deref()?;
        let host: String = account
            .to_lowercase()
            .chars()
            .map(|c| if c == '_' { '-' } else { c })
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        Some(format!(
            "https://{host}.app.netsuite.com/app/accounting/transactions/transaction.nl?id={}",
            encode(id)
        ))
    }

    /// The Clarus page of record `id` of `collection` (`goods_outs`, `goods_in_receipts`,
    /// `stock_movements`).
    pub fn clarus(&self, collection: &str, id: &str) -> Option<String> {
        let base = self.clarus_url.as_deref()?.trim_end_matches('/');
        Some(format!("{base}/{collection}/{}", encode(id)))
    }

    /// The Clarus page of a despatch's goods out, a receipt's goods-in receipt or a movement.
    pub fn clarus_document(&self, document: &DocumentRef) -> Option<String> {
        match document {
            DocumentRef::Despatch { goods_out, .. } => {
                self.clarus("goods_outs", &goods_out.to_string())
            }
            DocumentRef::Receipt { goods_in, .. } => {
                self.clarus("goods_in_receipts", &goods_in.to_string())
            }
            DocumentRef::Movement { movement, .. } => {
                self.clarus("stock_movements", &movement.to_string())
            }
            _ => None,
        }
    }
}
