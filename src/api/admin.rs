//! The admin area's own routes: the page (`/admin`), logging in and out, and
//! `POST /admin/reload`, which reloads the config and the data. Callers are checked by
//! [`super::auth`]; without a token or a user configured no admin route exists (404). The
//! reload itself reads files, so it is done by a [`Reloader`] the binary installs; this
//! module only checks the caller and reports the outcome.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::{self, Admin};
use super::{json_response, AppState, JSON};
use crate::error::ApiError;

/// What a reload did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReloadOutcome {
    /// Whether the new config and data are now served.
    pub applied: bool,
    /// The data version served after the reload (hex).
    pub data_version: String,
    /// Errors in the new data (any error refuses the reload).
    pub errors: usize,
    /// Warnings in the new data.
    pub warnings: usize,
    /// The load report, or why the config could not be read.
    pub report: String,
    /// Settings that changed but take effect only after a restart.
    pub needs_restart: Vec<String>,
}

/// Reloads the config and the data and swaps them in whole, or refuses them.
pub trait Reloader: Send + Sync + 'static {
    /// Runs one reload; reloads never interleave.
    fn reload(
        &self,
        state: Arc<AppState>,
    ) -> Pin<Box<dyn Future<Output = ReloadOutcome> + Send + 'static>>;
}

/// `POST /admin/reload` (bearer token or session): 200 with the outcome when the new data
/// is served, 422 with the report when it was refused.
pub async fn reload(
    State(state): State<Arc<AppState>>,
    admin: Admin,
) -> Result<Response, ApiError> {
    let Some(reloader) = state.reloader.get().cloned() else {
        return Err(ApiError::Unavailable(
            "this server cannot reload (it was not started from files)".into(),
        ));
    };
    let outcome = reloader.reload(state.clone()).await;
    if let Some(store) = state.rounds.get() {
        store.audit(
            "reload",
            &admin.user,
            serde_json::json!({ "applied": outcome.applied, "dataVersion": outcome.data_version }),
        );
    }
    let mut response = json_response(&serde_json::to_value(&outcome).unwrap_or_default(), JSON);
    if !outcome.applied {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// The body of `POST /admin/login`.
#[derive(Debug, Deserialize)]
struct Login {
    user: String,
    password: String,
}

/// Longest user name or password looked at (longer ones fail without hashing).
const MAX_CREDENTIAL_CHARS: usize = 1024;

/// `POST /admin/login` with `{"user": …, "password": …}`: sets the session cookie and
/// answers the user and the CSRF token; 401 on a wrong name or password (audited), 429
/// after too many failures of the user or the address.
pub async fn login(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let settings = state.settings();
    auth::require_admin_area(&settings)?;
    let (parts, body) = request.into_parts();
    let address = auth::client_address(&parts);
    let bytes = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map_err(|_| ApiError::bad_request("the login body is too large"))?;
    let login: Login = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(format!("send JSON {{\"user\": …, \"password\": …}}: {e}"))
    })?;
    let user: String = login.user.chars().take(64).collect();
    if state.auth.login_blocked(&user, &address) {
        audit(&state, "login_refused", &user, &address);
        return Err(ApiError::TooManyRequests(
            "too many failed logins; wait a few minutes".into(),
        ));
    }
    let hash = settings
        .admin_users
        .iter()
        .find(|(name, _)| *name == user)
        .map(|(_, hash)| hash.clone());
    let password = login.password;
    let ok = if password.len() > MAX_CREDENTIAL_CHARS || login.user.len() > 64 {
        false
    } else {
        // Slow on purpose; an unknown user pays the same as a known one.
        tokio::task::spawn_blocking(move || {
            let known = hash.is_some();
            let hash = hash.unwrap_or_else(|| UNKNOWN_USER_HASH.to_string());
            auth::verify_password(&hash, &password) && known
        })
        .await
        .unwrap_or(false)
    };
    if !ok {
        state.auth.login_failed(&user, &address);
        audit(&state, "login_failed", &user, &address);
        return Err(ApiError::Unauthorized("wrong user name or password".into()));
    }
    state.auth.login_succeeded(&user);
    audit(&state, "login", &user, &address);
    let (cookie, csrf) = state.auth.new_session(&settings, &user);
    let mut response = json_response(&serde_json::json!({ "user": user, "csrf": csrf }), JSON);
    let secure = if settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{}={cookie}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        auth::SESSION_COOKIE,
        settings.session_secs
    );
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// A hash no password is known for: what an unknown user name is checked against.
const UNKNOWN_USER_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ";

fn audit(state: &AppState, action: &str, user: &str, address: &str) {
    match state.rounds.get() {
        Some(store) => store.audit(action, user, serde_json::json!({ "address": address })),
        None => tracing::warn!(action, user, address, "admin login"),
    }
}

/// `POST /admin/logout`: clears the session cookie.
pub async fn logout(_: Admin) -> Response {
    let mut response = json_response(&serde_json::json!({ "loggedOut": true }), JSON);
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("dtmap_admin=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

/// `GET /admin/session`: who is logged in, and the CSRF token of their changes.
pub async fn session(admin: Admin) -> Response {
    json_response(
        &serde_json::json!({ "user": admin.user, "csrf": admin.csrf }),
        JSON,
    )
}

/// `GET /admin`: the admin page (a login form until logged in; it holds no data).
pub async fn page(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    auth::require_admin_area(&state.settings())?;
    let snapshot = state.current();
    let mut response =
        axum::response::Html(crate::web::admin_html(&super::web::bootstrap(&snapshot)))
            .into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    Ok(response)
}
