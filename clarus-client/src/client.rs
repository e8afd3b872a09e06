//! The HTTP core: URLs, the `Authorization` and `X-Clarus-Subdomain` headers, one re-authentication
//! on an unexpected 401, and turning responses into records or typed errors.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::auth::{AuthorizationStart, PkceVerifier, TokenManager};
use crate::config::{ClarusConfig, DeleteChangeType};
use crate::error::{ConfigError, Error};
use crate::retry::{Decision, Failure, RequestKind, decide, parse_retry_after};

/// Header that selects the tenant on every REST and GraphQL call.
pub const SUBDOMAIN_HEADER: &str = "X-Clarus-Subdomain";

/// A typed async Clarus WMS client. Cheap to clone; clones share the token cache and the
/// connection pool.
///
/// ```no_run
/// use clarus_client::{ClarusClient, ClarusConfig, Credentials, Secret};
/// # async fn run() -> Result<(), clarus_client::Error> {
/// let config = ClarusConfig::builder(
///     "acme-warehouse",
///     Credentials::client_credentials("client-id", Secret::new("client-secret")),
/// )
/// .build()?;
/// let client = ClarusClient::new(config)?;
/// client.cancel_goods_out(1234.into()).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClarusClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClarusConfig,
    http: reqwest::Client,
    tokens: TokenManager,
}

impl std::fmt::Debug for ClarusClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClarusClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// A success response: status and body text.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) body: String,
}

/// A record as returned by create, update and most actions: `{"data":{"id","type","attributes"}}`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Record {
    /// The record id.
    pub id: crate::ClarusId,
    /// The JSON:API type, e.g. `goods_outs`.
    #[serde(rename = "type", default)]
    pub resource_type: String,
    /// Every attribute the server returned.
    #[serde(default)]
    pub attributes: serde_json::Map<String, Value>,
}

impl Record {
    /// An attribute read as `T`, or `None` when it is absent, null or of another shape.
    pub fn attribute<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        self.attributes
            .get(name)
            .filter(|v| !v.is_null())
            .and_then(|v| T::deserialize(v).ok())
    }
}

