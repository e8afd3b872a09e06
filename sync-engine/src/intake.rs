//! Webhook intake: an HTTP endpoint that checks the shared secret, limits the body, stores the
//! delivery durably and only then answers `202 Accepted`.
//!
//! Clarus signs nothing, so the secret travels in the subscription URL (`?token=…`, see
//! `clarus_client::webhook::subscription_url`) or, when a gateway adds it, in the
//! [`TOKEN_HEADER`] header; it is compared in constant time. While the secret is being rotated,
//! the previous one is accepted as well ([`WebhookSecret::with_previous`], from
//! `CLARUS_WEBHOOK_SECRET_PREVIOUS`). Processing happens later, from the
//! store ([`crate::processor`]): a slow NetSuite never makes Clarus wait, and a crash after the
//! answer loses nothing.
//!
//! The endpoint is exposed to the internet, so it does as little as it can for a stranger:
//!
//! - the secret is checked **before the body is read**: a refused request costs no memory;
//! - only the resources the engine subscribes to ([`SYNC_SUBSCRIPTIONS`]) and [`DOCTOR_ROUTE`]
//!   are stored; any other route is answered `404` and forgotten;
//! - refusals are logged with the peer address, and a source refused more than
//!   [`IntakeLimits::refusals_per_minute`] times in a minute is answered `429` without any work;
//! - the body must arrive within [`IntakeLimits::body_timeout`] and the whole request be answered
//!   within [`IntakeLimits::request_timeout`] (`408` otherwise);
//! - served with [`serve`], at most [`IntakeLimits::max_connections`] connections are open at
//!   once and a connection that does not complete a request's headers within
//!   [`IntakeLimits::header_timeout`] (counted from its opening, or from the end of its previous
//!   request) is closed. See `docs/decisions/intake-hardening.md`.
//!
//! The same router answers probes: `GET /livez` (the process serves), `GET /health` (its older
//! name) and, when given the service's [`Health`] ([`router_with_health`]), `GET /readyz`
//! (the ledger is moving).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::IncomingStream;
use axum::{Json, Router};
use clarus_client::webhook::WebhookSecret;
use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use crate::clock::{self, SharedClock};
use crate::health::{Health, Readiness};
use crate::store::{NewDelivery, Store};
use crate::subscriptions::SYNC_SUBSCRIPTIONS;

/// The `source` of deliveries taken by this endpoint.
pub const CLARUS_WEBHOOK_SOURCE: &str = "clarus-webhook";

/// The header a gateway may carry the shared secret in, instead of `?token=` (which proxies
/// tend to log with the URL).
pub const TOKEN_HEADER: &str = "x-clarus-webhook-token";

/// The test delivery `sync doctor` posts: accepted and stored like the subscribed pairs, and
/// decoded to nothing.
pub const DOCTOR_ROUTE: (&str, &str) = ("doctor", "ping");

/// The shortest shared secret the engine starts with (see
/// [`crate::config::check_webhook_secret`]).
pub const MIN_SECRET_CHARS: usize = 32;

/// Settings of the webhook endpoint.
#[derive(Debug, Clone)]
pub struct IntakeConfig {
    /// The shared secret each delivery must present as `?token=` or in [`TOKEN_HEADER`] (the
    /// current one, or during a rotation the previous one: [`WebhookSecret::with_previous`]).
    pub secret: WebhookSecret,
    /// Largest body accepted, in bytes; larger deliveries get `413`.
    pub max_body_bytes: usize,
}

/// What the endpoint grants one client: time, connections and refusals (the `[webhook]`
/// settings, [`crate::config::WebhookSettings::intake_limits`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeLimits {
    /// Longest time a whole request may take, from its headers to the answer (`408` after).
    pub request_timeout: Duration,
    /// Longest time the body of an authenticated delivery may take to arrive (`408` after).
    pub body_timeout: Duration,
    /// Longest time a connection may take to send a request's headers, counted from its opening
    /// or from the end of its previous request; the connection is closed after it ([`serve`]).
    pub header_timeout: Duration,
    /// Connections open at once; further ones wait in the listen backlog ([`serve`]).
    pub max_connections: usize,
    /// Refused requests (wrong or missing secret, unknown route) one address may make in a
    /// minute; after them it is answered `429` without any work until the minute is over.
    pub refusals_per_minute: u32,
    /// Addresses whose refusals are counted at once (bounds the memory of the count).
    pub tracked_sources: usize,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        IntakeLimits {
            request_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            max_connections: 1024,
            refusals_per_minute: 20,
            tracked_sources: 10_000,
        }
    }
}

