//! The served data: layers of features with their joined counts, and the immutable
//! [`Snapshot`] that holds them all. A snapshot is built once by [`crate::data::load`] and
//! never changed; a reload builds a new one and swaps it in whole.

use std::borrow::Cow;
use std::ops::Bound;
use std::sync::{Arc, OnceLock};

use geo::{Geometry, Rect};

use crate::geometry::area::IndexedArea;
use crate::index::point_tree::PointTree;
use crate::index::SpatialIndex;

pub mod counts;
pub mod properties;
pub mod shape;
pub use counts::{CountRecord, CountRow, RoundCounts};
pub use properties::{key_text, FieldValue, Properties, PropertyTable, PropertyTableBuilder};
pub use shape::Shape;

/// One feature: a geometry with its id and published properties.
#[derive(Debug, Clone)]
pub struct Feature {
    /// Unique id within the layer (the join key of count tables). Kept inline up to 24
    /// bytes: a million sites' ids as `String`s took 16 MB of allocations beside them.
    pub id: compact_str::CompactString,
    /// WGS84 lon/lat geometry ([`Feature::geometry`]).
    pub shape: Shape,
    /// Published properties, in the order the config lists them.
    pub properties: Properties,
}

impl Feature {
    /// The WGS84 lon/lat geometry.
    pub fn geometry(&self) -> Cow<'_, Geometry<f64>> {
        self.shape.geometry()
    }

    /// The point, when the geometry is one.
    pub fn point(&self) -> Option<geo::Point<f64>> {
        self.shape.point()
    }

    /// The bounding box of the geometry. Worked out when asked (the index, the extent and
    /// the tiles ask once per load): kept, it took 32 bytes a site.
    pub fn bbox(&self) -> Rect<f64> {
        match &self.shape {
            Shape::Point(p) => Rect::new(p.0, p.0),
            Shape::Other(geometry) => crate::index::bbox_of(geometry),
        }
    }

    /// Appends the geometry as GeoJSON. It is written when asked, not kept as text: the
    /// world's admin-1 outlines as text took 30 MB, and writing an outline of a thousand
    /// vertices takes tens of microseconds.
    pub fn push_geometry_json(&self, out: &mut String) {
        crate::geometry::write_geojson(out, &self.geometry());
    }
}

/// Each feature's value of `field` mapped by `map`, which is called once per distinct
/// value (a million sites name a few thousand areas); `None` when the field is not
/// published or there are no features. The features share one property table.
pub fn map_property<T: Clone>(
    features: &[Feature],
    field: &str,
    mut map: impl FnMut(FieldValue<'_>) -> T,
) -> Option<Vec<T>> {
    let table = features.first()?.properties.table();
    let column = table.column(field)?;
    let mapped: rustc_hash::FxHashMap<u32, T> = column
        .distinct_codes()
        .filter_map(|code| Some((code, map(column.value(code)?))))
        .collect();
    features
        .iter()
        .map(|f| {
            debug_assert!(Arc::ptr_eq(f.properties.table(), table));
            let code = column.code(f.properties.row())?;
            mapped.get(&code).cloned()
        })
        .collect()
}

/// Areas with at least this many vertices are kept prepared once asked for (about 80
/// bytes a vertex: 19 of the world's 4,596 admin-1 areas, 188,000 vertices, about 15 MB).
/// A smaller area is prepared per request, in well under a millisecond.
pub const KEPT_AREA_MIN_VERTICES: usize = 4_000;

/// Feature positions by id: a hash table of positions only, each id read from its
/// feature when compared (a map of its own copies of a million ids took about 85 MB).
#[derive(Debug, Default, Clone)]
pub struct FeatureIds {
    table: hashbrown::HashTable<u32>,
}

impl FeatureIds {
    /// An empty index with room for `n` ids.
    pub fn with_capacity(n: usize) -> FeatureIds {
        FeatureIds {
            table: hashbrown::HashTable::with_capacity(n),
        }
    }

    fn hash(id: &str) -> u64 {
        use std::hash::BuildHasher;
        rustc_hash::FxBuildHasher.hash_one(id)
    }

    /// The position of the feature with `id`, where `id_at(position)` is the id of the
    /// feature at a position.
    pub fn find<'a>(&self, id: &str, id_at: impl Fn(u32) -> &'a str) -> Option<u32> {
        self.table
            .find(Self::hash(id), |&at| id_at(at) == id)
            .copied()
    }

    /// Adds the feature at `position`, whose id is `id_at(position)` and not yet here.
    pub fn insert<'a>(&mut self, position: u32, id_at: impl Fn(u32) -> &'a str) {
        self.table
            .insert_unique(Self::hash(id_at(position)), position, |&at| {
                Self::hash(id_at(at))
            });
    }

    /// Adds the feature at `position`, whose id is `id_at(position)`, unless a feature
    /// with the same id is here already: then that feature's position is the error.
    pub fn insert_new<'a>(
        &mut self,
        position: u32,
        id_at: impl Fn(u32) -> &'a str,
    ) -> Result<(), u32> {
        let id = id_at(position);
        match self.table.entry(
            Self::hash(id),
            |&at| id_at(at) == id,
            |&at| Self::hash(id_at(at)),
        ) {
            hashbrown::hash_table::Entry::Occupied(found) => Err(*found.get()),
            hashbrown::hash_table::Entry::Vacant(place) => {
                place.insert(position);
                Ok(())
            }
        }
    }

    /// Gives every position the number `renumber(position)` (the same features,
    /// numbered anew).
    pub fn renumber(&mut self, renumber: impl Fn(u32) -> u32) {
        for position in self.table.iter_mut() {
            *position = renumber(*position);
        }
    }

    /// The index of `features`, whose ids are distinct.
    pub fn of(features: &[Feature]) -> FeatureIds {
        let mut ids = FeatureIds::with_capacity(features.len());
        for position in 0..features.len() as u32 {
            ids.insert(position, |at| &features[at as usize].id);
        }
        ids
    }

    /// The number of ids.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

