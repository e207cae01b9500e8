//! Loading: reads every layer's geometry source (one reader per format), picks ids and
//! published fields, joins the count tables, builds the R-tree, and returns one immutable
//! [`Snapshot`] with the [`LoadReport`] of everything that was wrong.
//!
//! This is the only place (with `config`) that touches files.

pub mod cells;
pub mod coordinates;
pub mod encoding;
mod features;
pub mod flatgeobuf;
pub mod geojson;
pub mod join;
pub mod languages;
pub mod placement;
pub mod plain;
pub mod points;
pub mod published;
pub mod remote;
pub mod report;
pub mod rollup;
pub mod semantics;
pub mod source;
pub mod table;

use std::collections::HashSet;
use std::sync::Arc;

use geo::{Geometry, Rect};
use xxhash_rust::xxh3::Xxh3;

use crate::config::{Config, CoordinateAction, LayerConfig, SourceFormat};
use crate::index::point_tree::NO_GROUP;
use crate::index::SpatialIndex;
use crate::model::{Dashboard, Feature, GeometryKind, GroupBy, Layer, RoundCounts, Snapshot};
use crate::progress;
use features::build_features;
use report::Place;
pub use report::{LoadReport, Problem, Severity};
use source::{Noun, SourceFeature};

/// Loads every layer of a config. The snapshot holds what could be loaded; the report says
/// what could not. Callers must not serve a snapshot whose report has errors.
pub fn load(config: &Config) -> (Snapshot, LoadReport) {
    let mut report = LoadReport::default();
    let mut hasher = Xxh3::new();
    // The whole effective config, so a config-only change is a new version too.
    hasher.update(&config.fingerprint().to_le_bytes());
    let mut layers = read_and_build(config, &mut report, &mut hasher);
    let checking = progress::Step::start("rolling up and checking the layers");
    // Every layer's totals were computed when it was built; areas given their sites'
    // sums have new ones.
    for target in rollup::roll_up(&mut layers, &mut report) {
        layers[target].round_totals = layers[target].compute_round_totals();
    }
    semantics::check(config, &layers, &mut report);
    coordinates::check(&layers, &mut report);
    let languages = languages::languages(config, &layers, &mut report);
    drop(checking);
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

/// A layer's files, read but not yet built into a layer.
struct ReadLayer {
    features: Vec<SourceFeature>,
    /// The worksheet the features came from, for a workbook.
    sheet: Option<String>,
    counts: Vec<Option<join::CountInput<'static>>>,
}

/// A layer read and built on its own thread, or read and left for later.
enum Outcome {
    Built(Box<Layer>),
    /// A point layer whose `coordinates.action` moves or leaves out sites: built once the
    /// layers of areas it is checked against are.
    Later(ReadLayer),
}

/// Reads and builds every layer, in config order, the layers side by side on every core;
/// each layer's problems and input digest are added in config order, so the report and
/// the data version do not depend on which finished first.
fn read_and_build(config: &Config, report: &mut LoadReport, hasher: &mut Xxh3) -> Vec<Layer> {
    let adjusts = |c: &LayerConfig| c.coordinates.action != CoordinateAction::Warn;
    let outcomes = crate::parallel::map(&config.layers, |layer_config| {
        let mut report = LoadReport::default();
        let mut hasher = Xxh3::new();
        let read = read_layer(config, layer_config, &mut report, &mut hasher);
        let outcome = if adjusts(layer_config) {
            Outcome::Later(read)
        } else {
            Outcome::Built(Box::new(build_read(
                layer_config,
                read,
                &HashSet::new(),
                &mut report,
            )))
        };
        (outcome, report, hasher.digest())
    });
    let mut built: Vec<Option<Layer>> = Vec::with_capacity(outcomes.len());
    let mut later = Vec::new();
    for (outcome, layer_report, digest) in outcomes {
        report.problems.extend(layer_report.problems);
        hasher.update(&digest.to_le_bytes());
        match outcome {
            Outcome::Built(layer) => built.push(Some(*layer)),
            Outcome::Later(read) => {
                later.push((built.len(), read));
                built.push(None);
            }
        }
    }
    for (position, mut read) in later {
        let layer_config = &config.layers[position];
        let areas = match &layer_config.group_layer {
            Some(id) => built.iter().flatten().find(|l| &l.id == id),
            None => built
                .iter()
                .flatten()
                .find(|l| l.kind == GeometryKind::Polygon && !l.basemap),
        };
        let points = read
            .features
            .iter()
            .all(|f| matches!(f.geometry, Geometry::Point(_)));
        let left_out = match areas {
            Some(areas) if points => {
                placement::apply(layer_config, &mut read.features, areas, report)
            }
            _ => {
                report.warning(
                    &format!("layer {}", layer_config.id),
                    None,
                    Some("coordinates"),
                    "coordinates.action applies to a layer of sites checked against a layer \
                     of areas (its group_layer, or the first layer of areas); nothing was \
                     moved or left out",
                );
                HashSet::new()
            }
        };
        built[position] = Some(build_read(layer_config, read, &left_out, report));
    }
    built.into_iter().flatten().collect()
}

/// Builds a layer from what [`read_layer`] read, with the sheet it used named in the
/// config so that the report names it.
fn build_read(
    layer_config: &LayerConfig,
    read: ReadLayer,
    left_out: &HashSet<String>,
    report: &mut LoadReport,
) -> Layer {
    let resolved;
    let layer_config = match read.sheet {
        Some(sheet) if layer_config.source.sheet.as_ref() != Some(&sheet) => {
            let mut with_sheet = layer_config.clone();
            with_sheet.source.sheet = Some(sheet);
            resolved = with_sheet;
            &resolved
        }
        _ => layer_config,
    };
    let count_files: Vec<join::CountFile<'_>> = layer_config
        .counts
        .iter()
        .zip(&read.counts)
        .map(|(config, input)| join::CountFile {
            config,
            input: input.as_ref(),
        })
        .collect();
    build(layer_config, read.features, &count_files, left_out, report)
}

/// Reads a layer's source and count tables.
fn read_layer(
    config: &Config,
    layer_config: &LayerConfig,
    report: &mut LoadReport,
    hasher: &mut Xxh3,
) -> ReadLayer {
    let source = &layer_config.source;
    let file = source.path.as_str();
    let mut sheet = None;
    let bbox = source.bbox_rect();
    let features = if remote::is_remote(file) {
        let _step = progress::Step::start(format!("reading {file}"));
        match remote::read(file, bbox, report) {
            Some((features, fetched)) => {
                hasher.update(file.as_bytes());
                hasher.update(&fetched.digest.to_le_bytes());
                features
            }
            None => Vec::new(),
        }
    } else {
        let features = read_local(config, layer_config, &mut sheet, report, hasher);
        match bbox {
            None => features,
            Some(bbox) => within(features, bbox),
        }
    };
    let counts = layer_config
        .counts
        .iter()
        .map(|table| read_count_table(config, table, report, hasher))
        .collect();
    ReadLayer {
        features,
        sheet,
        counts,
    }
}

/// A count table, scanned when it is a plain CSV file on disk (read in parts as it is
/// joined), else read whole; its path and digest go into the data version either way.
fn read_count_table(
    config: &Config,
    table: &crate::config::CountTableConfig,
    report: &mut LoadReport,
    hasher: &mut Xxh3,
) -> Option<join::CountInput<'static>> {
    hasher.update(table.path.as_bytes());
    let format = SourceFormat::from_path(&table.path).unwrap_or(SourceFormat::Csv);
    match plain_csv(config, &table.path, format, table.encoding()) {
        Ok(Some(plain)) => {
            hasher.update(&plain.digest.to_le_bytes());
            return Some(join::CountInput::Plain(plain));
        }
        Ok(None) => {}
        Err(e) => {
            report.error(&table.path, None, None, format!("cannot read: {e}"));
            return None;
        }
    }
    match config.read_file(&table.path) {
        Ok(bytes) => {
            hasher.update(&xxhash_rust::xxh3::xxh3_64(&bytes).to_le_bytes());
            Some(join::CountInput::Bytes(bytes))
        }
        Err(e) => {
            report.error(&table.path, None, None, format!("cannot read: {e}"));
            None
        }
    }
}