/// Binds the intake's listener with a listen backlog of `backlog` connections (at least 128,
/// the operating system's usual default, at most `u32::MAX`), so that a burst of connections
/// up to the connection limit waits to be accepted instead of being dropped by the kernel and
/// retried by the client a second later. Pass [`IntakeLimits::max_connections`].
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use sync_engine::intake::{bind, IntakeLimits};
///
/// let listener = bind("127.0.0.1:8080".parse().unwrap(), IntakeLimits::default().max_connections)?;
/// # drop(listener); Ok(()) }
/// ```
pub fn bind(
    addr: std::net::SocketAddr,
    backlog: usize,
) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(u32::try_from(backlog.max(128)).unwrap_or(u32::MAX))
}

#[derive(Clone)]
struct IntakeState {
    store: Arc<dyn Store>,
    clock: SharedClock,
    secret: WebhookSecret,
    max_body_bytes: usize,
    body_timeout: Duration,
    refusals: Arc<Refusals>,
}

/// The intake router: `POST /webhooks/clarus/{resource}/{event}?token=…`, and the liveness
/// probe `GET /livez` (`200 ok` while the process serves). `GET /health` is an alias of `/livez`,
/// kept for probes set up before it existed. Readiness (`/readyz`) needs the service's health:
/// see [`router_with_health`]. Uses the default [`IntakeLimits`].
pub fn router(store: Arc<dyn Store>, config: IntakeConfig) -> Router {
    router_with_limits(store, config, IntakeLimits::default(), None)
}

/// [`router`] with the readiness probe `GET /readyz`: `200` with a JSON [`Readiness`] (every
/// connection and scheduled job with its last success and failure and its failures in a row)
/// while every one is moving, `503` with the same body when any is stale or failing, so a load
/// balancer stops routing to an instance that is not moving the ledger.
pub fn router_with_health(store: Arc<dyn Store>, config: IntakeConfig, health: Health) -> Router {
    router_with_limits(store, config, IntakeLimits::default(), Some(health))
}

/// The intake router with explicit [`IntakeLimits`], and `GET /readyz` when given the
/// service's [`Health`].
pub fn router_with_limits(
    store: Arc<dyn Store>,
    config: IntakeConfig,
    limits: IntakeLimits,
    health: Option<Health>,
) -> Router {
    router_with_clock(store, config, limits, health, clock::system())
}

/// [`router_with_limits`] stamping each delivery's `received_at` with `clock` (see
/// [`crate::clock`]; the others use the system clock). The request, body and header timeouts
/// and the per-minute refusal counts stay on tokio's and the monotonic clock: they are about
/// waiting, not business time.
pub fn router_with_clock(
    store: Arc<dyn Store>,
    config: IntakeConfig,
    limits: IntakeLimits,
    health: Option<Health>,
    clock: SharedClock,
) -> Router {
    let state = IntakeState {
        store,
        clock,
        secret: config.secret,
        max_body_bytes: config.max_body_bytes,
        body_timeout: limits.body_timeout,
        refusals: Arc::new(Refusals::new(
            limits.refusals_per_minute,
            limits.tracked_sources,
        )),
    };
    let mut app = Router::new()
        .route("/webhooks/clarus/{resource}/{event}", post(receive))
        .route("/livez", get(live))
        .route("/health", get(live));
    if let Some(health) = health {
        app = app.route(
            "/readyz",
            get(move || {
                let health = health.clone();
                async move { ready(&health) }
            }),
        );
    }
    app.with_state(state).layer(middleware::from_fn_with_state(
        limits.request_timeout,
        guard_request,
    ))
}

