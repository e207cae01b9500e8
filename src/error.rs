//! `ApiError`, the one place where errors become HTTP responses. User errors say exactly
//! what was wrong (OGC exception JSON: `code` + `description`); internal errors say little
//! to the client and are logged.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Seconds a client is asked to wait after a 503.
pub const RETRY_AFTER_SECS: &str = "2";

/// Seconds a client is asked to wait after too many failed logins.
pub const LOGIN_RETRY_AFTER_SECS: &str = "60";

/// An error answered to an API client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A parameter or body is wrong (400).
    #[error("{0}")]
    BadRequest(String),
    /// No such collection, feature, round, route (404).
    #[error("{0}")]
    NotFound(String),
    /// The request body or geometry is over a documented limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// The client asked for a representation dtmap does not produce (406).
    #[error("{0}")]
    NotAcceptable(String),
    /// The method is not one the resource answers (405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The request target is over the documented limit (414).
    #[error("{0}")]
    UriTooLong(String),
    /// The request headers are over the documented limit (431).
    #[error("{0}")]
    HeadersTooLarge(String),
    /// The server is too busy, or the work ran past its deadline (503 with `Retry-After`).
    #[error("{0}")]
    Unavailable(String),
    /// Not allowed without valid credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Credentials are valid but the request may not be made this way: a cookie-authenticated
    /// change without its CSRF token, or from another origin (403).
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with the state: a draft with errors, a round already published,
    /// another publish running (409).
    #[error("{0}")]
    Conflict(String),
    /// The body was understood but cannot be used: an upload that does not load (422).
    #[error("{0}")]
    Unprocessable(String),
    /// Too many attempts, e.g. failed logins (429 with `Retry-After`).
    #[error("{0}")]
    TooManyRequests(String),
    /// A bug or an unexpected failure (500); the message is logged, not sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 error.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest(message.into())
    }

    /// A 404 error.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::NotFound(message.into())
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "InvalidParameterValue"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "NotFound"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge"),
            ApiError::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, "NotAcceptable"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
            ApiError::UriTooLong(_) => (StatusCode::URI_TOO_LONG, "URITooLong"),
            ApiError::HeadersTooLarge(_) => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "RequestHeaderFieldsTooLarge",
            ),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "Unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "Forbidden"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "Conflict"),
            ApiError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable"),
            ApiError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "TooManyRequests"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "ServerError"),
        }
    }
}

impl From<crate::query::QueryError> for ApiError {
    fn from(e: crate::query::QueryError) -> ApiError {
        match e.kind {
            crate::query::QueryErrorKind::BadRequest => ApiError::BadRequest(e.message),
            crate::query::QueryErrorKind::TooLarge => ApiError::TooLarge(e.message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let description = match &self {
            ApiError::Internal(message) => {
                tracing::error!(%message, "internal error");
                "internal server error".to_string()
            }
            other => other.to_string(),
        };
        let body = json!({ "code": code, "description": description });
        let mut response = (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::TooManyRequests(_) => {
                headers.insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from_static(LOGIN_RETRY_AFTER_SECS),
                );
            }
            ApiError::Unavailable(_) => {
                headers.insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from_static(RETRY_AFTER_SECS),
                );
            }
            ApiError::Unauthorized(_) => {
                headers.insert(
                    axum::http::header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static("Bearer"),
                );
            }
            _ => {}
        }
        response
    }
}
