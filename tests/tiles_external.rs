//! Tiles read by independent decoders, checked against the source data clipped to the
//! tile: GDAL's MVT driver (`ogr2ogr`, from Debian's `gdal-bin`) and PyPI's
//! `mapbox-vector-tile` (in a venv under the target dir, made on first use, or the Python
//! named by `DTMAP_TEST_PYTHON`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::http::StatusCode;
use dtmap::tiles::{TileId, EXTENT};
use geo::{Area, BooleanOps, BoundingRect, Intersects, MultiPolygon};
use serde_json::{json, Value};

mod tiles_support;
use tiles_support::*;

// ---------------------------------------------------------------------------------------
// Independent decoders: GDAL and mapbox-vector-tile
// ---------------------------------------------------------------------------------------

/// Tiles checked with the external decoders: mixed zooms, polygons, lines and points.
const SAMPLE: &[(&str, &str)] = &[
    ("governorates", "5/19/12"),
    ("governorates", "6/39/25"),
    ("governorates", "8/158/102"),
    ("sites", "9/319/205"),
    ("sites", "4/9/6"),
    ("countries,rivers", "6/39/25"),
];

fn write_tile(dir: &Path, layers: &str, zxy: &str, bytes: &[u8]) -> PathBuf {
    // GDAL reads z/x/y from the path `…/z/x/y.pbf` to georeference the tile.
    let path = dir
        .join(layers.replace(',', "+"))
        .join(format!("{zxy}.pbf"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

fn parse_zxy(zxy: &str) -> TileId {
    let parts: Vec<&str> = zxy.split('/').collect();
    TileId::parse(parts[0], parts[1], parts[2]).unwrap()
}

#[tokio::test]
async fn gdal_reads_the_tiles_and_finds_the_source_features_clipped_to_the_tile() {
    let ogr2ogr = Command::new("ogr2ogr").arg("--version").output();
    assert!(
        ogr2ogr.is_ok_and(|o| o.status.success()),
        "GDAL is needed: apt-get install -y gdal-bin"
    );
    let app = app();
    let dir = tempfile::tempdir().unwrap();
    for (layers, zxy) in SAMPLE {
        let answer = get(&app, &format!("/tiles/{layers}/{zxy}")).await;
        assert_eq!(answer.status, StatusCode::OK);
        let tile = parse_zxy(zxy);
        let ours = decode(&answer.body);
        let path = write_tile(dir.path(), layers, zxy, &answer.body);
        for name in layers.split(',') {
            let output = Command::new("ogr2ogr")
                .args(["-f", "GeoJSON", "-t_srs", "EPSG:4326", "/vsistdout/"])
                .arg(&path)
                .arg(name)
                .output()
                .expect("ogr2ogr runs");
            assert!(
                output.status.success(),
                "ogr2ogr failed on {name} {zxy}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let collection: Value = serde_json::from_slice(&output.stdout).unwrap();
            let gdal_features = collection["features"].as_array().unwrap();
            let layer = layer(name);
            let clip = tile_polygon(tile, 0.0);
            let clip_area = clip.unsigned_area();
            let ours_ids: BTreeSet<String> = ours[name]
                .iter()
                .filter_map(|f| f.text("id").map(str::to_string))
                .collect();
            let mut gdal_ids = BTreeSet::new();
            for feature in gdal_features {
                let id = feature["properties"]["id"].as_str().unwrap().to_string();
                gdal_ids.insert(id.clone());
                let geometry: geojson::Geometry =
                    serde_json::from_value(feature["geometry"].clone()).unwrap();
                let decoded: geo::Geometry<f64> = geometry.try_into().unwrap();
                let Some(position) = layer.position(&id) else {
                    assert!(id.starts_with("cluster/"), "{id}");
                    continue;
                };
                let source = &layer.features[position as usize].geometry();
                match &**source {
                    geo::Geometry::Polygon(_) | geo::Geometry::MultiPolygon(_) => {
                        let source = match &**source {
                            geo::Geometry::Polygon(p) => MultiPolygon(vec![p.clone()]),
                            geo::Geometry::MultiPolygon(m) => m.clone(),
                            _ => unreachable!(),
                        };
                        let expected = source.intersection(&clip).unsigned_area();
                        let found = decoded.unsigned_area();
                        assert!(
                            (found - expected).abs() <= 0.03 * expected + 0.0005 * clip_area,
                            "{name} {id} in {zxy}: GDAL area {found}, source clipped {expected}"
                        );
                    }
                    geo::Geometry::Point(p) => {
                        let geo::Geometry::Point(q) = decoded else {
                            panic!("{id} is a point")
                        };
                        let tolerance = 360.0 / f64::from(EXTENT) / f64::from(1u32 << tile.z);
                        assert!((p.x() - q.x()).abs() < tolerance, "{id} x");
                        assert!((p.y() - q.y()).abs() < tolerance, "{id} y");
                    }
                    _ => {
                        let found = decoded.bounding_rect().unwrap();
                        assert!(source.bounding_rect().unwrap().intersects(&found), "{id}");
                    }
                }
            }
            // GDAL clips to the tile proper: what it finds is what we wrote inside the
            // tile (features only in the buffer are dropped by GDAL).
            assert!(gdal_ids.is_subset(&ours_ids), "{name} {zxy}");
            assert!(!gdal_ids.is_empty(), "{name} {zxy} has features for GDAL");
        }
    }
}

/// A Python with `mapbox_vector_tile`: `DTMAP_TEST_PYTHON`, or a venv made under the
/// target dir on first use.
fn python_with_mapbox_vector_tile() -> PathBuf {
    if let Ok(python) = std::env::var("DTMAP_TEST_PYTHON") {
        return PathBuf::from(python);
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mvt-venv");
    let python = venv.join("bin").join("python");
    let works = |python: &Path| {
        Command::new(python)
            .args(["-c", "import mapbox_vector_tile"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if works(&python) {
        return python;
    }
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "python3 -m venv {} failed", venv.display());
    let installed = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "mapbox-vector-tile==2.2.0",
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(installed, "pip install mapbox-vector-tile failed");
    python
}

#[tokio::test]
async fn mapbox_vector_tile_decodes_the_same_features_and_properties() {
    let python = python_with_mapbox_vector_tile();
    let app = app();
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import json, sys, mapbox_vector_tile
with open(sys.argv[1], "rb") as f:
    tile = mapbox_vector_tile.decode(f.read(), default_options={"y_coord_down": True})
out = {}
for name, layer in tile.items():
    assert layer["extent"] == 4096, layer["extent"]
    out[name] = [
        {"id": f["id"], "properties": f["properties"], "type": f["geometry"]["type"],
         "coordinates": f["geometry"]["coordinates"]}
        for f in layer["features"]
    ]
print(json.dumps(out))
"#;
    for (layers, zxy) in SAMPLE {
        let answer = get(&app, &format!("/tiles/{layers}/{zxy}")).await;
        let path = write_tile(dir.path(), layers, zxy, &answer.body);
        let output = Command::new(&python)
            .args(["-c", script])
            .arg(&path)
            .output()
            .expect("python runs");
        assert!(
            output.status.success(),
            "mapbox_vector_tile failed on {layers} {zxy}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let theirs: Value = serde_json::from_slice(&output.stdout).unwrap();
        let ours = decode(&answer.body);
        assert_eq!(
            theirs.as_object().unwrap().keys().collect::<BTreeSet<_>>(),
            ours.keys().collect::<BTreeSet<_>>()
        );
        for (name, features) in &ours {
            let their_features = theirs[name].as_array().unwrap();
            assert_eq!(their_features.len(), features.len(), "{name} {zxy}");
            for (mine, theirs) in features.iter().zip(their_features) {
                assert_eq!(theirs["id"].as_u64(), Some(mine.mvt_id));
                let their_properties: BTreeMap<String, Value> =
                    serde_json::from_value(theirs["properties"].clone()).unwrap();
                assert_eq!(their_properties, mine.properties, "{name} {zxy}");
                let expected_type = match &mine.geometry {
                    Geometry::Points(p) if p.len() == 1 => "Point",
                    Geometry::Points(_) => "MultiPoint",
                    Geometry::Lines(l) if l.len() == 1 => "LineString",
                    Geometry::Lines(_) => "MultiLineString",
                    Geometry::Polygons(p) if p.len() == 1 => "Polygon",
                    Geometry::Polygons(_) => "MultiPolygon",
                };
                assert_eq!(theirs["type"], expected_type, "{name} {zxy}");
                if let Geometry::Points(points) = &mine.geometry {
                    if points.len() == 1 {
                        assert_eq!(theirs["coordinates"], json!(points[0]));
                    }
                }
            }
        }
    }
}