async fn live() -> &'static str {
    "ok"
}

fn ready(health: &Health) -> (StatusCode, Json<Readiness>) {
    let readiness = health.readiness();
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness))
}

/// Every request: marks its connection busy (so [`serve`]'s header timeout does not run while
/// it is handled), exposes the peer as `ConnectInfo<SocketAddr>`, and bounds its duration.
async fn guard_request(
    State(request_timeout): State<Duration>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request.extensions().get::<ConnectInfo<Peer>>().cloned();
    let _busy = peer.as_ref().map(|ConnectInfo(peer)| {
        request.extensions_mut().insert(ConnectInfo(peer.addr));
        Busy::new(peer.connection.clone())
    });
    let path = request.uri().path().to_owned();
    let addr = peer_addr(request.extensions());
    match tokio::time::timeout(request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(peer = %Shown(addr), %path, "request not answered in time: 408");
            StatusCode::REQUEST_TIMEOUT.into_response()
        }
    }
}

fn peer_addr(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
        .or_else(|| {
            extensions
                .get::<ConnectInfo<Peer>>()
                .map(|ConnectInfo(p)| p.addr)
        })
}

/// A peer address for logs, `unknown` when the server was not given connection info.
struct Shown(Option<SocketAddr>);

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(addr) => addr.fmt(f),
            None => f.write_str("unknown"),
        }
    }
}

/// Whether a delivery on this route is stored: the doctor's ping, or exactly one of the resource
/// and event pairs the engine subscribes to ([`SYNC_SUBSCRIPTIONS`]).
fn subscribed_pair(resource: &str, event: &str) -> bool {
    (resource, event) == DOCTOR_ROUTE
        || SYNC_SUBSCRIPTIONS
            .iter()
            .any(|&(r, e)| r == resource && e == event)
}

/// Takes a delivery, counting its answer in the process's metrics.
async fn receive(
    state: State<IntakeState>,
    path: Path<(String, String)>,
    query: RawQuery,
    request: Request,
) -> StatusCode {
    let status = receive_unmetered(state, path, query, request).await;
    crate::metrics::global().webhook(status.as_u16());
    status
}

