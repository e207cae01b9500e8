//! What the tile tests share: the in-process server and its requests, a strict decoder
//! over geozero's protobuf types, tile ranges over the built-in data and the check of a
//! decoded layer against the source. Each test file uses part of it.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use dtmap::api::{AppState, Settings};
use dtmap::config::Config;
use dtmap::model::{Layer, Snapshot};
use dtmap::tiles::{lonlat_to_world, TileId, DEFAULT_BUFFER, EXTENT};
use geo::{Intersects, Polygon};
use geozero::mvt::{tile, Message, Tile};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------
// The server and requests
// ---------------------------------------------------------------------------------------

pub fn settings(public_url: Option<&str>) -> Settings {
    Settings {
        public_url: public_url.map(str::to_string),
        cache_max_age: 60,
        frame_ancestors: Vec::new(),
        ..Settings::default()
    }
}

pub fn load_builtin() -> Snapshot {
    let (snapshot, report) = dtmap::data::load(&Config::builtin());
    assert!(report.is_ok(), "the built-in data loads: {report}");
    snapshot
}

/// One state shared by the tests (its tile cache is shared too, as in a server).
pub fn state() -> Arc<AppState> {
    static STATE: OnceLock<Arc<AppState>> = OnceLock::new();
    STATE
        .get_or_init(|| AppState::new(load_builtin(), settings(None)))
        .clone()
}

pub fn app() -> Router {
    dtmap::server::app(state())
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

pub async fn get_with(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::builder().uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).expect("a request"))
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    Answer {
        status,
        headers,
        body,
    }
}

pub async fn get(app: &Router, uri: &str) -> Answer {
    get_with(app, uri, &[]).await
}

pub fn snapshot() -> Arc<Snapshot> {
    state().current()
}

pub fn layer(id: &str) -> Arc<Layer> {
    snapshot().layer(id).expect("a built-in layer").clone()
}

// ---------------------------------------------------------------------------------------
// A strict decoder over geozero's protobuf types
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    Points(Vec<[i64; 2]>),
    Lines(Vec<Vec<[i64; 2]>>),
    /// Polygons: exterior then holes.
    Polygons(Vec<Vec<Vec<[i64; 2]>>>),
}

#[derive(Debug, Clone)]
pub struct Feature {
    pub mvt_id: u64,
    pub properties: BTreeMap<String, Value>,
    pub geometry: Geometry,
}

impl Feature {
    pub fn text(&self, key: &str) -> Option<&str> {
        self.properties.get(key).and_then(Value::as_str)
    }
}

pub fn zigzag(n: u32) -> i64 {
    i64::from(n >> 1) ^ -i64::from(n & 1)
}

pub fn value_json(value: &tile::Value) -> Value {
    let set = [
        value.string_value.is_some(),
        value.float_value.is_some(),
        value.double_value.is_some(),
        value.int_value.is_some(),
        value.uint_value.is_some(),
        value.sint_value.is_some(),
        value.bool_value.is_some(),
    ];
    assert_eq!(
        set.iter().filter(|s| **s).count(),
        1,
        "a value has one type"
    );
    if let Some(s) = &value.string_value {
        json!(s)
    } else if let Some(f) = value.float_value {
        json!(f)
    } else if let Some(d) = value.double_value {
        json!(d)
    } else if let Some(i) = value.int_value.or(value.sint_value) {
        json!(i)
    } else if let Some(u) = value.uint_value {
        json!(u)
    } else {
        json!(value.bool_value)
    }
}

