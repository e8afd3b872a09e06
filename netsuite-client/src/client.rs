//! The client, its builder and the one place requests are sent: permit, credentials, retries.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

use crate::account::{AccountId, AllowHttp, Endpoint};
use crate::auth::{AuthScheme, Authenticator};
use crate::error::{ApiError, Error, ErrorCode};
use crate::governance::{ConcurrencyBudget, GovernanceLimits, PoolSizing};
use crate::ids::{RecordKey, RecordType};
use crate::retry::{
    Backoff, Decision, Failure, Idempotency, RetryBudget, RetryCosts, RetryKind, RetryLimits,
    decide,
};
use crate::stats::{ClientStats, Counters};

/// RFC 3986 unreserved characters stay; everything else is `%XX` (a space is `%20`, never `+`),
/// matching what TBA signs.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Default width of the concurrency pool when neither configuration nor `governanceLimits` sized
/// it: the smallest NetSuite tier (and every developer account) allows 5 requests in flight.
///
/// A client built without [`ClientBuilder::concurrency_limit`] reads `governanceLimits` once,
/// before its first request, and sizes the pool from it; it keeps this width when the role may
/// not read them ([`NetSuiteClient::pool_sizing`] says which happened).
pub const DEFAULT_CONCURRENCY: usize = 5;

/// A NetSuite REST client. Cheap to clone; clones share the connection pool, the credentials,
/// the account's concurrency budget and the retry budget.
///
/// ```no_run
/// # async fn demo(auth: std::sync::Arc<dyn netsuite_client::auth::Authenticator>) -> Result<(), netsuite_client::Error> {
/// use netsuite_client::{NetSuiteClient, RecordKey, account::AccountId, records::SalesOrder};
///
/// let account: AccountId = "1234567_SB1".parse().expect("account id");
/// let client = NetSuiteClient::builder(auth)
///     .account(&account)
///     .concurrency_limit(15)
///     .build()?;
/// let order: SalesOrder = client
///     .get::<SalesOrder>(RecordKey::parse("eid:SO-1001")?)
///     .expand_sub_resources(true)
///     .send()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct NetSuiteClient {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for NetSuiteClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetSuiteClient")
            .field("base_url", &self.inner.base.as_str())
            .field("auth", &self.inner.auth.scheme())
            .field("concurrency_limit", &self.inner.budget.limit())
            .field("pool_sizing", &self.pool_sizing())
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    http: reqwest::Client,
    base: Url,
    auth: Arc<dyn Authenticator>,
    budget: Arc<ConcurrencyBudget>,
    retry_budget: Arc<RetryBudget>,
    limits: RetryLimits,
    backoff: Backoff,
    costs: RetryCosts,
    /// How the pool got its width; unset until `governanceLimits` was read (or not).
    sizing: tokio::sync::OnceCell<PoolSizing>,
    /// The pool's resize count at build: a resize after it means its user sized the pool.
    resize_mark: u64,
    counters: Counters,
}

/// Builds a [`NetSuiteClient`].
pub struct ClientBuilder {
    auth: Arc<dyn Authenticator>,
    base_url: Option<BaseUrl>,
    allow_http: bool,
    concurrency: Option<usize>,
    budget: Option<Arc<ConcurrencyBudget>>,
    governance_sizing: bool,
    retry_budget: Option<Arc<RetryBudget>>,
    limits: RetryLimits,
    backoff: Backoff,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("auth", &self.auth.scheme())
            .field("base_url", &self.base_url)
            .field("allow_http", &self.allow_http)
            .field("concurrency", &self.concurrency)
            .field("governance_sizing", &self.governance_sizing)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Sets the base URL to an account's REST host:
    /// `https://<account>.suitetalk.api.netsuite.com/services/rest`.
    pub fn account(mut self, account: &AccountId) -> Self {
        self.base_url = Some(BaseUrl::Endpoint(account.endpoint()));
        self
    }

