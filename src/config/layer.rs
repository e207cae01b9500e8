//! The `[[layer]]` tables: a layer's geometry source, its count tables, what loading does
//! with sites whose coordinates look wrong, and the checks of the encodings they declare.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{ConfigError, DEFAULT_SNAP_KM};

/// One `[[layer]]`: a geometry source, its id field, the fields to publish and the count
/// tables joined onto it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerConfig {
    /// Collection id used in URLs (`/collections/{id}`).
    pub id: String,
    /// Human title.
    #[serde(default)]
    pub title: Option<String>,
    /// Human description.
    #[serde(default)]
    pub description: String,
    /// Attribution shown with the layer (licence, source).
    #[serde(default)]
    pub attribution: String,
    /// Licence of the layer's data, named (e.g. "CC BY 4.0").
    #[serde(default)]
    pub licence: Option<String>,
    /// Whether this is a background layer (countries, rivers) rather than data.
    #[serde(default)]
    pub basemap: bool,
    /// The geometry source.
    pub source: SourceConfig,
    /// Property (or column) holding the feature's unique id; the join key of count tables.
    pub id_field: String,
    /// Property holding the feature's display name (English).
    #[serde(default)]
    pub name_field: Option<String>,
    /// Property holding the feature's name in Arabic (shorthand for `names.ar`).
    #[serde(default)]
    pub name_ar_field: Option<String>,
    /// Property holding the feature's name in each language, by language code
    /// (`{ en = "ADM1_EN", ha = "ADM1_HA" }`); clients show the name of their language and
    /// fall back to `name_field`.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    /// What one feature of this layer is called, by language code
    /// (`{ en = "state", fr = "État" }`): "province", "district", "county"…
    #[serde(default)]
    pub admin_word: BTreeMap<String, String>,
    /// The same word in the plural, by language code (`{ en = "states" }`), for headings
    /// such as "States by persons".
    #[serde(default)]
    pub admin_words: BTreeMap<String, String>,
    /// Property holding other names of a feature (spellings, transliterations, codes),
    /// separated by `;` or `|`; clients search them too. Published as `altNames`.
    #[serde(default)]
    pub alt_names: Option<String>,
    /// Labels of count columns, by column then language code
    /// (`{ hh = { en = "Households", fr = "Ménages" } }`); the column name where none.
    #[serde(default)]
    pub count_labels: BTreeMap<String, BTreeMap<String, String>>,
    /// Properties to publish; all properties of the source when absent.
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    /// Properties written into vector tiles; `fields` when absent.
    #[serde(default)]
    pub tile_fields: Option<Vec<String>>,
    /// Property that groups the features in area totals (e.g. the state p-code).
    #[serde(default)]
    pub group_by: Option<String>,
    /// Layer whose features the `group_by` values are ids of (names come from there).
    #[serde(default)]
    pub group_layer: Option<String>,
    /// Count tables joined onto the features by `id_field`.
    #[serde(default)]
    pub counts: Vec<CountTableConfig>,
    /// What to do with sites whose coordinates look wrong (point layers).
    #[serde(default)]
    pub coordinates: CoordinatesConfig,
}

/// `coordinates = { action = "snap", snap_km = 5 }`: what loading does with a site at 0,0,
/// outside every area, or with latitude and longitude swapped.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CoordinatesConfig {
    /// Warn (the default), snap to the nearest area, or reject.
    #[serde(default)]
    pub action: CoordinateAction,
    /// How far (km) outside every area a site may be and still be snapped.
    #[serde(default = "default_snap_km")]
    pub snap_km: f64,
}

impl Default for CoordinatesConfig {
    fn default() -> Self {
        CoordinatesConfig {
            action: CoordinateAction::default(),
            snap_km: DEFAULT_SNAP_KM,
        }
    }
}

fn default_snap_km() -> f64 {
    DEFAULT_SNAP_KM
}

/// What loading does with a site whose coordinates look wrong.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CoordinateAction {
    /// Keep every site where it is and say which look wrong.
    #[default]
    Warn,
    /// Move a site outside every area but within `snap_km` of one to that area's nearest
    /// point; warn about the rest.
    Snap,
    /// Leave out sites at 0,0, outside every area or with latitude and longitude swapped.
    Reject,
}

/// The encoding a (validated) `encoding` setting names.
fn encoding_of(label: Option<&str>) -> Option<&'static encoding_rs::Encoding> {
    label.and_then(|label| encoding_rs::Encoding::for_label(label.trim().as_bytes()))
}

impl SourceConfig {
    /// The declared encoding of a CSV source.
    pub fn encoding(&self) -> Option<&'static encoding_rs::Encoding> {
        encoding_of(self.encoding.as_deref())
    }
}

impl CountTableConfig {
    /// The declared encoding of a CSV count table.
    pub fn encoding(&self) -> Option<&'static encoding_rs::Encoding> {
        encoding_of(self.encoding.as_deref())
    }
}

