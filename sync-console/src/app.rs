//! The console's state, routes, the signed-in extractors and sign-in itself.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use sync_engine::clock::SharedClock;
use sync_engine::health::Health;
use sync_engine::store::Store;
use tokio::sync::Semaphore;

use crate::auth::Users;
use crate::layout;
use crate::mode::EngineProbe;
use crate::session::{Session, Sessions, cookie_value};
pub(crate) use crate::signed::Signed;
use crate::throttle::Throttle;
use crate::{ConsoleError, ConsoleOptions, Links};

/// The content security policy of every answer: nothing but the console's own style sheet.
pub(crate) const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                               form-action 'self'; frame-ancestors 'none'";
/// Largest form accepted.
pub(crate) const MAX_FORM_BYTES: usize = 256 * 1024;
/// Sign-ins checked at once (argon2 is slow and memory-hungry on purpose).
const CONCURRENT_VERIFICATIONS: usize = 2;
/// How long a sign-in form stays valid.
pub(crate) const SIGN_IN_FORM_TTL: SignedDuration = SignedDuration::from_hours(1);

pub(crate) struct App {
    pub store: Arc<dyn Store>,
    pub users: Users,
    pub sessions: Sessions,
    pub throttle: Throttle,
    pub links: Links,
    pub health: Option<Health>,
    pub probe: EngineProbe,
    pub clock: SharedClock,
    pub time_zone: TimeZone,
    pub close_rules: sync_engine::close::CloseRules,
    pub metrics_token: std::sync::OnceLock<String>,
    pub(crate) verifying: Semaphore,
    pub(crate) requests: Arc<Semaphore>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, options: ConsoleOptions) -> Result<App, ConsoleError> {
        if options.users.is_empty() {
            return Err(ConsoleError::NoUsers);
        }
        let key = match options.session_key {
            Some(key) => key,
            None => {
                let bytes: [u8; 32] = rand::random();
                sync_engine::console_settings::SessionKey::new(bytes.to_vec())
                    .expect("32 bytes is long enough")
            }
        };
        Ok(App {
            store,
            users: Users::new(&options.users)?,
            sessions: Sessions::new(key, options.session_ttl, options.secure_cookies),
            throttle: Throttle::new(
                options.failures_per_user,
                options.failures_per_address,
                options.throttle_window,
            ),
            links: options.links,
            health: options.health,
            probe: options.probe,
            clock: options.clock,
            time_zone: options.time_zone,
            close_rules: options.close_rules,
            metrics_token: std::sync::OnceLock::new(),
            verifying: Semaphore::new(CONCURRENT_VERIFICATIONS),
            requests: Arc::new(Semaphore::new(options.max_requests.max(1))),
        })
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Whether actions may be taken now (an engine runs on the store).
    pub async fn live(&self) -> bool {
        self.probe.engine_running(&*self.store, self.now()).await
    }
}

pub(crate) use crate::layout::html;

pub(crate) fn session_of(app: &App, headers: &HeaderMap) -> Option<Session> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let value = cookie_value(cookies, app.sessions.cookie_name())?;
    app.sessions.verify(value, app.now())
}

impl FromRequestParts<Arc<App>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let signed = session_of(app, &parts.headers).and_then(|session| {
            let user = app.users.get(&session.user)?.clone();
            let csrf = app.sessions.csrf(&session);
            Some(Signed {
                user,
                session,
                csrf,
            })
        });
        signed.ok_or_else(|| Redirect::to("/sign-in").into_response())
    }
}

/// Fields of a submitted form, in order (a name may repeat).
#[derive(Debug, Default)]
pub(crate) struct FormFields(pub Vec<(String, String)>);

impl FormFields {
    pub fn parse(body: &[u8]) -> FormFields {
        FormFields(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A form posted by a signed-in person with their session's CSRF token. Without a session:
/// a redirect to sign-in; with a missing or wrong token: `403`.
pub(crate) struct Posted {
    pub signed: Signed,
    pub form: FormFields,
}

impl FromRequest<Arc<App>> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request<Body>, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, app).await?;
        let body = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
        let form = FormFields::parse(&body);
        if !app
            .sessions
            .check_csrf(&signed.session, form.get("csrf").unwrap_or(""))
        {
            return Err(csrf_refused());
        }
        Ok(Posted { signed, form })
    }
}

pub(crate) fn csrf_refused() -> Response {
    html(
        StatusCode::FORBIDDEN,
        layout::bare(
            "Form refused",
            "The form was not sent from this console's page (its security token is missing or \
             belongs to another session). Open the page again and resend.",
        ),
    )
}
