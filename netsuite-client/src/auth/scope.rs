//! The OAuth 2.0 scopes NetSuite grants, shared by both OAuth 2.0 flows and the settings.

use std::str::FromStr;

use super::{AuthError, AuthScheme};

/// An OAuth 2.0 scope NetSuite grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `rest_webservices`: SuiteTalk REST (records, SuiteQL).
    RestWebServices,
    /// `restlets`: RESTlet scripts.
    Restlets,
    /// `suite_analytics`: SuiteAnalytics Connect.
    SuiteAnalytics,
}

impl Scope {
    /// The wire name, e.g. `rest_webservices`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::RestWebServices => "rest_webservices",
            Scope::Restlets => "restlets",
            Scope::SuiteAnalytics => "suite_analytics",
        }
    }
}

impl FromStr for Scope {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "rest_webservices" => Ok(Scope::RestWebServices),
            "restlets" => Ok(Scope::Restlets),
            "suite_analytics" => Ok(Scope::SuiteAnalytics),
            other => Err(AuthError::Config {
                scheme: AuthScheme::OAuth2ClientCredentials,
                message: format!(
                    "{other:?} is not a NetSuite scope; use rest_webservices, restlets or suite_analytics"
                ),
            }),
        }
    }
}
