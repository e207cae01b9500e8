//! The admin routes of rounds: upload a master list as a draft (`POST /admin/rounds`),
//! review drafts, publish one (`POST /admin/rounds/{draft}/publish`), the published
//! versions and `POST /admin/rollback/{number}`, and the audit log. The work — storing
//! files, loading, swapping the snapshot — is done by a [`RoundStore`] the binary installs
//! when a data directory is configured; this module checks the caller, reads the request
//! and answers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::response::Response;
use serde_json::Value;

use super::auth::Admin;
use super::{data_response, json_response, AppState, GEOJSON, JSON};
use crate::error::ApiError;

/// A master list posted to `POST /admin/rounds`, with what the form says of it.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    /// The file's name as sent (its extension says CSV or XLSX).
    pub file_name: String,
    /// The file.
    pub bytes: Vec<u8>,
    /// The round id (`2020-01-31`, `113`).
    pub round: String,
    /// The round's label ("Round 113").
    pub label: Option<String>,
    /// The date the figures are for (`YYYY-MM-DD`).
    pub date: Option<String>,
    /// Who collected the figures.
    pub source: Option<String>,
    /// Whether the figures are illustrative (synthetic) rather than collected.
    pub illustrative: bool,
    /// Skip rows in error with a warning instead of refusing the list.
    pub skip_bad_rows: bool,
}

/// Why a round operation did not happen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RoundsError {
    /// No such draft or version (404).
    #[error("{0}")]
    NotFound(String),
    /// The request cannot be used as it is: a bad round id, a file that cannot be read (422).
    #[error("{0}")]
    Invalid(String),
    /// The state forbids it: a draft with errors, a round already published (409).
    #[error("{0}")]
    Conflict(String),
    /// Something failed on the server's side (500; logged).
    #[error("{0}")]
    Failed(String),
}

impl From<RoundsError> for ApiError {
    fn from(e: RoundsError) -> ApiError {
        match e {
            RoundsError::NotFound(m) => ApiError::NotFound(m),
            RoundsError::Invalid(m) => ApiError::Unprocessable(m),
            RoundsError::Conflict(m) => ApiError::Conflict(m),
            RoundsError::Failed(m) => ApiError::Internal(m),
        }
    }
}

/// The answer of a round operation, later.
pub type Pending<T> = Pin<Box<dyn Future<Output = Result<T, RoundsError>> + Send + 'static>>;

/// Drafts, versions and the audit log, kept on disk by the binary's implementation. Every
/// answer is JSON, as the admin routes send it. Publishes and rollbacks never interleave.
pub trait RoundStore: Send + Sync + 'static {
    /// Stores an upload, loads it with the live data and answers the draft (report, diff).
    fn upload(&self, state: Arc<AppState>, upload: Upload, user: String) -> Pending<Value>;
    /// The drafts waiting, newest first.
    fn drafts(&self) -> Pending<Value>;
    /// One draft with its report and diff.
    fn draft(&self, id: String) -> Pending<Value>;
    /// The draft's figures as GeoJSON (its layer's features with the new round's counts).
    fn preview(&self, id: String) -> Pending<Vec<u8>>;
    /// Throws a draft away.
    fn discard(&self, id: String, user: String) -> Pending<Value>;
    /// Publishes a draft: a new version, served at once.
    fn publish(&self, state: Arc<AppState>, id: String, user: String) -> Pending<Value>;
    /// The published versions, newest first, and which one is served.
    fn versions(&self) -> Pending<Value>;
    /// Serves an earlier version again.
    fn rollback(&self, state: Arc<AppState>, number: u64, user: String) -> Pending<Value>;
    /// The last lines of the audit log, newest first.
    fn audit_tail(&self, lines: usize) -> Pending<Value>;
    /// Appends one line to the audit log.
    fn audit(&self, action: &str, user: &str, details: Value);
    /// The version being served, when one was published.
    fn current_version(&self) -> Option<u64>;
}

/// Lines of the audit log `GET /admin/audit` gives.
pub const AUDIT_LINES: usize = 200;

fn store(state: &AppState) -> Result<Arc<dyn RoundStore>, ApiError> {
    state.rounds.get().cloned().ok_or_else(|| {
        ApiError::Unavailable(
            "rounds cannot be published: set admin.data_dir (or DTMAP_DATA_DIR) and restart".into(),
        )
    })
}

