//! The `X-ClarusWMS-*` headers Clarus sends with every webhook.

use reqwest::header::HeaderMap;

use crate::ClarusId;

/// The identifying headers of a delivery. They can be spoofed: they identify, they do not
/// authenticate (see [`super::WebhookSecret`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookHeaders {
    /// `X-ClarusWMS-Domain`.
    pub domain: Option<String>,
    /// `X-ClarusWMS-API-Domain`.
    pub api_domain: Option<String>,
    /// `X-ClarusWMS-Subdomain`: the tenant.
    pub subdomain: Option<String>,
    /// `X-ClarusWMS-Automation-ID`: the automation that fired.
    pub automation_id: Option<ClarusId>,
    /// `X-ClarusWMS-Integration-ID`, only when an integration is linked.
    pub integration_id: Option<ClarusId>,
    /// `X-ClarusWMS-Automation-ID` text when it is not a number.
    pub raw_automation_id: Option<String>,
}

impl WebhookHeaders {
    /// Reads the headers (names are case-insensitive); absent or non-UTF-8 values are `None`.
    pub fn from_header_map(headers: &HeaderMap) -> Self {
        Self::from_pairs(
            headers
                .iter()
                .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v))),
        )
    }

    /// Reads the headers from `(name, value)` pairs, for servers with another header type.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut out = Self::default();
        for (name, value) in pairs {
            let value = value.trim();
            let owned = Some(value.to_owned());
            match name.to_ascii_lowercase().as_str() {
                "x-claruswms-domain" => out.domain = owned,
                "x-claruswms-api-domain" => out.api_domain = owned,
                "x-claruswms-subdomain" => out.subdomain = owned,
                "x-claruswms-automation-id" => {
                    out.automation_id = value.parse().ok();
                    out.raw_automation_id = owned;
                }
                "x-claruswms-integration-id" => out.integration_id = value.parse().ok(),
                _ => {}
            }
        }
        out
    }
}