    /// Sets the base URL to a validated endpoint (an override already checked for `http`).
    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.base_url = Some(BaseUrl::Endpoint(endpoint));
        self
    }

    /// Sets the base URL from text: the root (`https://host`) or the REST base
    /// (`https://host/services/rest`); used for simulators and tests, or when the account's domain
    /// was read from `datacenterurls`. Plain `http` needs [`ClientBuilder::allow_insecure_http`].
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(BaseUrl::Text(url.into()));
        self
    }

    /// Accepts a plain `http` base URL (local simulators and tests only).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Sizes the account's concurrency pool; `governanceLimits` is then not read. Without it
    /// the pool is sized from `governanceLimits` before the first request
    /// ([`ClientBuilder::size_from_governance_limits`]).
    pub fn concurrency_limit(mut self, limit: usize) -> Self {
        self.concurrency = Some(limit);
        self
    }

    /// Shares an existing pool, e.g. between clients built separately for the same account. The
    /// pool keeps the width its owner gave it (unless [`ClientBuilder::concurrency_limit`] is
    /// also called); `governanceLimits` is not read.
    pub fn concurrency_budget(mut self, budget: Arc<ConcurrencyBudget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Whether a client without [`ClientBuilder::concurrency_limit`] reads
    /// `GET /system/v1/governanceLimits` once, before its first request, and sizes its pool
    /// from it (default: true). When the role may not read the limits (they need an
    /// administrator role) or they name none, the pool keeps [`DEFAULT_CONCURRENCY`] slots and
    /// a warning says why; [`NetSuiteClient::pool_sizing`] tells which happened. A pool resized
    /// by its user before the first request (e.g. a share of the account's limit) keeps its
    /// width. `false` keeps [`DEFAULT_CONCURRENCY`] without reading anything.
    pub fn size_from_governance_limits(mut self, enabled: bool) -> Self {
        self.governance_sizing = enabled;
        self
    }

    /// Shares a retry budget (default: a fresh bucket of 500 tokens).
    pub fn retry_budget(mut self, budget: Arc<RetryBudget>) -> Self {
        self.retry_budget = Some(budget);
        self
    }

    /// Attempt limits (default: 4 attempts for transient failures, 12 for 429s).
    pub fn retry_limits(mut self, limits: RetryLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Backoff between retries (default: 100 ms doubling, full jitter, 10 s cap).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Timeout of one attempt, from sending to the end of the body (default 300 s; NetSuite
    /// itself cuts requests at 15 minutes).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `User-Agent` sent with every request.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Validates the configuration and builds the client.
    pub fn build(self) -> Result<NetSuiteClient, Error> {
        let endpoint = match self.base_url {
            None => {
                return Err(Error::Config(
                    "no base URL: call .account(..), .endpoint(..) or .base_url(..)".into(),
                ));
            }
            Some(BaseUrl::Endpoint(e)) => e,
            Some(BaseUrl::Text(raw)) => {
                let allow = if self.allow_http {
                    AllowHttp::Yes
                } else {
                    AllowHttp::No
                };
                Endpoint::new(&raw, allow).map_err(|e| {
                    Error::Config(format!(
                        "base URL: {e}{}",
                        if raw.starts_with("http:") {
                            " (call .allow_insecure_http(true) for local simulators)"
                        } else {
                            ""
                        }
                    ))
                })?
            }
        };
        let mut base = endpoint.rest_base_url();
        let trimmed = base.path().trim_end_matches('/').to_owned();
        base.set_path(&trimmed);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent)
            .build()?;
        let (budget, sizing) = match (self.budget, self.concurrency) {
            (Some(shared), Some(n)) => {
                shared.resize(n);
                (shared, Some(PoolSizing::Configured(n.max(1))))
            }
            (Some(shared), None) => (shared, Some(PoolSizing::Shared)),
            (None, Some(n)) => (
                ConcurrencyBudget::new(n),
                Some(PoolSizing::Configured(n.max(1))),
            ),
            (None, None) => (
                ConcurrencyBudget::new(DEFAULT_CONCURRENCY),
                (!self.governance_sizing).then(|| PoolSizing::Default {
                    reason: "sizing from governanceLimits is turned off".into(),
                }),
            ),
        };
        let resize_mark = budget.resizes();
        Ok(NetSuiteClient {
            inner: Arc::new(Inner {
                http,
                base,
                auth: self.auth,
                budget,
                retry_budget: self
                    .retry_budget
                    .unwrap_or_else(|| Arc::new(RetryBudget::new(500))),
                limits: self.limits,
                backoff: self.backoff,
                costs: RetryCosts::default(),
                sizing: tokio::sync::OnceCell::new_with(sizing),
                resize_mark,
                counters: Counters::default(),
            }),
        })
    }
}

#[derive(Debug)]
enum BaseUrl {
    Endpoint(Endpoint),
    Text(String),
}

/// One request as the client sends it, independent of the attempt.
#[derive(Debug, Clone)]
pub(crate) struct RequestSpec {
    pub method: Method,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    pub idempotency: Idempotency,
}

impl RequestSpec {
    pub fn new(method: Method, path: String, idempotency: Idempotency) -> Self {
        Self {
            method,
            path,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
            idempotency,
        }
    }

    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Result<Self, Error> {
        let v = HeaderValue::from_str(value)
            .map_err(|_| Error::InvalidRequest(format!("header {name}: invalid value")))?;
        self.headers.insert(HeaderName::from_static(name), v);
        Ok(self)
    }

    pub fn json_body<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Result<Self, Error> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::InvalidRequest(format!("cannot encode body: {e}")))?;
        self.body = Some(Bytes::from(bytes));
        self.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok(self)
    }
}