impl ClarusClient {
    /// Builds a client. No request is sent until the first call. The client follows no
    /// redirects: a 3xx answer is returned as [`Error::Redirect`], so the bearer token,
    /// the tenant header and the request body never reach another host.
    pub fn new(config: ClarusConfig) -> Result<Self, ConfigError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!config.allow_http)
            .timeout(config.timeout)
            .user_agent(concat!("clarus-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        let tokens = TokenManager::new(&config)?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                http,
                tokens,
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClarusConfig {
        &self.inner.config
    }

    /// Starts the authorization-code flow: returns the URL to send the user to, with PKCE.
    pub fn authorization_url(&self) -> AuthorizationStart {
        self.inner.tokens.authorize_url()
    }

    /// Completes the authorization-code flow with the `code` from the redirect.
    pub async fn complete_authorization(
        &self,
        code: &str,
        pkce_verifier: PkceVerifier,
    ) -> Result<(), Error> {
        Ok(self
            .inner
            .tokens
            .exchange_code(code.to_owned(), pkce_verifier)
            .await?)
    }

    /// Resumes an authorization-code session from a stored refresh token.
    pub async fn set_refresh_token(&self, refresh_token: &str) {
        self.inner
            .tokens
            .set_refresh_token(refresh_token.to_owned())
            .await;
    }

    /// The full URL of a REST path such as `/goods_outs/12` under the configured prefix.
    pub(crate) fn rest_url(&self, path: &str) -> Url {
        let cfg = &self.inner.config;
        let mut url = cfg.base_url.as_url().clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}{}{path}", cfg.path_prefix.as_str()));
        url
    }

    pub(crate) fn graphql_url(&self) -> Url {
        let mut url = self.inner.config.base_url.as_url().clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/graphql"));
        url
    }

    /// Sends a REST request and returns the success body, or the typed error. `GET`, `HEAD`,
    /// `PUT` and `DELETE` are retried as their HTTP semantics allow; `POST` and `PATCH` are
    /// treated as creates (see [`Self::rest_as`] for actions known to be idempotent).
    pub(crate) async fn rest(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<RawResponse, Error> {
        let kind = kind_of(&method);
        self.rest_as(kind, method, path, query, body).await
    }

    /// [`Self::rest`] for a request whose retry safety is given explicitly.
    pub(crate) async fn rest_as(
        &self,
        kind: RequestKind,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<RawResponse, Error> {
        let mut url = self.rest_url(path);
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        let body = body.map(|mut b| {
            apply_delete_word(&mut b, self.inner.config.delete_change_type);
            b
        });
        self.send(method, url, body, kind).await
    }

    /// Sends a REST request and reads the JSON:API record it returns.
    pub(crate) async fn rest_record(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Record, Error> {
        let response = self.rest(method, path, &[], body).await?;
        #[derive(serde::Deserialize)]
        struct DataResponse {
            data: Record,
        }
        decode::<DataResponse>(&response.body).map(|r| r.data)
    }

    /// Sends a REST action that answers with a record (200) or with nothing (204).
    pub(crate) async fn rest_optional_record(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Option<Record>, Error> {
        let response = self.rest(method, path, &[], body).await?;
        if response.body.trim().is_empty() {
            return Ok(None);
        }
        #[derive(serde::Deserialize)]
        struct DataResponse {
            data: Record,
        }
        decode::<DataResponse>(&response.body).map(|r| Some(r.data))
    }

    /// Sends a REST request whose success answer carries nothing the caller needs.
    pub(crate) async fn rest_unit(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(), Error> {
        self.rest(method, path, &[], body).await.map(|_| ())
    }

    /// Sends a GraphQL request body and returns the raw response text (status checked). A
    /// query is a read and is retried as one; a `mutation` document is never repeated once it
    /// may have run.
    pub(crate) async fn graphql_raw(&self, body: Value) -> Result<String, Error> {
        let url = self.graphql_url();
        let kind = if body
            .get("query")
            .and_then(Value::as_str)
            .is_some_and(is_mutation)
        {
            RequestKind::NonIdempotent
        } else {
            RequestKind::Read
        };
        self.send(Method::POST, url, Some(body), kind)
            .await
            .map(|r| r.body)
    }

    /// Sends a request, re-authenticating once on an unexpected 401 and retrying as
    /// [`crate::retry::decide`] permits.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<Value>,
        kind: RequestKind,
    ) -> Result<RawResponse, Error> {
        let policy = self.inner.config.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (error, failure) = match self.send_once(&method, &url, body.as_ref()).await {
                Ok(response) => return Ok(response),
                Err(failed) => failed,
            };
            let Some(failure) = failure else {
                return Err(error);
            };
            let jitter = rand::random_range(0..=1000u16);
            match decide(kind, failure, attempt, &policy, jitter) {
                Decision::RetryAfter(delay) => {
                    tracing::info!(%method, path = url.path(), attempt, ?delay, %error, "retrying Clarus request");
                    tokio::time::sleep(delay).await;
                }
                Decision::GiveUp => return Err(error),
            }
        }
    }

    /// One attempt (plus one re-authentication on 401). A failure comes with what the retry
    /// decision needs to know about it, or `None` when it is not a matter for retrying at all.
    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Result<RawResponse, (Error, Option<Failure>)> {
        let mut reauthenticated = false;
        loop {
            let token = self
                .inner
                .tokens
                .token()
                .await
                .map_err(|e| (Error::from(e), None))?;
            let mut request = self
                .inner
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(&token.secret)
                .header(SUBDOMAIN_HEADER, self.inner.config.subdomain.as_str())
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(e) => {
                    let failure = transport_failure(&e);
                    return Err((Error::Transport(e), failure));
                }
            };
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(location_without_query);
                tracing::warn!(%method, path = url.path(), status = status.as_u16(), "Clarus answered a redirect; not followed");
                return Err((
                    Error::Redirect {
                        status: status.as_u16(),
                        location,
                    },
                    None,
                ));
            }
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, jiff::Timestamp::now()));
            let text = match response.text().await {
                Ok(text) => text,
                Err(e) => return Err((Error::Transport(e), Some(Failure::AfterSend))),
            };
            tracing::debug!(%method, path = url.path(), status = status.as_u16(), "clarus call");
            if status == StatusCode::UNAUTHORIZED && !reauthenticated {
                // The token may have been revoked (e.g. the API user logged into the web UI):
                // fetch a new one and try once more.
                tracing::info!("Clarus answered 401; re-authenticating once");
                self.inner.tokens.invalidate(token.generation).await;
                reauthenticated = true;
                continue;
            }
            if status.is_success() {
                return Ok(RawResponse { body: text });
            }
            let failure = Failure::Status {
                status: status.as_u16(),
                retry_after,
            };
            return Err((Error::from_response(status.as_u16(), text), Some(failure)));
        }
    }
}