/// Runs a store operation on its own task, so that a client going away (or the request
/// timeout) never leaves a publish half done.
async fn finish<T: Send + 'static>(pending: Pending<T>) -> Result<T, ApiError> {
    tokio::spawn(pending)
        .await
        .map_err(|e| ApiError::Internal(format!("a round operation stopped: {e}")))?
        .map_err(ApiError::from)
}

fn json(value: Value) -> Response {
    json_response(&value, JSON)
}

/// `POST /admin/rounds` (multipart): `file`, `round`, `label`, `date`, `source`,
/// `illustrative`, `skipBadRows`. 201 with the draft; 413 over `admin.max_upload_mb`.
pub async fn upload(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    let store = store(&state)?;
    let limit = state.settings().max_upload_bytes;
    let mut upload = Upload::default();
    let mut total = 0usize;
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("bad multipart body: {e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| ApiError::bad_request(format!("bad multipart body: {e}")))?
        {
            total += chunk.len();
            if total > limit {
                return Err(ApiError::TooLarge(format!(
                    "the upload is over {} MiB (admin.max_upload_mb)",
                    limit / (1024 * 1024)
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = || String::from_utf8_lossy(&bytes).trim().to_string();
        let flag = |t: String| matches!(t.as_str(), "true" | "on" | "1" | "yes");
        match name.as_str() {
            "file" => {
                upload.file_name = file_name.unwrap_or_else(|| "master-list.csv".into());
                upload.bytes = bytes;
            }
            "round" => upload.round = text(),
            "label" => upload.label = Some(text()).filter(|t| !t.is_empty()),
            "date" => upload.date = Some(text()).filter(|t| !t.is_empty()),
            "source" => upload.source = Some(text()).filter(|t| !t.is_empty()),
            "illustrative" => upload.illustrative = flag(text()),
            "skipBadRows" => upload.skip_bad_rows = flag(text()),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown form field {other:?}; the fields are file, round, label, date, \
                     source, illustrative, skipBadRows"
                )))
            }
        }
    }
    if upload.bytes.is_empty() {
        return Err(ApiError::bad_request(
            "no file: send the master list as `file`",
        ));
    }
    let draft = finish(store.upload(state.clone(), upload, admin.user)).await?;
    let mut response = json(draft);
    *response.status_mut() = axum::http::StatusCode::CREATED;
    Ok(response)
}

/// `GET /admin/drafts`
pub async fn drafts(State(state): State<Arc<AppState>>, _: Admin) -> Result<Response, ApiError> {
    Ok(json(finish(store(&state)?.drafts()).await?))
}

/// `GET /admin/drafts/{draft}`
pub async fn draft(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(json(finish(store(&state)?.draft(id)).await?))
}

/// `GET /admin/drafts/{draft}/preview`: GeoJSON of the draft's figures.
pub async fn preview(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let bytes = finish(store(&state)?.preview(id)).await?;
    Ok(data_response(bytes, GEOJSON))
}

/// `POST /admin/drafts/{draft}/discard`
pub async fn discard(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(json(finish(store(&state)?.discard(id, admin.user)).await?))
}

/// `POST /admin/rounds/{draft}/publish`: 200 with the new version; 409 when the draft has
/// errors or its round is already published.
pub async fn publish(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let store = store(&state)?;
    Ok(json(
        finish(store.publish(state.clone(), id, admin.user)).await?,
    ))
}

/// `GET /admin/versions`
pub async fn versions(State(state): State<Arc<AppState>>, _: Admin) -> Result<Response, ApiError> {
    Ok(json(finish(store(&state)?.versions()).await?))
}

/// `POST /admin/rollback/{number}`
pub async fn rollback(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let number: u64 = number
        .parse()
        .map_err(|_| ApiError::bad_request(format!("{number:?} is not a version number")))?;
    let store = store(&state)?;
    Ok(json(
        finish(store.rollback(state.clone(), number, admin.user)).await?,
    ))
}

/// `GET /admin/audit`: the last [`AUDIT_LINES`] lines, newest first.
pub async fn audit(State(state): State<Arc<AppState>>, _: Admin) -> Result<Response, ApiError> {
    Ok(json(finish(store(&state)?.audit_tail(AUDIT_LINES)).await?))
}
