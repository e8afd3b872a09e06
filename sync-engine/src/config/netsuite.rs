//! The NetSuite connection (`[netsuite]`) and the segments of each location's inventory
//! postings (`[netsuite.locations."<id>"]`).

use serde::Deserialize;

use super::{Config, ConfigError};

/// NetSuite connection settings (credentials come from `NETSUITE_*` variables).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetSuiteSettings {
    /// Account id, e.g. `1234567` or `1234567_SB1`.
    pub account_id: String,
    /// Overrides the host derived from the account id (simulators, proxies).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Allows a plain `http` base URL (simulators only).
    #[serde(default)]
    pub allow_http: bool,
    /// Requests in flight at once; read from `governanceLimits` when absent.
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// Per-location segments of inventory postings (`[netsuite.locations."<id>"]`).
    #[serde(default)]
    pub locations: std::collections::BTreeMap<String, NetSuiteLocationSettings>,
}

/// The segments a NetSuite location's inventory adjustments, transfers and status changes name
/// (`[netsuite.locations."<location internal id>"]`): OneWorld accounts need `subsidiary` on
/// them; `department` and `class` where the account classifies by them. Values are internal ids.
/// Fulfilments and receipts take these from their order and need none.
///
/// ```toml
/// [netsuite.locations."1"]
/// subsidiary = "3"
/// department = "8"
/// class = "12"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetSuiteLocationSettings {
    /// `subsidiary` internal id.
    #[serde(default)]
    pub subsidiary: Option<String>,
    /// `department` internal id.
    #[serde(default)]
    pub department: Option<String>,
    /// `class` internal id.
    #[serde(default)]
    pub class: Option<String>,
}

impl Config {
    /// The per-location segments for the NetSuite executor
    /// (`NetSuiteExecutor::with_location_segments`), checked: every location and value is a
    /// NetSuite internal id (digits).
    pub fn netsuite_location_segments(
        &self,
    ) -> Result<crate::netsuite::LocationSegments, ConfigError> {
        let internal_id = |value: &str, what: &str| -> Result<sync_core::NetSuiteId, ConfigError> {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ConfigError::Invalid(format!(
                    "netsuite.locations: {what} {value:?} is not a NetSuite internal id"
                )));
            }
            Ok(value.into())
        };
        let mut out = crate::netsuite::LocationSegments::new();
        for (location, settings) in &self.netsuite.locations {
            let location_id = internal_id(location, "location")?;
            let field = |value: &Option<String>, name: &str| {
                value
                    .as_deref()
                    .map(|v| internal_id(v, &format!("{location}.{name}")))
                    .transpose()
            };
            out.insert(
                location_id.as_str().into(),
                crate::netsuite::Segments {
                    subsidiary: field(&settings.subsidiary, "subsidiary")?,
                    department: field(&settings.department, "department")?,
                    class: field(&settings.class, "class")?,
                },
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError};

    fn config(locations: &str) -> Result<Config, ConfigError> {
        super::super::minimal_config(r#"store = "sync.sqlite""#, locations, "")
    }

    #[test]
    fn location_segments_are_read_and_checked() {
        let c = config(
            r#"[netsuite.locations."12"]
subsidiary = "3"
class = "9"
[netsuite.locations."14"]
department = "8""#,
        )
        .unwrap();
        let segments = c.netsuite_location_segments().unwrap();
        let twelve = segments.get(&"12".into()).unwrap();
        assert_eq!(twelve.subsidiary, Some("3".into()));
        assert_eq!(twelve.department, None);
        assert_eq!(twelve.class, Some("9".into()));
        assert_eq!(
            segments.get(&"14".into()).unwrap().department,
            Some("8".into())
        );
        assert!(segments.get(&"15".into()).is_none());

        let none = config("").unwrap();
        assert!(none.netsuite_location_segments().unwrap().is_empty());

        let bad = config("[netsuite.locations.\"12\"]\nsubsidiary = \"Parent Co\"").unwrap();
        assert!(bad.netsuite_location_segments().is_err());
        assert!(config("[netsuite.locations.\"12\"]\nsubsidary = \"3\"").is_err());
    }
}
