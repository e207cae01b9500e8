//! The spatial query endpoints of a collection:
//!
//! - `GET|POST /collections/{id}/search`: features in an area (a GeoJSON or WKT geometry,
//!   or another layer's feature such as a state), `intersects` or `within`;
//! - `GET /collections/{id}/near`: within a radius in metres, or the `k` nearest;
//! - `GET /collections/{id}/contains`: the features containing a point;
//! - `GET|POST /collections/{id}/totals`: sums of every count column over an area or a
//!   circle, with the breakdown by group, for one round or every round.
//!
//! Results page like the items endpoint and come as GeoJSON, CSV with `f=csv`, or
//! FlatGeobuf with `f=fgb`.

use std::sync::Arc;

use axum::extract::{FromRequest, Path, Request, State};
use axum::response::Response;
use geo::{Geometry, Point};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::items::{page_links, parse_limit, property_choice, select_round};
use super::render::FeaturePage;
use super::{layer, AppState, BaseUrl, Format, NegotiatedFeatures, QueryParams};
use crate::config::{MAX_NEAREST_K, MAX_QUERY_VERTICES, MAX_RADIUS_METRES};
use crate::error::ApiError;
use crate::geometry;
use crate::model::{Layer, Snapshot};
use crate::query::area::IndexedArea;
use crate::query::paged;
use crate::query::search::{self, Relation};

/// A JSON request body; a malformed one is a 400 and one over the size limit a 413, both
/// as JSON errors.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge(format!(
                        "the request body is over the limit of {} bytes",
                        crate::config::MAX_BODY_BYTES
                    ))
                } else {
                    ApiError::bad_request(format!("cannot read the request body: {e}"))
                }
            })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(format!("the body is not the JSON expected: {e}")))
    }
}

/// Where to look: a geometry, another layer's feature (`regions/R01`), or a circle.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaBody {
    /// A GeoJSON Polygon or MultiPolygon (or a Feature holding one).
    pub geometry: Option<Value>,
    /// `layer/featureId` of a polygon feature.
    pub area: Option<String>,
    /// `intersects` (default) or `within`.
    pub relation: Option<String>,
    /// Circle centre longitude (totals only).
    pub lon: Option<f64>,
    /// Circle centre latitude (totals only).
    pub lat: Option<f64>,
    /// Circle radius in metres (totals only).
    pub radius: Option<f64>,
}

/// Query-string parameters of `search` and `totals`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaParams {
    /// WKT or GeoJSON geometry.
    pub geometry: Option<String>,
    /// `layer/featureId`.
    pub area: Option<String>,
    /// `intersects` or `within`.
    pub relation: Option<String>,
    /// Circle centre longitude (totals).
    pub lon: Option<String>,
    /// Circle centre latitude (totals).
    pub lat: Option<String>,
    /// Circle radius in metres (totals).
    pub radius: Option<String>,
    /// Round id.
    pub round: Option<String>,
    /// Instant or interval selecting the round.
    pub datetime: Option<String>,
    /// `all` for a series over every round (totals).
    pub rounds: Option<String>,
    /// Whether totals break down by group (default true where the layer has one).
    pub group: Option<String>,
    /// Page size.
    pub limit: Option<String>,
    /// Page start.
    pub offset: Option<String>,
    /// Properties to include.
    pub properties: Option<String>,
    /// Output format.
    pub f: Option<String>,
}

/// The region a request names, ready to query.
pub(super) enum QueryArea {
    Polygon {
        geometry: Geometry<f64>,
        area: Arc<IndexedArea>,
        relation: Relation,
        described: Value,
    },
    Circle {
        center: Point<f64>,
        metres: f64,
    },
}

fn parse_number(name: &str, text: Option<&str>) -> Result<Option<f64>, ApiError> {
    match text {
        None => Ok(None),
        Some(t) => match t.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(ApiError::bad_request(format!(
                "{name}: {t:?} is not a finite number"
            ))),
        },
    }
}

fn parse_relation(text: Option<&str>) -> Result<Relation, ApiError> {
    match text.map(str::trim) {
        None | Some("intersects") => Ok(Relation::Intersects),
        Some("within") => Ok(Relation::Within),
        Some(other) => Err(ApiError::bad_request(format!(
            "relation: {other:?} is not intersects or within"
        ))),
    }
}

