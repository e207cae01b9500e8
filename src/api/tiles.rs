//! Vector tiles over HTTP: `/tiles/{layers}/{z}/{x}/{y}` (one layer or several joined with
//! commas), the OGC API – Tiles path `/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}`
//! for the same tiles, the OGC tileset list and description, and TileJSON
//! (`/tiles/{layers}.json`, `/tiles/{layers}/tilejson.json`).
//!
//! `?round=` (or `?datetime=`) picks the counts, as for items; it applies to the layers that
//! have counts, others ignore it; the latest round is the default. A tile with nothing in
//! it is a 204. Tile making is in [`crate::tiles`]; ETag, 304 and Cache-Control come from
//! the caching middleware; gzip from the compression layer.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::items::select_round;
use super::{data_response, json_response, layer, AppState, BaseUrl, QueryParams, Served, JSON};
use crate::error::ApiError;
use crate::model::{Layer, Snapshot};
use crate::tiles::cache::TileKey;
use crate::tiles::prepare::PreparedSnapshot;
use crate::tiles::render::{is_light, render_tile, LayerRequest};
use crate::tiles::tilejson::tilejson as tilejson_document;
use crate::tiles::{TileId, TileIdError, ADVERTISED_MAX_ZOOM, MEDIA_TYPE};

/// Media type of TileJSON.
const TILEJSON: &str = "application/json";

/// The query parameters of tile, TileJSON and style requests; others are a 400.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TileParams {
    /// Round id, or `latest`.
    pub round: Option<String>,
    /// Instant or interval selecting the round.
    pub datetime: Option<String>,
}

impl From<TileIdError> for ApiError {
    fn from(e: TileIdError) -> ApiError {
        ApiError::bad_request(e.to_string())
    }
}

/// `GET /tiles/{layers}/{z}/{x}/{y}` (`{y}` may end in `.pbf` or `.mvt`).
pub async fn tile(
    State(state): State<Arc<AppState>>,
    Path((layers, z, x, y)): Path<(String, String, String, String)>,
    QueryParams(params): QueryParams<TileParams>,
) -> Result<Response, ApiError> {
    let served = state.served();
    let layers = resolve_layers(&served.snapshot, &layers)?;
    let tile = TileId::parse(&z, &x, &y)?;
    serve_tile(&state, &served, &layers, tile, &params).await
}

/// `GET /collections/{id}/tiles/{tileMatrixSetId}/{z}/{y}/{x}` (`{x}` may end in `.pbf`);
/// the only tile matrix set is WebMercatorQuad.
pub async fn ogc_tile(
    State(state): State<Arc<AppState>>,
    Path((id, matrix_set, z, y, x)): Path<(String, String, String, String, String)>,
    QueryParams(params): QueryParams<TileParams>,
) -> Result<Response, ApiError> {
    let served = state.served();
    let layers = vec![layer(&served.snapshot, &id)?.clone()];
    web_mercator_quad(&matrix_set)?;
    let tile = TileId::parse_ogc(&z, &y, &x)?;
    serve_tile(&state, &served, &layers, tile, &params).await
}

/// The layers named in a path segment (`a` or `a,b`): 404 for an unknown one, 400 for an
/// empty or repeated name.
fn resolve_layers(snapshot: &Snapshot, names: &str) -> Result<Vec<Arc<Layer>>, ApiError> {
    let mut layers: Vec<Arc<Layer>> = Vec::new();
    for name in names.split(',') {
        let name = name.trim();
        if name.is_empty() {
            return Err(ApiError::bad_request(format!(
                "layers: {names:?} has an empty layer name"
            )));
        }
        let found = layer(snapshot, name)?;
        if layers.iter().any(|l| l.id == found.id) {
            return Err(ApiError::bad_request(format!(
                "layers: {name:?} is named twice in {names:?}"
            )));
        }
        layers.push(found.clone());
    }
    Ok(layers)
}

/// The round of each layer: the asked one for layers with counts, `None` for others.
fn rounds(layers: &[Arc<Layer>], params: &TileParams) -> Result<Vec<Option<usize>>, ApiError> {
    layers
        .iter()
        .map(|layer| {
            if layer.rounds.is_empty() {
                Ok(None)
            } else {
                select_round(layer, params.round.as_deref(), params.datetime.as_deref())
            }
        })
        .collect()
}

async fn serve_tile(
    state: &AppState,
    served: &Served,
    layers: &[Arc<Layer>],
    tile: TileId,
    params: &TileParams,
) -> Result<Response, ApiError> {
    let rounds = rounds(layers, params)?;
    let key = TileKey {
        layers: layers
            .iter()
            .map(|l| l.id.as_str())
            .collect::<Vec<_>>()
            .join(","),
        tile,
        rounds: rounds.clone(),
        version: served.snapshot.version,
    };
    let cache = served.tile_cache.clone();
    let bytes = match cache.get(&key) {
        Some(bytes) => bytes,
        None => {
            // A light tile (a few points) costs less to cut here than to hand to the pool.
            if let Some(prepared) = cache.prepared_if_ready(&served.snapshot) {
                let requests = layer_requests(&served.snapshot, &prepared, layers, &rounds)?;
                if is_light(&requests, tile, cache.options()) {
                    let bytes = Bytes::from(render_tile(&requests, tile, cache.options()));
                    cache.insert(key, bytes.clone());
                    return Ok(tile_response(bytes, served.settings.cache_max_age));
                }
            }
            let snapshot = served.snapshot.clone();
            let layers = layers.to_vec();
            let flight_key = key.clone();
            // Cutting a tile is CPU work: on the light pool, with a deadline, and once for
            // all the requests that want it at the same time.
            served
                .tile_flights
                .run(&flight_key, || {
                    state.light.run(move || {
                        if let Some(bytes) = cache.get(&key) {
                            return Ok(bytes);
                        }
                        let prepared = cache.prepared(&snapshot);
                        let requests = layer_requests(&snapshot, &prepared, &layers, &rounds)?;
                        let bytes = Bytes::from(render_tile(&requests, tile, cache.options()));
                        cache.insert(key, bytes.clone());
                        Ok(bytes)
                    })
                })
                .await?
        }
    };
    Ok(tile_response(bytes, served.settings.cache_max_age))
}