impl crate::index::Indexed for Feature {
    fn geometry(&self) -> Cow<'_, Geometry<f64>> {
        Feature::geometry(self)
    }
    fn bbox(&self) -> Rect<f64> {
        Feature::bbox(self)
    }
}

/// One round of data collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    /// The id used in the API (`?round=`), e.g. `2019-10-31` or `112`.
    pub id: String,
    /// A label such as the DTM round number, where the tables give one.
    pub label: Option<String>,
    /// The round's date (`YYYY-MM-DD`) when the id is a date.
    pub date: Option<String>,
}

/// The sums of a layer's count columns over all its features in one round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundTotal {
    /// One sum per count column; `None` where no feature has a figure.
    pub values: Box<[Option<i64>]>,
    /// Some summed figure is illustrative.
    pub any_illustrative: bool,
}

/// The geometry type a layer holds, for clients that need one (OGC, TileJSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryKind {
    /// Points or multipoints.
    Point,
    /// Lines.
    Line,
    /// Polygons or multipolygons.
    Polygon,
    /// A mix.
    Mixed,
}

impl GeometryKind {
    /// The OGC/GeoJSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            GeometryKind::Point => "point",
            GeometryKind::Line => "linestring",
            GeometryKind::Polygon => "polygon",
            GeometryKind::Mixed => "geometry",
        }
    }

    /// The kind of one geometry.
    pub fn of(geometry: &Geometry<f64>) -> GeometryKind {
        match geometry {
            Geometry::Point(_) | Geometry::MultiPoint(_) => GeometryKind::Point,
            Geometry::Line(_) | Geometry::LineString(_) | Geometry::MultiLineString(_) => {
                GeometryKind::Line
            }
            Geometry::Polygon(_)
            | Geometry::MultiPolygon(_)
            | Geometry::Rect(_)
            | Geometry::Triangle(_) => GeometryKind::Polygon,
            Geometry::GeometryCollection(_) => GeometryKind::Mixed,
        }
    }
}

/// How features are grouped in area totals.
#[derive(Debug, Clone)]
pub struct GroupBy {
    /// The property.
    pub field: String,
    /// The layer whose ids the values are, for names.
    pub layer: Option<String>,
    /// The distinct values; a group id is a position here.
    pub values: Vec<String>,
}