/// Reads a geometry given as GeoJSON (object or text) or WKT text.
fn read_geometry(value: &Value) -> Result<Geometry<f64>, ApiError> {
    let parsed = match value {
        Value::String(text) if text.trim_start().starts_with('{') => {
            geometry::parse_geojson_text(text, MAX_QUERY_VERTICES)
        }
        Value::String(text) => geometry::parse_wkt(text, MAX_QUERY_VERTICES),
        other => geometry::parse_geojson_text(&other.to_string(), MAX_QUERY_VERTICES),
    };
    parsed.map_err(|message| {
        if message.contains("vertices") {
            ApiError::TooLarge(format!("geometry: {message}"))
        } else {
            ApiError::bad_request(format!("geometry: {message}"))
        }
    })
}

/// Geometry text nested too deep is refused at once, by a linear scan, before it waits for
/// a pool thread where its parser would refuse it anyway.
pub(super) fn refuse_deep_text(body: &AreaBody) -> Result<(), ApiError> {
    if let Some(Value::String(text)) = &body.geometry {
        geometry::check_text_nesting(text)
            .map_err(|e| ApiError::bad_request(format!("geometry: {e}")))?;
    }
    Ok(())
}

/// Query geometries with more positions than this go to the heavy pool.
const LIGHT_GEOMETRY_POSITIONS: usize = 1_000;

/// The pool for an area: the heavy one for a large geometry given in the request, the
/// light one for the data's own areas, circles and small polygons.
pub(super) fn pool_for<'a>(
    state: &'a AppState,
    body: &AreaBody,
) -> &'a super::compute::ComputePool {
    let positions = match &body.geometry {
        None => 0,
        // WKT or GeoJSON text: a position takes at least 4 characters ("1 2,").
        Some(Value::String(text)) => text.len() / 4,
        Some(value) => {
            let mut numbers = 0;
            let mut stack = vec![value];
            while let Some(v) = stack.pop() {
                match v {
                    Value::Number(_) => numbers += 1,
                    Value::Array(items) => stack.extend(items),
                    Value::Object(members) => stack.extend(members.values()),
                    _ => {}
                }
            }
            numbers / 2
        }
    };
    if positions > LIGHT_GEOMETRY_POSITIONS {
        &state.heavy
    } else {
        &state.light
    }
}

fn check_radius(metres: f64) -> Result<f64, ApiError> {
    if metres > 0.0 && metres <= MAX_RADIUS_METRES {
        Ok(metres)
    } else {
        Err(ApiError::bad_request(format!(
            "radius: {metres} must be more than 0 and at most {MAX_RADIUS_METRES} metres"
        )))
    }
}

/// The `lon` and `lat` parameters an endpoint cannot do without, as a checked point.
fn required_point(
    endpoint: &str,
    lon: Option<&str>,
    lat: Option<&str>,
) -> Result<Point<f64>, ApiError> {
    match (parse_number("lon", lon)?, parse_number("lat", lat)?) {
        (Some(lon), Some(lat)) => check_point(lon, lat),
        _ => Err(ApiError::bad_request(format!(
            "{endpoint} needs lon and lat"
        ))),
    }
}

fn check_point(lon: f64, lat: f64) -> Result<Point<f64>, ApiError> {
    geometry::check_lon_lat(lon, lat)
        .map(|()| Point::new(lon, lat))
        .map_err(|e| ApiError::bad_request(format!("lon/lat: {e}")))
}

pub(super) fn resolve_area(
    snapshot: &Snapshot,
    body: AreaBody,
    allow_circle: bool,
) -> Result<QueryArea, ApiError> {
    let relation = parse_relation(body.relation.as_deref())?;
    let given = [
        body.geometry.is_some(),
        body.area.is_some(),
        body.lon.is_some() || body.lat.is_some() || body.radius.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(ApiError::bad_request(if allow_circle {
            "give exactly one of: geometry, area (layer/featureId), or lon+lat+radius"
        } else {
            "give exactly one of: geometry or area (layer/featureId)"
        }));
    }
    if let Some(value) = body.geometry {
        let geometry = read_geometry(&value)?;
        let area = IndexedArea::new(&geometry)
            .map_err(|e| ApiError::bad_request(format!("geometry: {e}")))?;
        return Ok(QueryArea::Polygon {
            geometry,
            area: Arc::new(area),
            relation,
            described: json!({ "type": "geometry" }),
        });
    }
    if let Some(name) = body.area {
        let (layer_id, feature_id) = name.split_once('/').ok_or_else(|| {
            ApiError::bad_request(format!(
                "area: {name:?} must be layer/featureId, e.g. regions/R01"
            ))
        })?;
        let source = snapshot.layer(layer_id).ok_or_else(|| {
            ApiError::bad_request(format!("area: there is no layer {layer_id:?}"))
        })?;
        let at = source.position(feature_id).ok_or_else(|| {
            ApiError::bad_request(format!("area: {layer_id} has no feature {feature_id:?}"))
        })?;
        let geometry = source.features[at as usize].geometry().into_owned();
        let area = source
            .prepared_area(at)
            .map_err(|e| ApiError::bad_request(format!("area {name}: {e}")))?;
        return Ok(QueryArea::Polygon {
            geometry,
            area,
            relation,
            described: json!({ "type": "feature", "layer": layer_id, "id": feature_id }),
        });
    }
    if !allow_circle {
        return Err(ApiError::bad_request(
            "a circle is not accepted here; use /near for distances",
        ));
    }
    let (Some(lon), Some(lat), Some(radius)) = (body.lon, body.lat, body.radius) else {
        return Err(ApiError::bad_request("a circle needs lon, lat and radius"));
    };
    Ok(QueryArea::Circle {
        center: check_point(lon, lat)?,
        metres: check_radius(radius)?,
    })
}