/// The paths of a geometry's commands, checking the command encoding as it goes.
pub fn command_paths(commands: &[u32], kind: tile::GeomType) -> Vec<(Vec<[i64; 2]>, bool)> {
    let mut paths: Vec<(Vec<[i64; 2]>, bool)> = Vec::new();
    let mut cursor = [0i64, 0];
    let mut i = 0;
    while i < commands.len() {
        let (id, count) = (commands[i] & 7, (commands[i] >> 3) as usize);
        i += 1;
        match id {
            1 | 2 => {
                assert!(count > 0, "MoveTo/LineTo with a count of 0");
                assert!(
                    i + 2 * count <= commands.len(),
                    "commands end in a parameter"
                );
                for _ in 0..count {
                    cursor = [
                        cursor[0] + zigzag(commands[i]),
                        cursor[1] + zigzag(commands[i + 1]),
                    ];
                    i += 2;
                    if id == 1 {
                        if kind != tile::GeomType::Point {
                            assert_eq!(count, 1, "MoveTo of lines and rings has a count of 1");
                        }
                        paths.push((vec![cursor], false));
                    } else {
                        let path = paths.last_mut().expect("LineTo after a MoveTo");
                        assert_ne!(path.0.last(), Some(&cursor), "a LineTo of length 0");
                        path.0.push(cursor);
                    }
                }
            }
            7 => {
                assert_eq!(count, 1, "ClosePath has a count of 1");
                assert_eq!(kind, tile::GeomType::Polygon, "ClosePath only in polygons");
                paths.last_mut().expect("ClosePath after a MoveTo").1 = true;
            }
            other => panic!("unknown command {other}"),
        }
    }
    paths
}

pub fn doubled_area(ring: &[[i64; 2]]) -> i128 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i128::from(a[0]) * i128::from(b[1]) - i128::from(b[0]) * i128::from(a[1])
        })
        .sum()
}