async fn receive_unmetered(
    State(state): State<IntakeState>,
    Path((resource, event)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    request: Request,
) -> StatusCode {
    let addr = peer_addr(request.extensions());
    let ip = addr.map(|a| a.ip());
    if ip.is_some_and(|ip| state.refusals.is_blocked(ip)) {
        tracing::debug!(peer = %Shown(addr), "webhook refused: too many refusals from this source");
        return StatusCode::TOO_MANY_REQUESTS;
    }
    // The secret first, from the query or the gateway's header; the body is not read yet.
    let headers = request.headers();
    let authorised = state.secret.verify_query(query.as_deref()).is_ok()
        || state.secret.verify_header(headers, TOKEN_HEADER).is_ok();
    if !authorised {
        tracing::warn!(
            peer = %Shown(addr),
            %resource,
            %event,
            "webhook refused: shared secret missing or wrong"
        );
        state.refuse(ip);
        return StatusCode::UNAUTHORIZED;
    }
    if !subscribed_pair(&resource, &event) {
        tracing::warn!(
            peer = %Shown(addr),
            %resource,
            %event,
            "webhook refused: not a subscribed resource and event"
        );
        state.refuse(ip);
        return StatusCode::NOT_FOUND;
    }
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > state.max_body_bytes as u64) {
        tracing::warn!(peer = %Shown(addr), %resource, %event, "webhook refused: body too large");
        return StatusCode::PAYLOAD_TOO_LARGE;
    }
    let kept = kept_headers(&resource, &event, headers);
    let read = axum::body::to_bytes(request.into_body(), state.max_body_bytes);
    let body = match tokio::time::timeout(state.body_timeout, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => {
            let too_large = e.to_string().contains("length limit");
            tracing::warn!(
                peer = %Shown(addr),
                %resource,
                %event,
                error = %e,
                "webhook refused: body unreadable or too large"
            );
            return if too_large {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
        }
        Err(_) => {
            tracing::warn!(
                peer = %Shown(addr),
                %resource,
                %event,
                "webhook refused: body not received in time"
            );
            return StatusCode::REQUEST_TIMEOUT;
        }
    };
    let delivery = NewDelivery {
        source: CLARUS_WEBHOOK_SOURCE.into(),
        received_at: state.clock.now(),
        headers: kept,
        body: body.to_vec(),
    };
    match state.store.record_delivery(delivery).await {
        Ok(id) => {
            tracing::debug!(id, %resource, %event, "webhook stored");
            StatusCode::ACCEPTED
        }
        Err(e) => {
            // Not stored: ask Clarus to deliver again rather than pretend.
            tracing::error!(error = %e, "webhook could not be stored");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

impl IntakeState {
    fn refuse(&self, ip: Option<IpAddr>) {
        if let Some(ip) = ip
            && self.refusals.record(ip)
        {
            tracing::warn!(
                peer = %ip,
                limit = self.refusals.per_minute,
                "webhook source refused too often: answered 429 for the rest of the minute"
            );
        }
    }
}

/// The route and the identifying `X-ClarusWMS-*` headers; nothing that could carry a credential.
fn kept_headers(resource: &str, event: &str, headers: &HeaderMap) -> Value {
    let mut kept = Map::new();
    kept.insert("resource_name".into(), resource.into());
    kept.insert("event".into(), event.into());
    for (name, value) in headers {
        let name = name.as_str();
        if name.starts_with("x-claruswms-")
            && let Ok(value) = value.to_str()
        {
            kept.insert(name.into(), value.into());
        }
    }
    Value::Object(kept)
}

// ------------------------------------------------------------------ refusals per source

const WINDOW: Duration = Duration::from_secs(60);

/// Refusals per address in the current minute, at most `capacity` addresses.
struct Refusals {
    per_minute: u32,
    capacity: usize,
    counts: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Refusals {
    fn new(per_minute: u32, capacity: usize) -> Self {
        Refusals {
            per_minute,
            capacity: capacity.max(1),
            counts: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (Instant, u32)>> {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn is_blocked(&self, ip: IpAddr) -> bool {
        self.lock()
            .get(&ip)
            .is_some_and(|&(since, n)| since.elapsed() < WINDOW && n >= self.per_minute)
    }

    /// Counts one refusal; true when it is the one that reaches the limit.
    fn record(&self, ip: IpAddr) -> bool {
        let mut counts = self.lock();
        if !counts.contains_key(&ip) && counts.len() >= self.capacity {
            counts.retain(|_, (since, _)| since.elapsed() < WINDOW);
            if counts.len() >= self.capacity {
                // Still full of live counts: forget the oldest window.
                if let Some(oldest) = counts
                    .iter()
                    .min_by_key(|(_, (since, _))| *since)
                    .map(|(ip, _)| *ip)
                {
                    counts.remove(&oldest);
                }
            }
        }
        let now = Instant::now();
        let entry = counts.entry(ip).or_insert((now, 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 == self.per_minute
    }
}

// ------------------------------------------------------------------ serving

/// Serves the intake `router` on `listener` until `shutdown` completes, then stops gracefully:
/// with the peer address of every request (`ConnectInfo<SocketAddr>`), at most
/// `limits.max_connections` connections at once, and each connection closed when it does not
/// complete a request's headers within `limits.header_timeout`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &IntakeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = GuardedListener {
        listener,
        permits: Arc::new(Semaphore::new(limits.max_connections.max(1))),
        max_connections: limits.max_connections.max(1),
        header_timeout: limits.header_timeout,
        at_limit: false,
    };
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<Peer>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves any `router` as [`serve`] serves the intake's: at most `limits.max_connections`
/// connections, each closed when it does not complete a request's headers within
/// `limits.header_timeout`, each request answered `408` after `limits.request_timeout`, and the
/// peer address as `ConnectInfo<SocketAddr>`. The operations console is served this way.
pub async fn serve_guarded(
    listener: TcpListener,
    router: Router,
    limits: &IntakeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let router = router.layer(middleware::from_fn_with_state(
        limits.request_timeout,
        guard_request,
    ));
    serve(listener, router, limits, shutdown).await
}

/// A TCP listener that holds a permit per open connection.
struct GuardedListener {
    listener: TcpListener,
    permits: Arc<Semaphore>,
    max_connections: usize,
    header_timeout: Duration,
    at_limit: bool,
}

impl axum::serve::Listener for GuardedListener {
    type Io = GuardedIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if !self.at_limit {
                    self.at_limit = true;
                    tracing::warn!(
                        limit = self.max_connections,
                        "webhook intake at its connection limit; new connections wait"
                    );
                }
                match self.permits.clone().acquire_owned().await {
                    Ok(permit) => permit,
                    // Never closed; wait for shutdown.
                    Err(_) => std::future::pending().await,
                }
            }
        };
        self.at_limit = false;
        loop {
            match self.listener.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    let io = GuardedIo {
                        stream,
                        _permit: permit,
                        connection: Arc::new(Connection::default()),
                        header_timeout: self.header_timeout,
                        deadline: Box::pin(tokio::time::sleep(self.header_timeout)),
                        was_busy: false,
                    };
                    return (io, addr);
                }
                Err(e) => {
                    // Out of descriptors and the like: wait a little rather than spin.
                    tracing::error!(error = %e, "webhook intake could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// Requests of one connection being handled.
#[derive(Debug, Default)]
struct Connection {
    busy: AtomicUsize,
}

/// Marks a connection busy while it lives.
struct Busy(Arc<Connection>);

impl Busy {
    fn new(connection: Arc<Connection>) -> Self {
        connection.busy.fetch_add(1, Ordering::AcqRel);
        Busy(connection)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What a request knows of its connection when served by [`serve`].
#[derive(Debug, Clone)]
struct Peer {
    addr: SocketAddr,
    connection: Arc<Connection>,
}

impl Connected<IncomingStream<'_, GuardedListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, GuardedListener>) -> Self {
        Peer {
            addr: *stream.remote_addr(),
            connection: stream.io().connection.clone(),
        }
    }
}

/// A connection that fails its reads once it has been idle (no request being handled) for
/// longer than the header timeout, and releases its permit when closed.
struct GuardedIo {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    connection: Arc<Connection>,
    header_timeout: Duration,
    deadline: Pin<Box<Sleep>>,
    was_busy: bool,
}

impl AsyncRead for GuardedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.connection.busy.load(Ordering::Acquire) > 0 {
            // A request is being handled: its body has its own timeout.
            this.was_busy = true;
            return Pin::new(&mut this.stream).poll_read(cx, buf);
        }
        if this.was_busy {
            this.was_busy = false;
            let next = Instant::now() + this.header_timeout;
            this.deadline.as_mut().reset(next);
        }
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "request headers not received in time",
                ))),
                Poll::Pending => Poll::Pending,
            },
            ready => ready,
        }
    }
}

impl AsyncWrite for GuardedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_block_after_the_limit_and_stay_bounded() {
        let r = Refusals::new(3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(!r.record(a));
        assert!(!r.record(a));
        assert!(!r.is_blocked(a));
        assert!(r.record(a));
        assert!(r.is_blocked(a));
        for i in 2..10 {
            r.record(IpAddr::from([10, 0, 0, i]));
        }
        assert!(r.lock().len() <= 2);
    }

    #[test]
    fn subscribed_routes_and_the_doctor_ping_are_known() {
        assert!(subscribed_pair("goods_out", "completed"));
        assert!(subscribed_pair("doctor", "ping"));
        assert!(!subscribed_pair("anything", "anything"));
        assert!(!subscribed_pair("doctor", "anything"));
        assert!(subscribed_pair("stock", "positively_adjusted"));
        assert!(!subscribed_pair("stock", "received"));
    }
}