/// Each layer of a tile request with its prepared geometry and round.
fn layer_requests<'a>(
    snapshot: &Snapshot,
    prepared: &'a PreparedSnapshot,
    layers: &'a [Arc<Layer>],
    rounds: &[Option<usize>],
) -> Result<Vec<LayerRequest<'a>>, ApiError> {
    layers
        .iter()
        .zip(rounds)
        .map(|(layer, round)| {
            let position = snapshot
                .layers
                .iter()
                .position(|l| l.id == layer.id)
                .ok_or_else(|| ApiError::Internal(format!("layer {} vanished", layer.id)))?;
            let prepared = prepared.layers.get(position).ok_or_else(|| {
                ApiError::Internal(format!("layer {} was not prepared", layer.id))
            })?;
            Ok(LayerRequest {
                layer,
                prepared,
                round: *round,
            })
        })
        .collect()
}

/// A tile's bytes as the answer: 204 when empty.
fn tile_response(bytes: Bytes, max_age: u32) -> Response {
    if bytes.is_empty() {
        return no_content(max_age);
    }
    data_response(bytes, MEDIA_TYPE)
}

/// 204 for an empty tile, cacheable like a tile (the middleware only caches 200s).
fn no_content(max_age: u32) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}

/// `GET /tiles/{layers}.json`; any other `/tiles/{x}` is a 404.
pub async fn tilejson(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    Path(segment): Path<String>,
    QueryParams(params): QueryParams<TileParams>,
) -> Result<Response, ApiError> {
    let Some(names) = segment.strip_suffix(".json") else {
        return Err(ApiError::not_found(format!(
            "no resource /tiles/{segment}; TileJSON is at /tiles/{{layers}}.json"
        )));
    };
    tilejson_response(&state, &base, names, &params)
}

/// `GET /tiles/{layers}/tilejson.json`
pub async fn tilejson_named(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    Path(names): Path<String>,
    QueryParams(params): QueryParams<TileParams>,
) -> Result<Response, ApiError> {
    tilejson_response(&state, &base, &names, &params)
}

fn tilejson_response(
    state: &AppState,
    base: &str,
    names: &str,
    params: &TileParams,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    let layers = resolve_layers(&snapshot, names)?;
    // Check the round now, so a bad one fails here rather than on every tile.
    rounds(&layers, params)?;
    let refs: Vec<&Layer> = layers.iter().map(|l| &**l).collect();
    let query = tile_query(params);
    let document = tilejson_document(&refs, base, query.as_deref());
    Ok(json_response(&document, TILEJSON))
}

/// The part of a query string passed on to tile URLs: `round` and `datetime` only.
pub fn tile_query(params: &TileParams) -> Option<String> {
    let mut pairs = Vec::new();
    if let Some(round) = &params.round {
        pairs.push(("round", round.as_str()));
    }
    if let Some(datetime) = &params.datetime {
        pairs.push(("datetime", datetime.as_str()));
    }
    if pairs.is_empty() {
        return None;
    }
    serde_urlencoded::to_string(pairs).ok()
}

/// `GET /collections/{id}/tiles`: the tilesets of a collection (OGC API – Tiles).
pub async fn tilesets(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    let layer = layer(&snapshot, &id)?;
    let href = format!("{base}/collections/{}/tiles", layer.id);
    Ok(json_response(
        &json!({
            "links": [{ "href": href, "rel": "self", "type": JSON }],
            "tilesets": [tileset(layer, &base)],
        }),
        JSON,
    ))
}

/// `GET /collections/{id}/tiles/WebMercatorQuad`: one tileset (OGC API – Tiles).
pub async fn tileset_one(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    Path((id, matrix_set)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    let layer = layer(&snapshot, &id)?;
    web_mercator_quad(&matrix_set)?;
    Ok(json_response(&tileset(layer, &base), JSON))
}

/// The tile matrix sets served: WebMercatorQuad only; any other is a 404.
fn web_mercator_quad(matrix_set: &str) -> Result<(), ApiError> {
    if matrix_set == "WebMercatorQuad" {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "no tile matrix set {matrix_set:?}; the tilesets are WebMercatorQuad"
        )))
    }
}

fn tileset(layer: &Layer, base: &str) -> serde_json::Value {
    let href = format!("{base}/collections/{}/tiles/WebMercatorQuad", layer.id);
    json!({
        "title": layer.title,
        "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "minZoom": 0,
        "maxZoom": ADVERTISED_MAX_ZOOM,
        "links": [
            { "href": href, "rel": "self", "type": JSON },
            {
                "href": format!("{href}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"),
                "rel": "item", "type": MEDIA_TYPE, "templated": true,
            },
            {
                "href": format!("{base}/tiles/{}.json", layer.id),
                "rel": "describedby", "type": TILEJSON, "title": "TileJSON",
            },
            {
                "href": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
            },
        ],
    })
}