/// One layer (an OGC collection).
#[derive(Debug)]
pub struct Layer {
    /// Id in URLs.
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Attribution (licences, sources).
    pub attribution: String,
    /// A background layer (countries, rivers).
    pub basemap: bool,
    /// The geometry type.
    pub kind: GeometryKind,
    /// Published property names, in order.
    pub fields: Vec<String>,
    /// Property names written into vector tiles.
    pub tile_fields: Vec<String>,
    /// Licence of the data.
    pub licence: Option<String>,
    /// Property with the default name (shown where a language has none).
    pub name_field: Option<String>,
    /// Property with the name in each language, by language code.
    pub names: Vec<(String, String)>,
    /// What one feature is called, by language code ("state", "province", "district"…).
    pub admin_word: Vec<(String, String)>,
    /// The same word in the plural, by language code.
    pub admin_words: Vec<(String, String)>,
    /// Property with other names of a feature, separated by `;` or `|` (for search).
    pub alt_names: Option<String>,
    /// Labels of count columns: column, then (language code, label) pairs.
    pub count_labels: Vec<(String, Vec<(String, String)>)>,
    /// The features.
    pub features: Vec<Feature>,
    /// Feature position by id (see [`Layer::position`]).
    pub by_id: FeatureIds,
    /// Names of the count columns, in order.
    pub count_columns: Vec<String>,
    /// Rounds in ascending order; the last is the latest.
    pub rounds: Vec<Round>,
    /// The figures of each round, in the order of `rounds`.
    pub counts: Vec<RoundCounts>,
    /// Whether any record of `counts` is synthetic (found once at load: answers ask often).
    pub synthetic: bool,
    /// The features with a figure in each count column of each round, ordered by it (ties
    /// in file order), at `[round * count_columns.len() + column]`; each is sorted on first
    /// use, for range filters on counts ([`Layer::features_in_count_range`]).
    pub count_order: Vec<OnceLock<Box<[u32]>>>,
    /// Areas of many vertices prepared for queries, kept on first use: one slot per
    /// feature of a polygon layer (none for other layers); see [`Layer::prepared_area`].
    pub prepared_areas: Vec<OnceLock<Result<Arc<IndexedArea>, String>>>,
    /// `round_totals[round]`: the sums over every feature (found once at load).
    pub round_totals: Vec<RoundTotal>,
    /// R-tree over the features.
    pub index: SpatialIndex,
    /// The grouping of area totals, when configured.
    pub group_by: Option<GroupBy>,
    /// Bounding box of all features.
    pub extent: Option<Rect<f64>>,
}

impl Drop for Layer {
    fn drop(&mut self) {
        if self.features.len() >= crate::background::LARGE {
            let index =
                std::mem::replace(&mut self.index, SpatialIndex::Boxes(rstar::RTree::new()));
            crate::background::drop_in_background((
                std::mem::take(&mut self.features),
                std::mem::take(&mut self.by_id),
                std::mem::take(&mut self.counts),
                index,
            ));
        }
    }
}

impl Layer {
    /// The tree with sums over the points, for a point layer.
    pub fn points(&self) -> Option<&PointTree> {
        self.index.point_tree()
    }

    /// The position of the feature with `id`.
    pub fn position(&self, id: &str) -> Option<u32> {
        self.by_id.find(id, |at| {
            self.features.get(at as usize).map_or("", |f| &f.id)
        })
    }

    /// The feature with `id`.
    pub fn feature(&self, id: &str) -> Option<&Feature> {
        self.features.get(self.position(id)? as usize)
    }

    /// A feature's names by language code (those it has), for answers that list names.
    pub fn names_of(&self, feature: &Feature) -> std::collections::BTreeMap<String, String> {
        self.names
            .iter()
            .filter_map(|(code, field)| {
                let name = feature.properties.get(field)?.as_str()?.trim();
                (!name.is_empty()).then(|| (code.clone(), name.to_string()))
            })
            .collect()
    }

    /// The position of a round by id.
    pub fn round_position(&self, id: &str) -> Option<usize> {
        self.rounds.iter().position(|r| r.id == id)
    }

    /// The sums over every feature of each round, from `counts`.
    pub fn compute_round_totals(&self) -> Vec<RoundTotal> {
        crate::parallel::map(&self.counts, |records| {
            let mut values = vec![None; self.count_columns.len()];
            let mut any_illustrative = false;
            for (_, record) in records.rows() {
                for (sum, value) in values.iter_mut().zip(record.values()) {
                    if let Some(value) = value {
                        *sum = Some(sum.unwrap_or(0i64).saturating_add(value));
                        any_illustrative |= record.synthetic();
                    }
                }
            }
            RoundTotal {
                values: values.into_boxed_slice(),
                any_illustrative,
            }
        })
    }

    /// The latest round, if the layer has counts.
    pub fn latest_round(&self) -> Option<usize> {
        self.rounds.len().checked_sub(1)
    }