pub(super) fn area_body_from_params(params: &AreaParams) -> Result<AreaBody, ApiError> {
    Ok(AreaBody {
        geometry: params.geometry.clone().map(Value::String),
        area: params.area.clone(),
        relation: params.relation.clone(),
        lon: parse_number("lon", params.lon.as_deref())?,
        lat: parse_number("lat", params.lat.as_deref())?,
        radius: parse_number("radius", params.radius.as_deref())?,
    })
}

/// `GET /collections/{id}/search`
pub async fn search_get(
    state: State<Arc<AppState>>,
    base: BaseUrl,
    format: NegotiatedFeatures,
    path: Path<String>,
    QueryParams(params): QueryParams<AreaParams>,
    raw: axum::extract::RawQuery,
) -> Result<Response, ApiError> {
    let body = area_body_from_params(&params)?;
    search(state, base, format, path, params, body, raw).await
}

/// `POST /collections/{id}/search` with an [`AreaBody`].
pub async fn search_post(
    state: State<Arc<AppState>>,
    base: BaseUrl,
    format: NegotiatedFeatures,
    path: Path<String>,
    QueryParams(params): QueryParams<AreaParams>,
    raw: axum::extract::RawQuery,
    JsonBody(body): JsonBody<AreaBody>,
) -> Result<Response, ApiError> {
    if params.geometry.is_some() || params.area.is_some() {
        return Err(ApiError::bad_request(
            "with POST, give the geometry or area in the body",
        ));
    }
    search(state, base, format, path, params, body, raw).await
}

async fn search(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    NegotiatedFeatures(format): NegotiatedFeatures,
    Path(id): Path<String>,
    params: AreaParams,
    body: AreaBody,
    raw: axum::extract::RawQuery,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    let layer = layer(&snapshot, &id)?.clone();
    let round = select_round(&layer, params.round.as_deref(), params.datetime.as_deref())?;
    let choice = property_choice(&layer, params.properties.as_deref())?;
    let limit = parse_limit(params.limit.as_deref())?;
    let offset = parse_offset(params.offset.as_deref())?;
    refuse_deep_text(&body)?;
    // Validating and indexing the area and searching are the costly parts: off the async
    // workers, with a deadline.
    pool_for(&state, &body)
        .run(move || {
            let QueryArea::Polygon {
                geometry,
                area,
                relation,
                described,
            } = resolve_area(&snapshot, body, false)?
            else {
                return Err(ApiError::bad_request("search needs a geometry or an area"));
            };
            let matches = search::in_area(&layer, &area, &geometry, relation);
            let page = paged(&matches, offset, limit);
            let mut extra = Map::new();
            extra.insert("area".into(), described);
            let href = format!("{base}/collections/{}/search", layer.id);
            let links = |returned| {
                page_links(
                    &href,
                    raw.0.as_deref(),
                    offset,
                    limit,
                    matches.len(),
                    returned,
                )
            };
            let page = FeaturePage {
                layer: &layer,
                round,
                features: page,
                choice: &choice,
                distances: None,
            };
            Ok(page.respond(format, matches.len(), &links, Some(extra)))
        })
        .await
}

fn parse_offset(text: Option<&str>) -> Result<usize, ApiError> {
    match text {
        None => Ok(0),
        Some(t) => t.trim().parse::<usize>().map_err(|_| {
            ApiError::bad_request(format!("offset: {t:?} is not a whole number of 0 or more"))
        }),
    }
}

