//! `POST /admin/reload`: reloads the config and the data on request, behind a bearer token
//! (`[server] admin_token` or `DTMAP_ADMIN_TOKEN`). Without a token configured the route
//! does not exist (404). The reload itself reads files, so it is done by a [`Reloader`]
//! the binary installs; this module only checks the caller and reports the outcome.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;

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

/// `POST /admin/reload` with `Authorization: Bearer <token>`: 200 with the outcome when the
/// new data is served, 422 with the report when it was refused.
pub async fn reload(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(token) = state.settings().admin_token.clone() else {
        return Err(ApiError::not_found(
            "no such resource; see /api for the endpoints",
        ));
    };
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if !given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
        return Err(ApiError::Unauthorized(
            "a valid bearer token is needed (Authorization: Bearer …)".into(),
        ));
    }
    let Some(reloader) = state.reloader.get().cloned() else {
        return Err(ApiError::Unavailable(
            "this server cannot reload (it was not started from files)".into(),
        ));
    };
    let outcome = reloader.reload(state.clone()).await;
    let mut response = json_response(&serde_json::to_value(&outcome).unwrap_or_default(), JSON);
    if !outcome.applied {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// Compares without returning early, so the time taken says nothing about the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
