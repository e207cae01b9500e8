//! The web client's routes: `/` for browsers (the map page; other clients get the JSON
//! landing page of [`super::landing`]), `/embed` (the map for iframes) and the embedded
//! assets under `/assets/`.
//!
//! Framing: the map page may only be framed by its own origin (`frame-ancestors 'self'`,
//! `X-Frame-Options: SAMEORIGIN`); the embed page by the origins of the
//! `server.frame_ancestors` setting (default `*`, anyone). The dashboard page (`/dashboard`)
//! follows the map page's rule, and its embeddable variant (`/dashboard?embed=1`) the embed
//! page's.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::header::{self, HeaderValue};
use axum::response::{Html, IntoResponse, Response};

use super::{landing, AppState, BaseUrl, Format, Negotiated};
use crate::error::ApiError;
use crate::model::Snapshot;
use crate::web;

/// `Cache-Control` of versioned assets: their URL changes whenever their content does.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of assets asked for under an old version, and of the pages.
const REVALIDATE: &str = "no-cache";

/// `GET /`: the map page for browsers, the JSON landing page otherwise.
pub async fn root(
    state: State<Arc<AppState>>,
    base: BaseUrl,
    Negotiated(format): Negotiated,
) -> Response {
    if format != Format::Html {
        return landing::landing(state, base, Negotiated(format)).await;
    }
    let snapshot = state.current();
    let mut response = Html(web::index_html(&map_bootstrap(&snapshot, &base.0))).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'self'"),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    response
}

/// The bootstrap of the pages: the service's title and its languages.
pub fn bootstrap(snapshot: &Snapshot) -> web::Bootstrap<'_> {
    web::Bootstrap {
        title: &snapshot.title,
        languages: &snapshot.languages,
        collections: None,
    }
}

/// The bootstrap of the map pages: also the collections' metadata, with links on `base`.
pub fn map_bootstrap<'a>(snapshot: &'a Snapshot, base: &str) -> web::Bootstrap<'a> {
    web::Bootstrap {
        collections: Some(serde_json::Value::Array(
            snapshot
                .layers
                .iter()
                .map(|l| super::collections::collection_json(snapshot, l, base))
                .collect(),
        )),
        ..bootstrap(snapshot)
    }
}

/// `GET /dashboard?round=…&area=…&lang=…&embed=1`: the dashboard page; with `embed=1`
/// (or `true`) minimal chrome and the embed page's framing rule. The other parameters are
/// read by the page itself.
pub async fn dashboard(State(state): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Response {
    let embed = query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .any(|pair| matches!(pair, "embed" | "embed=1" | "embed=true"));
    let snapshot = state.current();
    let mut response = Html(web::dashboard_html(&bootstrap(&snapshot), embed)).into_response();
    let headers = response.headers_mut();
    if embed {
        let policy = frame_ancestors(&state.settings().frame_ancestors);
        if let Ok(value) = HeaderValue::from_str(&policy) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
    } else {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'self'"),
        );
        headers.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        );
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    response
}

/// `GET /embed?layers=…&round=…&lang=…#zoom/lat/lon`: the map with minimal chrome; the
/// parameters are read by the page itself.
pub async fn embed(State(state): State<Arc<AppState>>, BaseUrl(base): BaseUrl) -> Response {
    let snapshot = state.current();
    let mut response = Html(web::embed_html(&map_bootstrap(&snapshot, &base))).into_response();
    let policy = frame_ancestors(&state.settings().frame_ancestors);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    response
}

/// The `Content-Security-Policy` of the embed page for the configured origins. `self` and
/// `none` are quoted as CSP wants; entries that could break out of the directive are
/// dropped; an empty list means no one may frame it.
pub fn frame_ancestors(origins: &[String]) -> String {
    let sources: Vec<String> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .filter(|o| {
            o.chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '"'))
        })
        .map(|o| match o {
            "self" | "none" => format!("'{o}'"),
            _ => o.to_string(),
        })
        .collect();
    if sources.is_empty() {
        "frame-ancestors 'none'".to_string()
    } else {
        format!("frame-ancestors {}", sources.join(" "))
    }
}

/// `GET /assets/{version}/{*path}`: an embedded asset, cached for a year when `version` is
/// the current one.
pub async fn versioned_asset(
    Path((version, path)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let cache = if version == web::version() {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    serve(&path, cache)
}

fn serve(path: &str, cache: &'static str) -> Result<Response, ApiError> {
    let asset =
        web::asset(path).ok_or_else(|| ApiError::not_found(format!("no asset {path:?}")))?;
    let mut response = asset.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.media_type),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_ancestors_quotes_keywords_and_drops_injections() {
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(frame_ancestors(&list(&["*"])), "frame-ancestors *");
        assert_eq!(
            frame_ancestors(&list(&["self", "https://a.org", "x; script-src *"])),
            "frame-ancestors 'self' https://a.org"
        );
        assert_eq!(frame_ancestors(&[]), "frame-ancestors 'none'");
    }
}
