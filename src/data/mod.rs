//! Loading: reads every layer's geometry source (one reader per format), picks ids and
//! published fields, joins the count tables, builds the R-tree, and returns one immutable
//! [`Snapshot`] with the [`LoadReport`] of everything that was wrong.
//!
//! This is the only place (with `config`) that touches files.

pub mod coordinates;
pub mod flatgeobuf;
pub mod geojson;
pub mod join;
pub mod languages;
pub mod points;
pub mod published;
pub mod report;
pub mod rollup;
pub mod semantics;
pub mod source;
pub mod table;

use std::collections::HashMap;
use std::sync::Arc;

use geo::{Geometry, Rect, Validation};
use serde_json::Map;
use xxhash_rust::xxh3::Xxh3;

use crate::config::{Config, LayerConfig, SourceFormat};
use crate::index::point_tree::{PointTree, TreePoint, NO_GROUP};
use crate::index::{bbox_of, SpatialIndex};
use crate::model::{Dashboard, Feature, GeometryKind, GroupBy, Layer, Snapshot};
pub use report::{LoadReport, Problem, Severity};
use source::{key_text, SourceFeature};

/// Loads every layer of a config. The snapshot holds what could be loaded; the report says
/// what could not. Callers must not serve a snapshot whose report has errors.
pub fn load(config: &Config) -> (Snapshot, LoadReport) {
    let mut report = LoadReport::default();
    let mut hasher = Xxh3::new();
    // The whole effective config, so a config-only change is a new version too.
    hasher.update(&config.fingerprint().to_le_bytes());
    let mut layers = Vec::with_capacity(config.layers.len());
    for layer_config in &config.layers {
        layers.push(load_layer(config, layer_config, &mut report, &mut hasher));
    }
    rollup::roll_up(&mut layers, &mut report);
    semantics::check(config, &layers, &mut report);
    coordinates::check(&layers, &mut report);
    let languages = languages::languages(config, &layers, &mut report);
    let layers: Vec<Arc<Layer>> = layers.into_iter().map(Arc::new).collect();
    let published = match config
        .dashboard
        .as_ref()
        .and_then(|d| d.published_figures.as_deref())
    {
        None => Vec::new(),
        Some(path) => match config.read_file(path) {
            Ok(bytes) => {
                hasher.update(&bytes);
                published::read(
                    &bytes,
                    path,
                    config
                        .dashboard
                        .as_ref()
                        .and_then(|d| d.published_area_column.as_deref()),
                    &mut report,
                )
            }
            Err(e) => {
                report.error(path, None, None, format!("cannot read: {e}"));
                Vec::new()
            }
        },
    };
    let snapshot = Snapshot {
        title: config.title.clone(),
        description: config.description.clone(),
        layers,
        version: hasher.digest(),
        dashboard: config.dashboard.as_ref().map(|d| Dashboard {
            areas: d.areas.clone(),
            sites: d.sites.clone(),
            main_count: d.main_count.clone(),
        }),
        published,
        languages,
    };
    (snapshot, report)
}

fn load_layer(
    config: &Config,
    layer_config: &LayerConfig,
    report: &mut LoadReport,
    hasher: &mut Xxh3,
) -> Layer {
    let source = &layer_config.source;
    let file = source.path.as_str();
    let source_features = match config.read_file(file) {
        Err(e) => {
            report.error(file, None, None, format!("cannot read: {e}"));
            Vec::new()
        }
        Ok(bytes) => {
            hasher.update(file.as_bytes());
            hasher.update(&bytes);
            let format = source
                .format
                .or_else(|| SourceFormat::from_path(file))
                .unwrap_or(SourceFormat::Geojson);
            let read = match format {
                SourceFormat::Geojson => geojson::read(&bytes, file, report),
                SourceFormat::Flatgeobuf => flatgeobuf::read(&bytes, file, report),
                SourceFormat::Csv | SourceFormat::Xlsx => {
                    match table::read(&bytes, format, source.sheet.as_deref()) {
                        Ok(table) => points::read(
                            &table,
                            source.lat.as_deref().unwrap_or("lat"),
                            source.lon.as_deref().unwrap_or("lon"),
                            file,
                            report,
                        ),
                        Err(e) => {
                            report.error(file, None, None, e.to_string());
                            None
                        }
                    }
                }
            };
            read.unwrap_or_default()
        }
    };

    let count_bytes: Vec<Option<std::borrow::Cow<'static, [u8]>>> = layer_config
        .counts
        .iter()
        .map(|table| match config.read_file(&table.path) {
            Ok(bytes) => {
                hasher.update(table.path.as_bytes());
                hasher.update(&bytes);
                Some(bytes)
            }
            Err(e) => {
                report.error(&table.path, None, None, format!("cannot read: {e}"));
                None
            }
        })
        .collect();
    let count_files: Vec<join::CountFile<'_>> = layer_config
        .counts
        .iter()
        .zip(&count_bytes)
        .map(|(config, bytes)| join::CountFile {
            config,
            bytes: bytes.as_deref(),
        })
        .collect();
    build_layer(layer_config, source_features, &count_files, report)
}