/// A successful response with its body read.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl RawResponse {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self, what: &'static str) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| Error::decode(what, e, &self.body))
    }
}

impl NetSuiteClient {
    /// Starts a builder. The authenticator is called right before every send.
    pub fn builder(auth: Arc<dyn Authenticator>) -> ClientBuilder {
        ClientBuilder {
            auth,
            base_url: None,
            allow_http: false,
            concurrency: None,
            budget: None,
            governance_sizing: true,
            retry_budget: None,
            limits: RetryLimits::default(),
            backoff: Backoff::default(),
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("netsuite-client/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// The base URL (`…/services/rest`).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The account's concurrency pool, shared by every clone.
    pub fn concurrency_budget(&self) -> &Arc<ConcurrencyBudget> {
        &self.inner.budget
    }

    /// The authentication scheme in use.
    pub fn auth_scheme(&self) -> AuthScheme {
        self.inner.auth.scheme()
    }

    /// Reads `GET /system/v1/governanceLimits` (administrator role only).
    pub async fn governance_limits(&self) -> Result<GovernanceLimits, Error> {
        let spec = RequestSpec::new(
            Method::GET,
            "/system/v1/governanceLimits".into(),
            Idempotency::Read,
        );
        self.send(spec).await?.json("governance limits")
    }

    /// Sizes the concurrency pool from `governanceLimits` now, whatever it was sized from;
    /// returns the limits that were read. Settles [`NetSuiteClient::pool_sizing`] when it was
    /// still pending.
    pub async fn size_from_governance_limits(&self) -> Result<GovernanceLimits, Error> {
        let limits = self.governance_limits().await?;
        if let Some(n) = limits.effective_limit() {
            self.inner.budget.resize(n as usize);
            let _ = self
                .inner
                .sizing
                .set(PoolSizing::GovernanceLimits { limit: n as usize });
        }
        Ok(limits)
    }

    /// How the concurrency pool got its width at build or first use; [`PoolSizing::Pending`]
    /// until the first request of a client sized from `governanceLimits` (see
    /// [`ClientBuilder::size_from_governance_limits`]). Later changes (narrowing after 429s, an
    /// engine's share, an explicit resize) show in [`ConcurrencyBudget::limit`] and
    /// [`ConcurrencyBudget::ceiling`], not here.
    pub fn pool_sizing(&self) -> PoolSizing {
        self.inner
            .sizing
            .get()
            .cloned()
            .unwrap_or(PoolSizing::Pending)
    }

    /// Sizes the pool now if it is still [`PoolSizing::Pending`] (otherwise the first request
    /// does) and says how it was sized. Never fails: an unreadable `governanceLimits` leaves
    /// [`DEFAULT_CONCURRENCY`] slots, with the reason.
    pub async fn ensure_pool_sized(&self) -> PoolSizing {
        self.inner
            .sizing
            .get_or_init(|| self.size_pool_once())
            .await
            .clone()
    }

    async fn size_pool_once(&self) -> PoolSizing {
        let budget = &self.inner.budget;
        if budget.resizes() != self.inner.resize_mark {
            return PoolSizing::Resized;
        }
        let fallback = |reason: String| {
            tracing::warn!(
                default = DEFAULT_CONCURRENCY,
                %reason,
                "NetSuite concurrency pool not sized from governanceLimits; keeping the default (set the client's concurrency limit to the account's)"
            );
            PoolSizing::Default { reason }
        };
        match self.governance_limits().await {
            Ok(limits) => match limits.effective_limit() {
                Some(n)
                    if budget.resize_unless_resized_since(self.inner.resize_mark, n as usize) =>
                {
                    tracing::info!(
                        limit = n,
                        "NetSuite concurrency pool sized from governanceLimits"
                    );
                    PoolSizing::GovernanceLimits { limit: n as usize }
                }
                Some(_) => PoolSizing::Resized,
                None => fallback("governanceLimits named no concurrency limit".into()),
            },
            Err(e) => fallback(format!("governanceLimits could not be read: {e}")),
        }
    }

    /// What the client absorbed so far (429s, retries, attempts), for every clone together.
    pub fn stats(&self) -> ClientStats {
        self.inner.counters.snapshot()
    }

    fn url(&self, spec: &RequestSpec) -> Result<Url, Error> {
        let mut s = String::with_capacity(self.inner.base.as_str().len() + spec.path.len());
        s.push_str(self.inner.base.as_str());
        s.push_str(&spec.path);
        let mut url =
            Url::parse(&s).map_err(|e| Error::InvalidRequest(format!("URL {s:?}: {e}")))?;
        if !spec.query.is_empty() {
            let mut q = String::new();
            for (i, (k, v)) in spec.query.iter().enumerate() {
                if i > 0 {
                    q.push('&');
                }
                q.push_str(k);
                q.push('=');
                q.extend(utf8_percent_encode(v, QUERY_VALUE));
            }
            url.set_query(Some(&q));
        }
        Ok(url)
    }

    /// Sends `spec` under the concurrency budget, retrying as [`decide`] allows; the first
    /// request sizes the pool first (see [`NetSuiteClient::ensure_pool_sized`]).
    pub(crate) async fn execute(&self, spec: RequestSpec) -> Result<RawResponse, Error> {
        if !self.inner.sizing.initialized() {
            self.ensure_pool_sized().await;
        }
        self.send(spec).await
    }

    /// [`NetSuiteClient::execute`] without sizing the pool.
    async fn send(&self, spec: RequestSpec) -> Result<RawResponse, Error> {
        let inner = &*self.inner;
        let counters = &inner.counters;
        let url = self.url(&spec)?;
        let mut attempt: u32 = 0;
        let mut retries: u32 = 0;
        loop {
            attempt += 1;
            let permit = inner.budget.acquire().await;
            let mut req = reqwest::Request::new(spec.method.clone(), url.clone());
            *req.headers_mut() = spec.headers.clone();
            if let Some(body) = &spec.body {
                *req.body_mut() = Some(reqwest::Body::from(body.clone()));
            }
            inner.auth.authorize(&mut req).await?;
            Counters::bump(&counters.attempts);
            let sent = inner.http.execute(req).await;
            let outcome = match sent {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    match resp.bytes().await {
                        Ok(body) => Ok((status, headers, body)),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            let (error, failure_kind): (Error, FailureKind) = match outcome {
                Ok((status, headers, body)) if status.is_success() => {
                    drop(permit);
                    inner.budget.on_success();
                    inner.retry_budget.on_success();
                    return Ok(RawResponse {
                        status,
                        headers,
                        body,
                    });
                }
                Ok((status, headers, _)) if status.is_redirection() => {
                    drop(permit);
                    let location = headers
                        .get(http::header::LOCATION)
                        .and_then(|v| v.to_str().ok())
                        .map(location_without_query);
                    tracing::warn!(path = %spec.path, status = status.as_u16(), "NetSuite answered a redirect; not followed");
                    return Err(Error::Redirect {
                        status: status.as_u16(),
                        location,
                    });
                }
                Ok((status, headers, body)) => {
                    let api = ApiError::from_response(status.as_u16(), &body);
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        Counters::bump(&counters.throttled);
                        inner.budget.on_throttled(&permit);
                    }
                    if status == StatusCode::UNAUTHORIZED {
                        inner.auth.invalidate();
                    }
                    // A reused idempotency key: the original job exists; hand its Location back.
                    if status == StatusCode::BAD_REQUEST
                        && api.code() == Some(&ErrorCode::IdempotencyError)
                        && spec.idempotency == Idempotency::AsyncWithKey
                        && headers.contains_key(http::header::LOCATION)
                    {
                        drop(permit);
                        return Ok(RawResponse {
                            status: StatusCode::ACCEPTED,
                            headers,
                            body,
                        });
                    }
                    let kind = FailureKind::Status(status.as_u16());
                    let err = if status == StatusCode::UNAUTHORIZED {
                        Error::Unauthorized {
                            scheme: inner.auth.scheme(),
                            api: Box::new(api),
                        }
                    } else {
                        Error::Api(Box::new(api))
                    };
                    (err, kind)
                }
                Err(e) => {
                    let kind = if e.is_connect() {
                        FailureKind::Connect
                    } else {
                        FailureKind::AfterSend
                    };
                    (Error::Transport(e), kind)
                }
            };
            drop(permit);
            let code = error.api().and_then(|a| a.code().cloned());
            let failure = match failure_kind {
                FailureKind::Status(status) => Failure::Status {
                    status,
                    code: code.as_ref(),
                },
                FailureKind::Connect => Failure::Connect,
                FailureKind::AfterSend => Failure::AfterSend,
            };
            match decide(
                &spec.method,
                spec.idempotency,
                failure,
                attempt,
                inner.limits,
            ) {
                Decision::Retry(kind) => {
                    let cost = match kind {
                        RetryKind::Throttled => inner.costs.throttled,
                        RetryKind::Transient => inner.costs.transient,
                        RetryKind::Reauthenticate => 0,
                    };
                    if !inner.retry_budget.try_acquire(cost) {
                        Counters::bump(&counters.retries_refused);
                        tracing::warn!(path = %spec.path, "retry budget exhausted; not retrying");
                        return Err(error);
                    }
                    Counters::bump(&counters.retries);
                    if kind == RetryKind::Throttled {
                        Counters::bump(&counters.throttled_absorbed);
                    }
                    if kind != RetryKind::Reauthenticate {
                        retries += 1;
                        let delay = inner.backoff.delay(retries, &mut rand::rng());
                        tracing::debug!(path = %spec.path, attempt, ?kind, ?delay, "retrying NetSuite request");
                        tokio::time::sleep(delay).await;
                    }
                }
                Decision::Fail => return Err(error),
                Decision::OutcomeUnknown => {
                    return Err(Error::OutcomeUnknown {
                        method: spec.method.clone(),
                        path: spec.path.clone(),
                        cause: Box::new(error),
                    });
                }
            }
        }
    }
}

enum FailureKind {
    Status(u16),
    Connect,
    AfterSend,
}

/// A `Location` value without its query, fragment or user info (which could carry secrets).
fn location_without_query(location: &str) -> String {
    match url::Url::parse(location) {
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

/// The id at the end of a `Location` header (`…/record/v1/salesOrder/123` → `123`).
pub(crate) fn last_segment(location: &str) -> Option<&str> {
    let path = location.split(['?', '#']).next().unwrap_or(location);
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
}

/// `/record/v1/{type}` or `/record/v1/{type}/{key}`, from validated pieces only.
pub(crate) fn record_path(record_type: &RecordType, key: Option<&RecordKey>) -> String {
    match key {
        Some(k) => format!("/record/v1/{}/{}", record_type.as_str(), k.path_segment()),
        None => format!("/record/v1/{}", record_type.as_str()),
    }
}

/// A JSON request body.
pub(crate) fn encode_body<T: serde::Serialize + ?Sized>(body: &T) -> Result<Bytes, Error> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|e| Error::InvalidRequest(format!("cannot encode body: {e}")))
}

/// `X-NetSuite-PropertyNameValidation: Error`, sent with every write: NetSuite's default for
/// writes is `Warning`, which drops a field the account does not have (a `subsidiary` on an
/// account without subsidiaries, a misspelt custom field) and saves the record without it. With
/// `Error` the write is refused and says which field, as the simulator always does.
pub(crate) fn strict_property_names(spec: &mut RequestSpec) {
    spec.headers.insert(
        http::header::HeaderName::from_static("x-netsuite-propertynamevalidation"),
        http::HeaderValue::from_static("Error"),
    );
}
