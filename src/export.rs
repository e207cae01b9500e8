//! Static publishing (`dtmap export`): the tile pyramid of every layer for one round written
//! as one PMTiles archive, with the style, a TileJSON, the glyphs and a viewer page (MapLibre
//! and the PMTiles reader, from the binary) beside it, so a map can be served as plain files
//! by any web server, CDN or object store (MapLibre reads PMTiles through its `pmtiles://`
//! protocol with range requests). The tiles are the very bytes the server answers for the
//! same layers, round and zoom.

use std::path::{Path, PathBuf};

use pmtiles::{PmTilesWriter, TileCoord, TileType};
use serde_json::{json, Value};

use crate::model::Snapshot;
use crate::tiles::prepare::PreparedSnapshot;
use crate::tiles::render::{render_tile, LayerRequest};
use crate::tiles::{lonlat_to_world, TileId, TileOptions};

/// The archive's file name inside the output folder.
pub const ARCHIVE: &str = "map.pmtiles";
/// Deepest zoom an export may write (each level has up to 4× the tiles of the one above).
pub const MAX_EXPORT_ZOOM: u8 = 14;

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Round id (the latest of each layer when absent).
    pub round: Option<String>,
    /// Shallowest zoom written.
    pub min_zoom: u8,
    /// Deepest zoom written.
    pub max_zoom: u8,
    /// Folder to write into (created when missing).
    pub out: PathBuf,
    /// URL the folder will be published at (ending in `/`); the style's URLs are relative
    /// to the style file when absent.
    pub base_url: Option<String>,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// Tiles in the archive (empty tiles are left out).
    pub tiles: usize,
    /// Size of the archive in bytes.
    pub bytes: u64,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Bad options.
    #[error("{0}")]
    Invalid(String),
    /// Writing a file failed.
    #[error("writing {path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

fn write_error(path: &Path, e: impl std::fmt::Display) -> ExportError {
    ExportError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes `map.pmtiles`, `style.json`, `tilejson.json` and `fonts/` into `options.out`.
pub fn export(
    snapshot: &Snapshot,
    tile_options: &TileOptions,
    options: &ExportOptions,
) -> Result<ExportSummary, ExportError> {
    if options.min_zoom > options.max_zoom || options.max_zoom > MAX_EXPORT_ZOOM {
        return Err(ExportError::Invalid(format!(
            "zooms: need min-zoom ≤ max-zoom ≤ {MAX_EXPORT_ZOOM}, got {}–{}",
            options.min_zoom, options.max_zoom
        )));
    }
    let rounds: Vec<Option<usize>> = snapshot
        .layers
        .iter()
        .map(|layer| match &options.round {
            None => layer.latest_round(),
            Some(id) => layer.round_position(id),
        })
        .collect();
    if let Some(id) = &options.round {
        if snapshot
            .layers
            .iter()
            .zip(&rounds)
            .all(|(l, r)| l.rounds.is_empty() || r.is_none())
        {
            return Err(ExportError::Invalid(format!("no layer has a round {id:?}")));
        }
    }
    std::fs::create_dir_all(&options.out).map_err(|e| write_error(&options.out, e))?;
    let prepared = PreparedSnapshot::build(snapshot, tile_options);
    let requests: Vec<LayerRequest<'_>> = snapshot
        .layers
        .iter()
        .zip(&prepared.layers)
        .zip(&rounds)
        .map(|((layer, prepared), round)| LayerRequest {
            layer,
            prepared,
            round: *round,
        })
        .collect();
    let layers: Vec<&crate::model::Layer> = snapshot.layers.iter().map(|l| l.as_ref()).collect();
    let bounds = crate::tiles::tilejson::bounds(&layers);
    let tilejson = tilejson(&layers, options);
    let path = options.out.join(ARCHIVE);
    let file = std::fs::File::create(&path).map_err(|e| write_error(&path, e))?;
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .tile_compression(pmtiles::Compression::None)
        .min_zoom(options.min_zoom)
        .max_zoom(options.max_zoom)
        .bounds(bounds[0], bounds[1], bounds[2], bounds[3])
        .center((bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0)
        .center_zoom(options.min_zoom.max(5).min(options.max_zoom))
        .metadata(&tilejson.to_string())
        .create(std::io::BufWriter::new(file))
        .map_err(|e| write_error(&path, e))?;
    let mut tiles = 0;
    for z in options.min_zoom..=options.max_zoom {
        for tile in tiles_over(bounds, z) {
            let bytes = render_tile(&requests, tile, tile_options);
            if bytes.is_empty() {
                continue;
            }
            writer
                .add_tile(
                    TileCoord::new(z, tile.x, tile.y).map_err(|e| write_error(&path, e))?,
                    &bytes,
                )
                .map_err(|e| write_error(&path, e))?;
            tiles += 1;
        }
    }
    writer.finalize().map_err(|e| write_error(&path, e))?;
    let bytes = std::fs::metadata(&path)
        .map_err(|e| write_error(&path, e))?
        .len();
    write_json(&options.out.join("style.json"), &style(snapshot, options))?;
    write_json(&options.out.join("tilejson.json"), &tilejson)?;
    let fonts = options
        .out
        .join("fonts")
        .join(crate::tiles::glyphs::FONT_STACK);
    std::fs::create_dir_all(&fonts).map_err(|e| write_error(&fonts, e))?;
    for range in crate::tiles::glyphs::embedded_ranges() {
        let glyphs = crate::tiles::glyphs::glyph_range(crate::tiles::glyphs::FONT_STACK, &range)
            .map_err(|e| write_error(&fonts, e))?;
        let file = fonts.join(format!("{range}.pbf"));
        std::fs::write(&file, glyphs).map_err(|e| write_error(&file, e))?;
    }
    write_viewer(snapshot, options)?;
    Ok(ExportSummary { tiles, bytes })
}

/// The files of the static viewer: MapLibre GL JS and the PMTiles reader with their
/// licences (from the binary), and `index.html`, which shows `style.json`.
const VIEWER_ASSETS: [&str; 6] = [
    "vendor/maplibre-gl.mjs",
    "vendor/maplibre-gl-worker.mjs",
    "vendor/maplibre-gl.css",
    "vendor/MAPLIBRE-LICENSE.txt",
    "vendor/pmtiles.js",
    "vendor/PMTILES-LICENSE.txt",
];

fn write_viewer(snapshot: &Snapshot, options: &ExportOptions) -> Result<(), ExportError> {
    let vendor = options.out.join("vendor");
    std::fs::create_dir_all(&vendor).map_err(|e| write_error(&vendor, e))?;
    for path in VIEWER_ASSETS {
        let asset = crate::web::asset(path)
            .ok_or_else(|| ExportError::Invalid(format!("{path} is not embedded")))?;
        let file = options.out.join(path);
        std::fs::write(&file, asset.bytes).map_err(|e| write_error(&file, e))?;
    }
    let title = snapshot
        .title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let html = VIEWER.replace("{{title}}", &title);
    let file = options.out.join("index.html");
    std::fs::write(&file, html).map_err(|e| write_error(&file, e))
}

/// A page that shows the exported map with nothing but static files: the style's relative
/// URLs are made absolute against the page, and MapLibre reads the archive through the
/// `pmtiles://` protocol with range requests.
const VIEWER: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<link rel="stylesheet" href="vendor/maplibre-gl.css">
<style>html, body, #map { margin: 0; height: 100%; }</style>
<script src="vendor/pmtiles.js"></script>
</head>
<body>
<div id="map" role="region" aria-label="{{title}}"></div>
<script type="module">
import * as maplibregl from './vendor/maplibre-gl.mjs';
const protocol = new pmtiles.Protocol();
maplibregl.addProtocol('pmtiles', protocol.tile);
const here = new URL('.', location.href).href;
const style = await (await fetch('style.json')).json();
const absolute = (u) => (/^[a-z]+:/i.test(u) ? u : here + u);
style.glyphs = absolute(style.glyphs);
for (const source of Object.values(style.sources)) {
  if (source.url?.startsWith('pmtiles://')) {
    source.url = 'pmtiles://' + absolute(source.url.slice('pmtiles://'.length));
  }
}
const map = new maplibregl.Map({ container: 'map', style, bounds: style.sources.dtmap.bounds, fitBoundsOptions: { padding: 20 }, hash: true });
map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
window.exported = { map, ready: new Promise((resolve) => map.once('idle', resolve)) };
</script>
</body>
</html>
"#;

fn write_json(path: &Path, value: &Value) -> Result<(), ExportError> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| write_error(path, e))?;
    std::fs::write(path, text).map_err(|e| write_error(path, e))
}