/// The features of a layer's source file on disk (or built in).
fn read_local(
    config: &Config,
    layer_config: &LayerConfig,
    sheet: &mut Option<String>,
    report: &mut LoadReport,
    hasher: &mut Xxh3,
) -> Vec<SourceFeature> {
    let source = &layer_config.source;
    let file = source.path.as_str();
    let format = source
        .format
        .or_else(|| SourceFormat::from_path(file))
        .unwrap_or(SourceFormat::Geojson);
    hasher.update(file.as_bytes());
    let plain = match plain_csv(config, file, format, source.encoding()) {
        Ok(plain) => plain,
        Err(e) => {
            report.error(file, None, None, format!("cannot read: {e}"));
            return Vec::new();
        }
    };
    if let Some(plain) = plain {
        hasher.update(&plain.digest.to_le_bytes());
        let _step = progress::Step::start(format!("reading {file}"));
        let lat = source.lat.as_deref().unwrap_or("lat");
        let lon = source.lon.as_deref().unwrap_or("lon");
        return points::read(points::PointTable::Plain(&plain), lat, lon, file, report)
            .unwrap_or_default();
    }
    match config.read_file(file) {
        Err(e) => {
            report.error(file, None, None, format!("cannot read: {e}"));
            Vec::new()
        }
        Ok(bytes) => {
            hasher.update(&xxhash_rust::xxh3::xxh3_64(&bytes).to_le_bytes());
            let _step = progress::Step::start(format!("reading {file}"));
            let read = match format {
                SourceFormat::Geojson => geojson::read(&bytes, file, report),
                SourceFormat::Flatgeobuf => flatgeobuf::read(&bytes, file, report),
                SourceFormat::Csv | SourceFormat::Xlsx => {
                    let options = table::ReadOptions {
                        sheet: source.sheet.as_deref(),
                        encoding: source.encoding(),
                    };
                    match table::rows_with(&bytes, format, options) {
                        Ok(table) => {
                            sheet.clone_from(&table.head.sheet);
                            points::read(
                                points::PointTable::Rows(table),
                                source.lat.as_deref().unwrap_or("lat"),
                                source.lon.as_deref().unwrap_or("lon"),
                                file,
                                report,
                            )
                        }
                        Err(e) => {
                            report.error(file, None, None, e.to_string());
                            None
                        }
                    }
                }
            };
            read.unwrap_or_default()
        }
    }
}