/// Where a layer's geometries come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// File path, relative to the config file.
    pub path: String,
    /// Format; guessed from the file extension when absent.
    #[serde(default)]
    pub format: Option<SourceFormat>,
    /// Latitude column, for CSV/XLSX point sources.
    #[serde(default)]
    pub lat: Option<String>,
    /// Longitude column, for CSV/XLSX point sources.
    #[serde(default)]
    pub lon: Option<String>,
    /// Worksheet, for XLSX sources (first sheet when absent).
    #[serde(default)]
    pub sheet: Option<String>,
    /// Text encoding of a CSV source (a WHATWG label such as "windows-1256"); found out
    /// from the bytes when absent.
    #[serde(default)]
    pub encoding: Option<String>,
    /// Load only the features whose envelope meets this box `[west, south, east, north]`
    /// (lon/lat). A remote FlatGeobuf file with a spatial index is then read by range
    /// requests for those features alone.
    #[serde(default)]
    pub bbox: Option<[f64; 4]>,
}

impl SourceConfig {
    /// The `bbox` setting as a rectangle (checked by the config's validation).
    pub fn bbox_rect(&self) -> Option<geo::Rect<f64>> {
        self.bbox.map(|[w, s, e, n]| {
            geo::Rect::new(geo::coord! { x: w, y: s }, geo::coord! { x: e, y: n })
        })
    }
}

/// File formats dtmap reads.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    /// GeoJSON FeatureCollection.
    Geojson,
    /// FlatGeobuf.
    Flatgeobuf,
    /// Comma-separated values with a header row.
    Csv,
    /// Excel workbook.
    Xlsx,
}

impl SourceFormat {
    /// The format a file name suggests.
    pub fn from_path(path: &str) -> Option<SourceFormat> {
        let lower = path.to_ascii_lowercase();
        let ext = lower.rsplit('.').next()?;
        match ext {
            "geojson" | "json" => Some(SourceFormat::Geojson),
            "fgb" => Some(SourceFormat::Flatgeobuf),
            "csv" => Some(SourceFormat::Csv),
            "xlsx" | "xlsm" | "xls" | "ods" => Some(SourceFormat::Xlsx),
            _ => None,
        }
    }
}

/// A count table: one row per feature and round.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountTableConfig {
    /// File path (CSV or XLSX), relative to the config file.
    pub path: String,
    /// Worksheet, for XLSX (first sheet when absent).
    #[serde(default)]
    pub sheet: Option<String>,
    /// Text encoding of a CSV table (a WHATWG label such as "windows-1256"); found out from
    /// the bytes when absent.
    #[serde(default)]
    pub encoding: Option<String>,
    /// Column holding the feature id.
    pub key: String,
    /// Column holding the round id (a date like 2019-10-31 or a round number).
    #[serde(default)]
    pub round: Option<String>,
    /// The round of every row, for a table of one round (a master list of one round per
    /// file or sheet); instead of `round`.
    #[serde(default)]
    pub round_id: Option<String>,
    /// Column holding a label of the round (e.g. "Round 112"); optional.
    #[serde(default)]
    pub round_label: Option<String>,
    /// The label of the round of every row, for a table of one round (`round_id`);
    /// a `round_label` column wins where it has one.
    #[serde(default)]
    pub label: Option<String>,
    /// The count columns: a name, or `{ name = "households", column = "HH Total" }`.
    pub columns: Vec<CountColumnConfig>,
    /// Column flagging synthetic (illustrative) rows; optional.
    #[serde(default)]
    pub synthetic_column: Option<String>,
    /// Marks every row of this table as synthetic.
    #[serde(default)]
    pub synthetic: bool,
    /// Column naming the source of each row's figures; optional.
    #[serde(default)]
    pub source_column: Option<String>,
    /// Source of the whole table, used where a row names none.
    #[serde(default)]
    pub source: Option<String>,
    /// Skip bad rows with a warning instead of refusing the whole dataset.
    #[serde(default)]
    pub skip_bad_rows: bool,
}

/// A count column, with the header it is read from.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum CountColumnConfig {
    /// Same name in the file and in the API.
    Same(String),
    /// Renamed.
    Renamed {
        /// Name in the API.
        name: String,
        /// Header in the file.
        column: String,
    },
}

impl CountColumnConfig {
    /// Name in the API.
    pub fn name(&self) -> &str {
        match self {
            CountColumnConfig::Same(n) => n,
            CountColumnConfig::Renamed { name, .. } => name,
        }
    }
    /// Header in the file.
    pub fn column(&self) -> &str {
        match self {
            CountColumnConfig::Same(n) => n,
            CountColumnConfig::Renamed { column, .. } => column,
        }
    }
}

/// A declared encoding must be a known label, on a CSV file.
pub(super) fn check_encoding(
    layer: &str,
    setting: &str,
    path: &str,
    format: Option<SourceFormat>,
    label: Option<&str>,
) -> Result<(), ConfigError> {
    let Some(label) = label else { return Ok(()) };
    if encoding_rs::Encoding::for_label(label.trim().as_bytes()).is_none() {
        return Err(ConfigError::Invalid(format!(
            "layer {layer:?}: {setting} = {label:?} is not an encoding dtmap knows; use a \
             label such as \"utf-8\", \"windows-1256\", \"utf-16le\" or \"iso-8859-1\""
        )));
    }
    if format != Some(SourceFormat::Csv) {
        return Err(ConfigError::Invalid(format!(
            "layer {layer:?}: {setting} = {label:?}, but {path:?} is not a CSV file; only CSV \
             files have an encoding to declare"
        )));
    }
    Ok(())
}