/// Decodes a tile, checking everything MVT 2.1 asks and dtmap promises: version 2,
/// extent 4096, no empty layer, unique ids, valid commands, exterior rings clockwise
/// (positive area), holes counter-clockwise, coordinates within the buffer.
pub fn decode(bytes: &[u8]) -> BTreeMap<String, Vec<Feature>> {
    let tile = Tile::decode(bytes).expect("the tile is a valid protobuf");
    let limit = (
        -i64::from(DEFAULT_BUFFER),
        i64::from(EXTENT + DEFAULT_BUFFER),
    );
    let mut layers = BTreeMap::new();
    for layer in &tile.layers {
        assert_eq!(layer.version, 2);
        assert_eq!(layer.extent, Some(EXTENT));
        assert!(!layer.features.is_empty(), "layer {} is empty", layer.name);
        let mut ids = BTreeSet::new();
        let mut features = Vec::new();
        for feature in &layer.features {
            let id = feature.id.expect("every feature has an id");
            assert!(ids.insert(id), "id {id} is repeated in {}", layer.name);
            assert!(id < 1 << 53, "ids are exact in JavaScript");
            assert_eq!(feature.tags.len() % 2, 0);
            let mut properties = BTreeMap::new();
            for pair in feature.tags.chunks(2) {
                let key = &layer.keys[pair[0] as usize];
                let value = value_json(&layer.values[pair[1] as usize]);
                assert!(
                    properties.insert(key.clone(), value).is_none(),
                    "key {key} twice"
                );
            }
            let kind = tile::GeomType::try_from(feature.r#type.unwrap_or(0)).expect("a type");
            let paths = command_paths(&feature.geometry, kind);
            assert!(!paths.is_empty(), "a feature with no geometry");
            for (path, _) in &paths {
                for p in path {
                    assert!(
                        (limit.0..=limit.1).contains(&p[0]) && (limit.0..=limit.1).contains(&p[1]),
                        "{p:?} is beyond the buffer in {}",
                        layer.name
                    );
                }
            }
            let geometry = match kind {
                tile::GeomType::Point => {
                    assert!(paths.iter().all(|(p, _)| p.len() == 1));
                    Geometry::Points(paths.into_iter().map(|(p, _)| p[0]).collect())
                }
                tile::GeomType::Linestring => {
                    assert!(paths.iter().all(|(p, closed)| p.len() >= 2 && !closed));
                    Geometry::Lines(paths.into_iter().map(|(p, _)| p).collect())
                }
                tile::GeomType::Polygon => {
                    let mut polygons: Vec<Vec<Vec<[i64; 2]>>> = Vec::new();
                    for (ring, closed) in paths {
                        assert!(closed, "every ring is closed");
                        assert!(ring.len() >= 3, "a ring of {} vertices", ring.len());
                        let area = doubled_area(&ring);
                        assert_ne!(area, 0, "a ring without area");
                        if area > 0 {
                            polygons.push(vec![ring]);
                        } else {
                            polygons
                                .last_mut()
                                .expect("the first ring is an exterior (clockwise)")
                                .push(ring);
                        }
                    }
                    Geometry::Polygons(polygons)
                }
                tile::GeomType::Unknown => panic!("a feature of unknown type"),
            };
            features.push(Feature {
                mvt_id: id,
                properties,
                geometry,
            });
        }
        assert!(layers.insert(layer.name.clone(), features).is_none());
    }
    layers
}

// ---------------------------------------------------------------------------------------
// Tile ranges and source data
// ---------------------------------------------------------------------------------------

/// Every tile of `zoom` over a lon/lat box.
pub fn tiles_over(bounds: geo::Rect<f64>, zoom: u8) -> Vec<TileId> {
    let size = f64::from(EXTENT);
    let (x0, y0) = lonlat_to_world(bounds.min().x, bounds.max().y, zoom);
    let (x1, y1) = lonlat_to_world(bounds.max().x, bounds.min().y, zoom);
    let mut tiles = Vec::new();
    for x in (x0 / size) as u64..=(x1 / size) as u64 {
        for y in (y0 / size) as u64..=(y1 / size) as u64 {
            tiles.push(TileId::new(u64::from(zoom), x, y).expect("a tile over Iraq"));
        }
    }
    tiles
}

pub fn iraq() -> geo::Rect<f64> {
    layer("governorates")
        .extent
        .expect("governorates have an extent")
}

pub fn tile_polygon(tile: TileId, margin: f64) -> Polygon<f64> {
    tile.bounds_lonlat(margin).to_polygon()
}

/// A point's position in tile units, rounded as the tiles round it.
pub fn tile_position(tile: TileId, lon: f64, lat: f64) -> [i64; 2] {
    let (x, y) = lonlat_to_world(lon, lat, tile.z);
    let [ox, oy] = tile.origin();
    [x.round() as i64 - ox, y.round() as i64 - oy]
}

pub fn in_tile(p: [i64; 2]) -> bool {
    let range = 0..i64::from(EXTENT);
    range.contains(&p[0]) && range.contains(&p[1])
}

/// Checks one decoded layer against the source: every feature that reaches well into the
/// tile is there, nothing is there that is not near it, and points (or their clusters)
/// add up to the points inside the tile.
pub fn check_against_source(layer: &Layer, tile: TileId, features: Option<&Vec<Feature>>) {
    let empty = Vec::new();
    let features = features.unwrap_or(&empty);
    // Ids: position + 1, and the `id` property is the feature id.
    for feature in features {
        if feature.properties.contains_key("point_count") {
            continue;
        }
        let position = (feature.mvt_id - 1) as usize;
        let source = &layer.features[position];
        assert_eq!(feature.text("id"), Some(source.id.as_str()));
        let near = tile_polygon(tile, f64::from(DEFAULT_BUFFER) + 8.0);
        assert!(
            source.bbox().intersects(&near),
            "{} {} is in tile {tile:?} but nowhere near it",
            layer.id,
            source.id
        );
    }
    if layer.index.is_points() {
        let expected = layer
            .features
            .iter()
            .filter(|f| match *f.geometry() {
                geo::Geometry::Point(p) => in_tile(tile_position(tile, p.x(), p.y())),
                _ => false,
            })
            .count() as i64;
        let found: i64 = features
            .iter()
            .map(|f| {
                let Geometry::Points(points) = &f.geometry else {
                    panic!("a point layer has points")
                };
                let inside = points.iter().filter(|p| in_tile(**p)).count() as i64;
                let weight = f
                    .properties
                    .get("point_count")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                inside * weight
            })
            .sum();
        assert_eq!(found, expected, "points of {} in {tile:?}", layer.id);
    } else {
        // Features reaching a tenth of a tile into it must be there.
        let inner = {
            let b = tile.bounds_lonlat(-(f64::from(EXTENT) * 0.1));
            b.to_polygon()
        };
        let present: BTreeSet<&str> = features.iter().filter_map(|f| f.text("id")).collect();
        for source in &layer.features {
            if source.geometry().intersects(&inner) {
                assert!(
                    present.contains(source.id.as_str()),
                    "{} {} is missing from {tile:?}",
                    layer.id,
                    source.id
                );
            }
        }
    }
}