/// Query-string parameters of `near`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NearParams {
    /// Longitude.
    pub lon: Option<String>,
    /// Latitude.
    pub lat: Option<String>,
    /// Metres.
    pub radius: Option<String>,
    /// How many nearest.
    pub k: Option<String>,
    /// Round id.
    pub round: Option<String>,
    /// Instant or interval selecting the round.
    pub datetime: Option<String>,
    /// Page size.
    pub limit: Option<String>,
    /// Page start.
    pub offset: Option<String>,
    /// Properties to include.
    pub properties: Option<String>,
    /// Output format.
    pub f: Option<String>,
}

/// `GET /collections/{id}/near`
pub async fn near(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    NegotiatedFeatures(format): NegotiatedFeatures,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<NearParams>,
    raw: axum::extract::RawQuery,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    let layer = layer(&snapshot, &id)?;
    let center = required_point("near", params.lon.as_deref(), params.lat.as_deref())?;
    let radius = parse_number("radius", params.radius.as_deref())?
        .map(check_radius)
        .transpose()?;
    let k = match params.k.as_deref() {
        None => None,
        Some(t) => match t.trim().parse::<usize>() {
            Ok(k) if (1..=MAX_NEAREST_K).contains(&k) => Some(k),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "k: {t:?} must be a whole number from 1 to {MAX_NEAREST_K}"
                )))
            }
        },
    };
    if radius.is_none() && k.is_none() {
        return Err(ApiError::bad_request(
            "near needs radius (metres), k (how many nearest), or both",
        ));
    }
    let round = select_round(layer, params.round.as_deref(), params.datetime.as_deref())?;
    let choice = property_choice(layer, params.properties.as_deref())?;
    let limit = parse_limit(params.limit.as_deref())?;
    let offset = parse_offset(params.offset.as_deref())?;
    let href = format!("{base}/collections/{}/near", layer.id);
    let answer = move |layer: &Layer| {
        let found = match k {
            Some(k) => search::nearest(layer, center, k, radius),
            None => search::within_distance(layer, center, radius.unwrap_or(0.0)),
        };
        let page = paged(&found, offset, limit);
        let ids: Vec<u32> = page.iter().map(|(f, _)| *f).collect();
        let distances: Vec<f64> = page.iter().map(|(_, d)| *d).collect();
        let links = |returned| {
            page_links(
                &href,
                raw.0.as_deref(),
                offset,
                limit,
                found.len(),
                returned,
            )
        };
        let page = FeaturePage {
            layer,
            round,
            features: &ids,
            choice: &choice,
            distances: Some(&distances),
        };
        page.respond(format, found.len(), &links, None)
    };
    // At most k (≤ 1,000) sites cost little; every site within a radius may be many, and
    // FlatGeobuf is written through a temporary file.
    if k.is_some() && format != Format::Fgb {
        return Ok(answer(layer));
    }
    let layer = layer.clone();
    state.light.run(move || Ok(answer(&layer))).await
}

/// Query-string parameters of `contains`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointParams {
    /// Longitude.
    pub lon: Option<String>,
    /// Latitude.
    pub lat: Option<String>,
    /// Round id.
    pub round: Option<String>,
    /// Instant or interval selecting the round.
    pub datetime: Option<String>,
    /// Properties to include.
    pub properties: Option<String>,
    /// Output format.
    pub f: Option<String>,
}

/// `GET /collections/{id}/contains?lon=&lat=`: which features (e.g. which state)
/// contain the point; a point on a shared border belongs to both.
pub async fn contains(
    State(state): State<Arc<AppState>>,
    BaseUrl(base): BaseUrl,
    NegotiatedFeatures(format): NegotiatedFeatures,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<PointParams>,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    let layer = layer(&snapshot, &id)?;
    let point = required_point("contains", params.lon.as_deref(), params.lat.as_deref())?;
    let round = select_round(layer, params.round.as_deref(), params.datetime.as_deref())?;
    let choice = property_choice(layer, params.properties.as_deref())?;
    let found = search::containing(layer, point);
    let href = format!(
        "{base}/collections/{}/contains?lon={}&lat={}",
        layer.id,
        point.x(),
        point.y()
    );
    let links = |_| json!([{ "href": href, "rel": "self", "type": super::GEOJSON }]);
    let page = FeaturePage {
        layer,
        round,
        features: &found,
        choice: &choice,
        distances: None,
    };
    Ok(page.respond(format, found.len(), &links, None))
}