/// Where the published folder's files are: the base URL, or relative to the style.
fn base(options: &ExportOptions) -> String {
    options.base_url.clone().unwrap_or_default()
}

/// The server's default style, reading its tiles from the archive and its glyphs from
/// `fonts/`.
fn style(snapshot: &Snapshot, options: &ExportOptions) -> Value {
    let base = base(options);
    let mut style = crate::tiles::style::default_style(snapshot, "", None);
    let source = &mut style["sources"]["dtmap"];
    if let Some(object) = source.as_object_mut() {
        object.remove("tiles");
        object.insert("url".into(), json!(format!("pmtiles://{base}{ARCHIVE}")));
        object.insert("minzoom".into(), json!(options.min_zoom));
        object.insert("maxzoom".into(), json!(options.max_zoom));
    }
    style["glyphs"] = json!(format!("{base}fonts/{{fontstack}}/{{range}}.pbf"));
    style
}

/// The TileJSON of the archive's layers (also its metadata).
fn tilejson(layers: &[&crate::model::Layer], options: &ExportOptions) -> Value {
    let mut tilejson = crate::tiles::tilejson::tilejson(layers, "", None);
    tilejson["tiles"] = json!([format!("pmtiles://{}{ARCHIVE}", base(options))]);
    tilejson["minzoom"] = json!(options.min_zoom);
    tilejson["maxzoom"] = json!(options.max_zoom);
    tilejson
}

/// The tiles of zoom `z` that touch `bounds`.
fn tiles_over(bounds: [f64; 4], z: u8) -> Vec<TileId> {
    let size = crate::tiles::world_size(z);
    let n = 1u64 << z;
    let cell = |v: f64| ((v / size * n as f64).floor().max(0.0) as u64).min(n - 1);
    let (x0, y1) = lonlat_to_world(bounds[0], bounds[1], z);
    let (x1, y0) = lonlat_to_world(bounds[2], bounds[3], z);
    let mut out = Vec::new();
    for x in cell(x0)..=cell(x1) {
        for y in cell(y0)..=cell(y1) {
            if let Ok(tile) = TileId::new(u64::from(z), x, y) {
                out.push(tile);
            }
        }
    }
    out
}