/// A CSV file on disk, scanned, when it is plain ([`plain`]) and declared as nothing but
/// UTF-8; `None` for any other file (read whole).
fn plain_csv(
    config: &Config,
    path: &str,
    format: SourceFormat,
    encoding: Option<&'static encoding_rs::Encoding>,
) -> std::io::Result<Option<plain::PlainCsv>> {
    let utf8 = encoding.is_none_or(|encoding| encoding == encoding_rs::UTF_8);
    match config.path_on_disk(path) {
        Some(path) if format == SourceFormat::Csv && utf8 => plain::PlainCsv::scan(&path),
        _ => Ok(None),
    }
}

/// The features whose envelope meets `bbox` (a source's `bbox` setting).
fn within(features: Vec<SourceFeature>, bbox: Rect<f64>) -> Vec<SourceFeature> {
    features.into_iter().filter(|f| f.meets(bbox)).collect()
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
    build(
        layer_config,
        source_features,
        count_files,
        &HashSet::new(),
        report,
    )
}

/// [`build_layer`], with the ids of sites left out for their coordinates, whose count rows
/// are not reported as matching nothing.
fn build(
    layer_config: &LayerConfig,
    source_features: Vec<SourceFeature>,
    count_files: &[join::CountFile<'_>],
    left_out: &HashSet<String>,
    report: &mut LoadReport,
) -> Layer {
    let building = progress::Step::start(format!(
        "building the features of layer {}",
        layer_config.id
    ));
    let noun = Noun::of(&source_features);
    let fields = published_fields(layer_config, &source_features, noun, report);
    if let Some(alt) = layer_config
        .alt_names
        .as_ref()
        .filter(|f| !fields.contains(f))
    {
        report.warning(
            &layer_config.source.path,
            None,
            Some(alt.as_str()),
            "alt_names names a property that is not published (add it to fields): search will not see it",
        );
    }
    let (features, by_id) = build_features(layer_config, source_features, &fields, noun, report);
    let feature_ids: Vec<&str> = features.iter().map(|f| f.id.as_str()).collect();
    drop(building);
    let joined = join::join(
        count_files,
        &join::Keys {
            by_id: &by_id,
            ids: &feature_ids,
            left_out,
            noun,
        },
        report,
    );

    let kind = layer_kind(&features);
    let extent = features.iter().map(Feature::bbox).reduce(union_rect);
    let tile_fields = layer_config
        .tile_fields
        .clone()
        .unwrap_or_else(|| fields.clone());
    let indexing = progress::Step::start(format!("indexing layer {}", layer_config.id));
    let group_by = group_by(layer_config, &features, noun, report);
    let index = index_with_sums(&features, &joined, group_by.as_ref());
    drop(indexing);
    let prepared_areas = match kind {
        GeometryKind::Polygon => (0..features.len())
            .map(|_| std::sync::OnceLock::new())
            .collect(),
        _ => Vec::new(),
    };
    let count_order = (0..joined.rounds.len() * joined.columns.len())
        .map(|_| std::sync::OnceLock::new())
        .collect();
    let mut layer = Layer {
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
        synthetic: joined.counts.iter().any(RoundCounts::any_synthetic),
        count_order,
        prepared_areas,
        counts: joined.counts,
        round_totals: Vec::new(),
        index,
        group_by,
        extent,
    };
    layer.round_totals = layer.compute_round_totals();
    layer
}

/// The distinct values of the `group_by` property.
fn group_by(
    layer_config: &LayerConfig,
    features: &[Feature],
    noun: Noun,
    report: &mut LoadReport,
) -> Option<GroupBy> {
    let field = layer_config.group_by.as_ref()?;
    let mut values: Vec<String> = features
        .first()
        .and_then(|f| f.properties.table().column(field))
        .map(|column| {
            column
                .distinct_codes()
                .filter_map(|code| column.value(code)?.key_text())
                .collect()
        })
        .unwrap_or_default();
    if values.is_empty() && !features.is_empty() {
        report.add(source_place(layer_config).problem(
            Severity::Warning,
            None,
            Some(field),
            format!("group_by: no {} has this", noun.one()),
        ));
    }
    values.sort();
    values.dedup();
    Some(GroupBy {
        field: field.clone(),
        layer: layer_config.group_layer.clone(),
        values,
    })
}

/// The layer's index; for a point layer, a tree with every round's counts of every point
/// summed, by group when the layer has one.
fn index_with_sums(
    features: &[Feature],
    joined: &join::JoinedCounts,
    group_by: Option<&GroupBy>,
) -> SpatialIndex {
    let columns = joined.columns.len();
    let width = joined.rounds.len() * columns;
    let groups = group_by.and_then(|g| {
        crate::model::map_property(features, &g.field, |value| {
            value
                .key_text()
                .and_then(|value| g.values.binary_search(&value).ok())
                .map_or(NO_GROUP, |g| g as u32)
        })
    });
    let group = |i: usize| groups.as_ref().map_or(NO_GROUP, |g| g[i]);
    SpatialIndex::build_with_sums(features, width, group, |feature, out| {
        crate::model::counts::write_values(&joined.counts, columns, feature as usize, out)
    })
}

/// The configured fields, or every property in order of first appearance.
fn published_fields(
    layer_config: &LayerConfig,
    features: &[SourceFeature],
    noun: Noun,
    report: &mut LoadReport,
) -> Vec<String> {
    match &layer_config.fields {
        Some(fields) => {
            for field in fields {
                let present = features.iter().any(|f| f.properties.contains_key(field));
                if !present && !features.is_empty() {
                    report.add(source_place(layer_config).problem(
                        Severity::Warning,
                        None,
                        Some(field),
                        format!(
                            "fields names this, but no {} has it; it will be empty",
                            noun.one()
                        ),
                    ));
                }
            }
            fields.clone()
        }
        None => {
            let mut fields: Vec<String> = Vec::new();
            // The rows of one table share their names: a million sites have one set.
            let mut tables: Vec<&Arc<source::RowNames>> = Vec::new();
            for feature in features {
                if let Some(names) = feature.properties.row_names() {
                    if tables.iter().any(|seen| Arc::ptr_eq(seen, names)) {
                        continue;
                    }
                    tables.push(names);
                }
                for key in feature.properties.keys() {
                    if !fields.iter().any(|f| f == key) {
                        fields.push(key.to_string());
                    }
                }
            }
            fields
        }
    }
}

/// Where the report places problems with a layer's source: its file, and the sheet of a
/// workbook (resolved by [`build_read`] when the config names none).
fn source_place(layer_config: &LayerConfig) -> Place<'_> {
    let source = &layer_config.source;
    let format = source
        .format
        .or_else(|| SourceFormat::from_path(&source.path));
    Place {
        file: &source.path,
        sheet: source
            .sheet
            .as_deref()
            .filter(|_| format == Some(SourceFormat::Xlsx)),
    }
}

fn layer_kind(features: &[Feature]) -> GeometryKind {
    let mut kinds = features.iter().map(|f| GeometryKind::of(&f.geometry()));
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