    /// The counts of a feature in a round.
    pub fn count(&self, round: usize, feature: u32) -> Option<CountRow<'_>> {
        self.counts.get(round)?.row(feature as usize)
    }

    /// The features whose figure of `column` in `round` lies within the bounds, in file
    /// order (`None` for a round or column the layer does not have). A binary search of the
    /// column's order, sorted on the first call.
    pub fn features_in_count_range(
        &self,
        round: usize,
        column: usize,
        lower: Bound<f64>,
        upper: Bound<f64>,
    ) -> Option<Vec<u32>> {
        let in_range = self.count_range_in_order(round, column, lower, upper)?;
        Some(self.in_file_order(in_range))
    }

    /// How many features have a figure of `column` in `round` within the bounds, and the
    /// `limit` of them from `offset` in file order: [`Layer::features_in_count_range`]
    /// paged, without putting every match in file order when the page is near the start
    /// and matches are not rare (then the features are read in file order until the page
    /// is full).
    pub fn count_range_page(
        &self,
        round: usize,
        column: usize,
        (lower, upper): (Bound<f64>, Bound<f64>),
        offset: usize,
        limit: usize,
    ) -> Option<(usize, Vec<u32>)> {
        let in_range = self.count_range_in_order(round, column, lower, upper)?;
        let (matched, features) = (in_range.len(), self.features.len());
        let wanted = offset.saturating_add(limit).min(matched);
        if offset >= wanted {
            return Some((matched, Vec::new()));
        }
        // Reading in file order looks at about wanted × features / matched features;
        // ordering every match costs about a match plus a bitmap word per 64 features.
        let scanned = (wanted as u128 * features as u128).div_ceil(matched as u128);
        if scanned > (matched + features / 64) as u128 * 4 {
            let all = self.in_file_order(in_range);
            return Some((matched, all[offset..wanted].to_vec()));
        }
        // The range is a run of the order, which ties never straddle: a figure is in it
        // exactly when it lies between the run's first and last figures.
        let figure = |f: u32| self.count(round, f).and_then(|r| r.value(column));
        let (lowest, highest) = (figure(in_range[0])?, figure(in_range[matched - 1])?);
        let mut page = Vec::with_capacity(wanted - offset);
        let mut seen = 0;
        for f in 0..features as u32 {
            let Some(v) = figure(f) else {
                continue;
            };
            if (lowest..=highest).contains(&v) {
                if seen >= offset {
                    page.push(f);
                }
                seen += 1;
                if seen == wanted {
                    break;
                }
            }
        }
        Some((matched, page))
    }

    /// The features whose figure lies within the bounds, in the order of their figures.
    fn count_range_in_order(
        &self,
        round: usize,
        column: usize,
        lower: Bound<f64>,
        upper: Bound<f64>,
    ) -> Option<&[u32]> {
        let width = self.count_columns.len();
        if column >= width || round >= self.rounds.len() {
            return None;
        }
        let slot = self.count_order.get(round * width + column)?;
        let figure = |f: u32| self.count(round, f).and_then(|r| r.value(column));
        let order = slot.get_or_init(|| {
            let mut ids: Vec<u32> = (0..self.features.len() as u32)
                .filter(|&f| figure(f).is_some())
                .collect();
            ids.sort_by_key(|&f| figure(f));
            ids.into_boxed_slice()
        });
        let value = |f: &u32| figure(*f).map_or(f64::NAN, |v| v as f64);
        let start = match lower {
            Bound::Unbounded => 0,
            Bound::Included(x) => order.partition_point(|f| value(f) < x),
            Bound::Excluded(x) => order.partition_point(|f| value(f) <= x),
        };
        let end = match upper {
            Bound::Unbounded => order.len(),
            Bound::Included(x) => order.partition_point(|f| value(f) <= x),
            Bound::Excluded(x) => order.partition_point(|f| value(f) < x),
        };
        Some(&order[start..end.max(start)])
    }

    /// Positions back in file order: marked in a bitmap and read out in order, which
    /// costs less than sorting tens of thousands of positions.
    fn in_file_order(&self, positions: &[u32]) -> Vec<u32> {
        let mut marked = vec![0u64; self.features.len().div_ceil(64)];
        for &f in positions {
            marked[f as usize / 64] |= 1 << (f % 64);
        }
        let mut out = Vec::with_capacity(positions.len());
        for (word_at, &word) in marked.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                out.push(word_at as u32 * 64 + bits.trailing_zeros());
                bits &= bits - 1;
            }
        }
        out
    }

    /// Position of a count column by name.
    pub fn count_column(&self, name: &str) -> Option<usize> {
        self.count_columns.iter().position(|c| c == name)
    }

    /// Values per point in the point tree: rounds × count columns, round-major.
    pub fn sums_width(&self) -> usize {
        self.rounds.len() * self.count_columns.len()
    }

    /// The first feature (position) whose geometry holds `p`: the R-tree, then the exact
    /// test.
    pub fn feature_at(&self, p: geo::Point<f64>) -> Option<usize> {
        use geo::Intersects;
        let mut found = None;
        self.index.for_each_candidate(&Rect::new(p.0, p.0), |f| {
            if found.is_none() && self.features[f as usize].geometry().intersects(&p) {
                found = Some(f as usize);
            }
        });
        found
    }

    /// A polygonal feature prepared for point tests (totals and searches within it), as
    /// loading accepted it. One of at least [`KEPT_AREA_MIN_VERTICES`] vertices is prepared
    /// once and kept (a 38,000-vertex outline takes about 50 ms to prepare); a smaller one,
    /// prepared in well under a millisecond, is prepared each time.
    pub fn prepared_area(&self, feature: u32) -> Result<Arc<IndexedArea>, String> {
        use geo::CoordsIter;
        let geometry = &*self
            .features
            .get(feature as usize)
            .ok_or("no such feature")?
            .geometry();
        let prepare = || IndexedArea::of_loaded(geometry).map(Arc::new);
        match self.prepared_areas.get(feature as usize) {
            Some(slot) if geometry.coords_count() >= KEPT_AREA_MIN_VERTICES => {
                slot.get_or_init(prepare).clone()
            }
            _ => prepare(),
        }
    }

    /// Whether any count of this layer is synthetic.
    pub fn has_synthetic(&self) -> bool {
        self.synthetic
    }
}