/// How safe a REST request is to repeat, from its method alone.
fn kind_of(method: &Method) -> RequestKind {
    if *method == Method::GET || *method == Method::HEAD {
        RequestKind::Read
    } else if *method == Method::PUT || *method == Method::DELETE {
        RequestKind::Idempotent
    } else {
        RequestKind::NonIdempotent
    }
}

/// What a transport error means for retrying: a connection never made sent nothing; a request
/// that could not even be built is not a matter for retrying; anything else may have been sent.
fn transport_failure(error: &reqwest::Error) -> Option<Failure> {
    if error.is_builder() {
        None
    } else if error.is_connect() {
        Some(Failure::Connect)
    } else {
        Some(Failure::AfterSend)
    }
}

/// Whether a GraphQL document is a mutation (its first operation keyword is `mutation`).
fn is_mutation(query: &str) -> bool {
    let mut rest = query.trim_start();
    // Skip leading comments.
    while let Some(comment) = rest.strip_prefix('#') {
        rest = comment
            .split_once('\n')
            .map(|(_, after)| after)
            .unwrap_or("")
            .trim_start();
    }
    rest.strip_prefix("mutation").is_some_and(|after| {
        after.is_empty() || !after.starts_with(|c: char| c.is_alphanumeric() || c == '_')
    })
}

/// A `Location` value without its query, fragment or user info (which could carry secrets).
fn location_without_query(location: &str) -> String {
    match Url::parse(location) {
        Ok(mut url) => {
            url.set_query(None);
            url.set_fragment(None);
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        Err(_) => location
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}

/// Reads a success body as `T`, keeping the body on failure.
pub(crate) fn decode<T: DeserializeOwned>(body: &str) -> Result<T, Error> {
    serde_json::from_str(body).map_err(|e| Error::Decode {
        message: e.to_string(),
        raw_body: body.to_owned(),
    })
}

/// Rewrites delete entries of `lines_changes` and `packages_changes` to the configured word.
///
/// Written by hand because the word is a per-tenant setting known only at send time, while the
/// change types serialise with the schema's `DESTROY`. Only these two arrays are touched;
/// automation change arrays keep `DESTROY` as their documentation states.
pub(crate) fn apply_delete_word(value: &mut Value, word: DeleteChangeType) {
    if word == DeleteChangeType::Destroy {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "lines_changes" || key == "packages_changes" {
                    if let Value::Array(items) = child {
                        for item in items {
                            if let Some(kind) = item.get_mut("type")
                                && kind == "DESTROY"
                            {
                                *kind = Value::String(word.as_str().to_owned());
                            }
                        }
                    }
                } else {
                    apply_delete_word(child, word);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| apply_delete_word(item, word)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redirect_locations_lose_query_and_user_info() {
        assert_eq!(
            location_without_query("https://u:p@other.example/x?token=abc#f"),
            "https://other.example/x"
        );
        assert_eq!(location_without_query("/relative?token=abc"), "/relative");
    }

    #[test]
    fn methods_and_graphql_documents_are_told_apart() {
        assert_eq!(kind_of(&Method::GET), RequestKind::Read);
        assert_eq!(kind_of(&Method::DELETE), RequestKind::Idempotent);
        assert_eq!(kind_of(&Method::PUT), RequestKind::Idempotent);
        assert_eq!(kind_of(&Method::POST), RequestKind::NonIdempotent);
        assert_eq!(kind_of(&Method::PATCH), RequestKind::NonIdempotent);
        assert!(is_mutation("mutation { createThing { id } }"));
        assert!(is_mutation("  # note\n mutation Named($a: Int) { x }"));
        assert!(!is_mutation("query { mutationLog { id } }"));
        assert!(!is_mutation("{ goodsOuts { edges { node { id } } } }"));
        assert!(!is_mutation("mutationless { x }"));
    }

    #[test]
    fn rewrites_only_line_and_package_deletes() {
        let mut body = json!({"data":{"attributes":{
            "lines_changes":[{"type":"DESTROY","id":1},{"type":"ADD","attributes":{}}],
            "packages_changes":[{"type":"DESTROY","id":2}],
            "actions_changes":[{"type":"DESTROY","id":3}]
        }}});
        apply_delete_word(&mut body, DeleteChangeType::Remove);
        let a = &body["data"]["attributes"];
        assert_eq!(a["lines_changes"][0]["type"], "REMOVE");
        assert_eq!(a["lines_changes"][1]["type"], "ADD");
        assert_eq!(a["packages_changes"][0]["type"], "REMOVE");
        assert_eq!(a["actions_changes"][0]["type"], "DESTROY");
    }
}