/// The name property of each language: `names`, with `name_ar_field` as `ar` unless
/// `names` has one.
fn name_fields(layer_config: &LayerConfig) -> Vec<(String, String)> {
    let mut names = layer_config.names.clone();
    if let Some(field) = &layer_config.name_ar_field {
        names.entry("ar".into()).or_insert_with(|| field.clone());
    }
    names.into_iter().collect()
}

/// Builds a layer from features already read and its count tables' bytes: ids and fields,
/// the join, the R-tree and the point tree. Reads no file.
pub fn build_layer(
    layer_config: &LayerConfig,
    source_features: Vec<SourceFeature>,
    count_files: &[join::CountFile<'_>],
    report: &mut LoadReport,
) -> Layer {
    let file = layer_config.source.path.as_str();
    let fields = published_fields(layer_config, &source_features, report);
    if let Some(alt) = layer_config
        .alt_names
        .as_ref()
        .filter(|f| !fields.contains(f))
    {
        report.warning(
            file,
            None,
            Some(alt.as_str()),
            "alt_names names a property that is not published (add it to fields): search will not see it",
        );
    }
    let features = build_features(layer_config, source_features, &fields, report);
    let by_id: HashMap<String, u32> = features
        .iter()
        .enumerate()
        .map(|(i, f)| (f.id.clone(), i as u32))
        .collect();
    let feature_ids: Vec<String> = features.iter().map(|f| f.id.clone()).collect();
    let joined = join::join(count_files, &by_id, &feature_ids, report);

    let kind = layer_kind(&features);
    let extent = features.iter().map(|f| f.bbox).reduce(union_rect);
    let tile_fields = layer_config
        .tile_fields
        .clone()
        .unwrap_or_else(|| fields.clone());
    let index = SpatialIndex::build(&features);
    let group_by = group_by(layer_config, &features, file, report);
    let points = index
        .is_points()
        .then(|| point_tree(&features, &joined, group_by.as_ref()));
    Layer {
        id: layer_config.id.clone(),
        title: layer_config
            .title
            .clone()
            .unwrap_or_else(|| layer_config.id.clone()),
        description: layer_config.description.clone(),
        attribution: layer_config.attribution.clone(),
        licence: layer_config.licence.clone(),
        basemap: layer_config.basemap,
        kind,
        fields,
        tile_fields,
        name_field: layer_config.name_field.clone(),
        names: name_fields(layer_config),
        admin_word: layer_config
            .admin_word
            .iter()
            .map(|(language, word)| (language.clone(), word.clone()))
            .collect(),
        admin_words: layer_config
            .admin_words
            .iter()
            .map(|(language, word)| (language.clone(), word.clone()))
            .collect(),
        alt_names: layer_config.alt_names.clone(),
        count_labels: layer_config
            .count_labels
            .iter()
            .map(|(column, labels)| {
                let labels = labels.iter().map(|(l, t)| (l.clone(), t.clone())).collect();
                (column.clone(), labels)
            })
            .collect(),
        features,
        by_id,
        count_columns: joined.columns,
        rounds: joined.rounds,
        synthetic: joined
            .counts
            .iter()
            .flatten()
            .flatten()
            .any(|record| record.synthetic),
        counts: joined.counts,
        index,
        points,
        group_by,
        extent,
    }
}

/// The distinct values of the `group_by` property.
fn group_by(
    layer_config: &LayerConfig,
    features: &[Feature],
    file: &str,
    report: &mut LoadReport,
) -> Option<GroupBy> {
    let field = layer_config.group_by.as_ref()?;
    let mut values: Vec<String> = features
        .iter()
        .filter_map(|f| f.properties.get(field).and_then(key_text))
        .collect();
    if values.is_empty() && !features.is_empty() {
        report.warning(
            file,
            None,
            Some(field),
            "group_by: no feature has this property",
        );
    }
    values.sort();
    values.dedup();
    Some(GroupBy {
        field: field.clone(),
        layer: layer_config.group_layer.clone(),
        values,
    })
}

/// The tree with sums of a point layer: every round's counts of every point.
fn point_tree(
    features: &[Feature],
    joined: &join::JoinedCounts,
    group_by: Option<&GroupBy>,
) -> PointTree {
    let columns = joined.columns.len();
    let width = joined.rounds.len() * columns;
    let points = features
        .iter()
        .enumerate()
        .filter_map(|(i, f)| match &f.geometry {
            Geometry::Point(p) => Some(TreePoint {
                feature: i as u32,
                coord: [p.x(), p.y()],
                group: group_by
                    .and_then(|g| {
                        let value = f.properties.get(&g.field).and_then(key_text)?;
                        g.values.binary_search(&value).ok()
                    })
                    .map(|g| g as u32)
                    .unwrap_or(NO_GROUP),
            }),
            _ => None,
        })
        .collect();
    PointTree::build(points, width, |feature, out| {
        for (round, row) in joined.counts.iter().enumerate() {
            if let Some(record) = &row[feature as usize] {
                for (c, value) in record.values.iter().enumerate() {
                    out[round * columns + c] = value.unwrap_or(0);
                }
            }
        }
    })
}

/// The configured fields, or every property in order of first appearance.
fn published_fields(
    layer_config: &LayerConfig,
    features: &[SourceFeature],
    report: &mut LoadReport,
) -> Vec<String> {
    match &layer_config.fields {
        Some(fields) => {
            for field in fields {
                let present = features.iter().any(|f| f.properties.contains_key(field));
                if !present && !features.is_empty() {
                    report.warning(
                        &layer_config.source.path,
                        None,
                        Some(field),
                        "configured field is in no feature; it will be null",
                    );
                }
            }
            fields.clone()
        }
        None => {
            let mut fields: Vec<String> = Vec::new();
            for feature in features {
                for key in feature.properties.keys() {
                    if !fields.contains(key) {
                        fields.push(key.clone());
                    }
                }
            }
            fields
        }
    }
}

fn build_features(
    layer_config: &LayerConfig,
    source_features: Vec<SourceFeature>,
    fields: &[String],
    report: &mut LoadReport,
) -> Vec<Feature> {
    let file = layer_config.source.path.as_str();
    let id_field = layer_config.id_field.as_str();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut features = Vec::with_capacity(source_features.len());
    for source in source_features {
        let id = source
            .properties
            .get(id_field)
            .and_then(key_text)
            .or_else(|| source.native_id.clone())
            .or_else(|| layer_config.basemap.then(|| source.row.to_string()));
        let Some(id) = id else {
            report.error(
                file,
                Some(source.row),
                Some(id_field),
                "feature has no id (missing or empty)",
            );
            continue;
        };
        if let Some(first) = seen.get(&id) {
            report.error(
                file,
                Some(source.row),
                Some(id_field),
                format!("duplicate id {id:?} (first at {first})"),
            );
            continue;
        }
        seen.insert(id.clone(), source.row);
        // Background layers are drawn, never queried, and validating a country outline of
        // thousands of vertices costs more than the rest of the load together.
        let checked = !layer_config.basemap;
        if let Some(reason) = checked.then(|| invalidity(&source.geometry)).flatten() {
            report.warning(
                file,
                Some(source.row),
                Some("geometry"),
                format!("invalid geometry ({reason}); served as is"),
            );
        }
        let mut properties = Map::with_capacity(fields.len());
        let mut source_properties = source.properties;
        for field in fields {
            let value = source_properties
                .remove(field)
                .unwrap_or(serde_json::Value::Null);
            properties.insert(field.clone(), value);
        }
        let mut geometry_json = String::new();
        crate::geometry::write_geojson(&mut geometry_json, &source.geometry);
        features.push(Feature {
            id,
            bbox: bbox_of(&source.geometry),
            geometry: source.geometry,
            properties,
            geometry_json: geometry_json.into_boxed_str(),
        });
    }
    features
}

/// Why a polygonal geometry is invalid, if it is (points and lines are not checked).
fn invalidity(geometry: &Geometry<f64>) -> Option<String> {
    match geometry {
        Geometry::Polygon(p) => p.check_validation().err().map(|e| e.to_string()),
        Geometry::MultiPolygon(mp) => mp.check_validation().err().map(|e| e.to_string()),
        _ => None,
    }
}

fn layer_kind(features: &[Feature]) -> GeometryKind {
    let mut kinds = features.iter().map(|f| GeometryKind::of(&f.geometry));
    let Some(first) = kinds.next() else {
        return GeometryKind::Mixed;
    };
    if kinds.all(|k| k == first) {
        first
    } else {
        GeometryKind::Mixed
    }
}

fn union_rect(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
        (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
    )
}