/// Everything served, loaded once and shared read-only.
#[derive(Debug)]
pub struct Snapshot {
    /// Service title.
    pub title: String,
    /// Service description.
    pub description: String,
    /// Layers in config order.
    pub layers: Vec<Arc<Layer>>,
    /// Hash of every input byte: changes whenever the data changes (used in ETags).
    pub version: u64,
    /// Which layers and count the dashboard shows, when there is one.
    pub dashboard: Option<Dashboard>,
    /// Published figures, exactly as the table gives them.
    pub published: Vec<PublishedFigure>,
    /// The languages clients offer, in menu order; the first is the default.
    pub languages: Vec<Language>,
}

/// What the dashboard shows: the area layer it sums, the site layer it counts and the
/// count column of its ranking and trend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    /// The area layer's id.
    pub areas: String,
    /// The site layer's id, if any.
    pub sites: Option<String>,
    /// The count column of the ranking and trend.
    pub main_count: String,
}

/// One language of the clients: how to write it and the interface strings given for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Language {
    /// BCP 47 code, the key of layers' names, words and labels.
    pub code: String,
    /// The language's name in itself, if configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `ltr` or `rtl`.
    pub dir: &'static str,
    /// Locale for numbers and dates.
    pub locale: String,
    /// Language whose names stand in where a feature has none in this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// Interface strings given in the config, by key.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub strings: std::collections::BTreeMap<String, String>,
}

impl Snapshot {
    /// The count column a map shows first for `layer`: the dashboard's `main_count` when
    /// the layer has that column, else the layer's first count column.
    pub fn main_count<'a>(&'a self, layer: &'a Layer) -> Option<&'a str> {
        self.dashboard
            .as_ref()
            .map(|d| d.main_count.as_str())
            .filter(|column| layer.count_column(column).is_some())
            .or(layer.count_columns.first().map(String::as_str))
    }
}

/// One published figure (a row of the published-figures table).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PublishedFigure {
    /// Date the figure refers to.
    pub as_of: String,
    /// DTM round label, if any.
    pub dtm_round: String,
    /// `national`, or an area scope: `…_of_displacement` (e.g. `state_of_displacement`),
    /// `…_of_origin`, `region`.
    pub scope: String,
    /// The area's name or id (the table's area column); empty for
    /// national figures.
    pub area: String,
    /// What is counted: a count column's name, or another published measure.
    pub metric: String,
    /// The figure.
    pub value: i64,
    /// The source as given ("(same UNAMI URL)" where the table says so).
    pub source_url: String,
    /// The source URL with "(same … URL)" resolved to the URL of the same date.
    pub source: String,
    /// Notes as given.
    pub notes: String,
}

impl Snapshot {
    /// A layer by id.
    pub fn layer(&self, id: &str) -> Option<&Arc<Layer>> {
        self.layers.iter().find(|l| l.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_ids_find_every_position_and_nothing_else() {
        let ids: Vec<String> = (0..50_000).map(|i| format!("S{:07}", i * 7)).collect();
        let mut index = FeatureIds::with_capacity(10);
        for position in 0..ids.len() as u32 {
            index.insert(position, |at| &ids[at as usize]);
        }
        assert_eq!(index.len(), ids.len());
        for (position, id) in ids.iter().enumerate() {
            assert_eq!(
                index.find(id, |at| &ids[at as usize]),
                Some(position as u32)
            );
        }
        for absent in ["S0000001", "", "s0000000", "S00000000"] {
            assert_eq!(index.find(absent, |at| &ids[at as usize]), None, "{absent}");
        }
    }
}
