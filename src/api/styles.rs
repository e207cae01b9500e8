//! The map style and its fonts: `/styles/default.json` (MapLibre style of the displacement
//! map, see [`crate::tiles::style`]) and `/fonts/{fontstack}/{range}.pbf` (the embedded
//! SDF glyphs, see [`crate::tiles::glyphs`]). `?round=` on the style is passed on to its
//! tiles.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;

use super::tiles::{tile_query, TileParams};
use super::{data_response, json_response, AppState, BaseUrl, QueryParams};
use crate::error::ApiError;
use crate::tiles::glyphs::{self, GlyphError};
use crate::tiles::style::default_style;

/// Media type of a MapLibre style.
const STYLE: &str = "application/json";

/// `GET /styles/{name}`: only `default.json` (or `default`) exists.
pub async fn style(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    Path(name): Path<String>,
    QueryParams(params): QueryParams<TileParams>,
) -> Result<Response, ApiError> {
    if name != "default.json" && name != "default" {
        return Err(ApiError::not_found(format!(
            "no style {name:?}; the style is /styles/default.json"
        )));
    }
    let snapshot = state.current();
    let query = tile_query(&params);
    Ok(json_response(
        &default_style(&snapshot, &base, query.as_deref()),
        STYLE,
    ))
}

/// `GET /fonts/{fontstack}/{range}` (`0-255.pbf`).
pub async fn glyph_range(
    Path((fontstack, range)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    match glyphs::glyph_range(&fontstack, &range) {
        Ok(bytes) => Ok(data_response(bytes, glyphs::MEDIA_TYPE)),
        Err(e @ GlyphError::UnknownFontStack(_)) => Err(ApiError::not_found(e.to_string())),
        Err(e @ GlyphError::BadRange(_)) => Err(ApiError::bad_request(e.to_string())),
    }
}
