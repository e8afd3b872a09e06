//! The console's routes: every page and form, the metrics, signing in and out, and the
//! middleware around them (request limit, security headers).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tokio::sync::Semaphore;

use crate::app::{
    App, CSP, FormFields, MAX_FORM_BYTES, Posted, SIGN_IN_FORM_TTL, Signed, csrf_refused, html,
    session_of,
};
use crate::layout;
use crate::pages;
use crate::session::Session;

pub(crate) fn router(app: Arc<App>) -> Router {
    let requests = app.requests.clone();
    Router::new()
        .route("/", get(pages::home::page))
        .route("/exceptions", get(pages::exceptions::list))
        .route(
            "/exceptions/bulk-resolve",
            post(crate::pages::actions::bulk_resolve),
        )
        .route("/exceptions/{key}", get(pages::exceptions::detail))
        .route(
            "/exceptions/{key}/retry",
            post(crate::pages::actions::retry),
        )
        .route(
            "/exceptions/{key}/resolve",
            post(crate::pages::actions::resolve),
        )
        .route(
            "/exceptions/{key}/assign",
            post(crate::pages::actions::assign),
        )
        .route("/documents", get(pages::documents::page))
        .route("/drift", get(pages::drift::page))
        .route("/close", get(pages::close::page))
        .route("/close.csv", get(pages::close::csv))
        .route("/runbook/{anchor}", get(pages::runbook::page))
        .route("/metrics", get(metrics))
        .route("/sign-in", get(sign_in_form).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/static/console.css", get(style_sheet))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(move |request, next| {
            limit(requests.clone(), request, next)
        }))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(app)
}

async fn limit(requests: Arc<Semaphore>, request: Request, next: Next) -> Response {
    match requests.try_acquire_owned() {
        Ok(_permit) => next.run(request).await,
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "busy; try again").into_response(),
    }
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn style_sheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../static/console.css"),
    )
        .into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(layout::bare("Not found", "There is no such page.").into_string()),
    )
        .into_response()
}

/// `/metrics`: for a signed-in person, or a scraper presenting the metrics token as a bearer
/// token.
async fn metrics(State(app): State<Arc<App>>, mut parts: Parts) -> Response {
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let allowed = match (bearer.as_deref(), app.metrics_token.get()) {
        (Some(given), Some(token)) => {
            use subtle::ConstantTimeEq as _;
            bool::from(given.as_bytes().ct_eq(token.as_bytes()))
        }
        (Some(_), None) => false,
        (None, _) => Signed::from_request_parts(&mut parts, &app).await.is_ok(),
    };
    if !allowed {
        return match bearer {
            Some(_) => StatusCode::UNAUTHORIZED.into_response(),
            None => Redirect::to("/sign-in").into_response(),
        };
    }
    match sync_engine::metrics::render(&*app.store, sync_engine::metrics::global(), app.now()).await
    {
        Ok(text) => (
            [(header::CONTENT_TYPE, sync_engine::metrics::CONTENT_TYPE)],
            text,
        )
            .into_response(),
        Err(e) => pages::store_failed(e),
    }
}

// ------------------------------------------------------------------ sign-in and sign-out

fn pre_session(app: &App, headers: &HeaderMap) -> Option<Session> {
    session_of(app, headers).filter(|s| s.user.is_empty())
}

async fn sign_in_form(State(app): State<Arc<App>>) -> Response {
    let (session, value) = app.sessions.issue_for("", app.now(), SIGN_IN_FORM_TTL);
    let mut response = html(
        StatusCode::OK,
        pages::signin::form(&app.sessions.csrf(&session), None),
    );
    set_cookie(
        &mut response,
        &app.sessions.set_cookie(&value, SIGN_IN_FORM_TTL),
    );
    response
}

fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

fn peer(request_parts: &Option<ConnectInfo<SocketAddr>>) -> IpAddr {
    request_parts
        .as_ref()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip())
}

async fn sign_in(State(app): State<Arc<App>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let connect = parts.extensions.get::<ConnectInfo<SocketAddr>>().cloned();
    let Ok(body) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let Some(pre) = pre_session(&app, &headers) else {
        return csrf_refused();
    };
    let csrf = app.sessions.csrf(&pre);
    let form = FormFields::parse(&body);
    if !app
        .sessions
        .check_csrf(&pre, form.get("csrf").unwrap_or(""))
    {
        return csrf_refused();
    }
    let name = form.get("name").unwrap_or("").trim().to_owned();
    let password = form.get("password").unwrap_or("").to_owned();
    let address = peer(&connect);
    let now = app.now();
    if !app.throttle.allows(&name, address, now) {
        tracing::warn!(%address, "console sign-in throttled");
        return html(
            StatusCode::TOO_MANY_REQUESTS,
            pages::signin::form(
                &csrf,
                Some("Too many failed sign-ins. Wait a few minutes before trying again."),
            ),
        );
    }
    let verified = {
        let _slot = app.verifying.acquire().await;
        let checker = app.clone();
        let (n, p) = (name.clone(), password);
        tokio::task::spawn_blocking(move || checker.users.verify(&n, &p).cloned())
            .await
            .ok()
            .flatten()
    };
    let Some(user) = verified else {
        app.throttle.failed(&name, address, now);
        tracing::info!(%address, "console sign-in refused");
        return html(
            StatusCode::UNAUTHORIZED,
            pages::signin::form(&csrf, Some("Wrong name or password.")),
        );
    };
    app.throttle.succeeded(&user.name);
    app.sessions.revoke(&pre, now);
    let (_, value) = app.sessions.issue(&user.name, now);
    tracing::info!(user = %user.name, role = %user.role, "console sign-in");
    let mut response = Redirect::to("/").into_response();
    set_cookie(
        &mut response,
        &app.sessions.set_cookie(&value, app.sessions.ttl()),
    );
    response
}

async fn sign_out(State(app): State<Arc<App>>, posted: Posted) -> Response {
    app.sessions.revoke(&posted.signed.session, app.now());
    tracing::info!(user = %posted.signed.user.name, "console sign-out");
    let mut response = Redirect::to("/sign-in").into_response();
    set_cookie(&mut response, &app.sessions.clear_cookie());
    response
}
