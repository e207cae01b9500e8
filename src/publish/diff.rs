//! What a new round changes, from two snapshots: the one served now (before) and the
//! draft's (after). Locations added and gone, the largest increases and decreases per site
//! and per area, totals before and after (national and per area), the sites whose master
//! list puts them in another area than the map, and the sites whose coordinates the load
//! report finds suspicious.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::data::LoadReport;
use crate::model::{Layer, Snapshot};

/// How many sites or areas each list of largest changes names.
pub const LARGEST: usize = 10;
/// How many added or gone locations are named (all are counted).
pub const NAMED: usize = 100;

/// A site whose master list names another area than the one the map puts it in.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Moved {
    /// Site id.
    pub id: String,
    /// The area the map's data puts it in.
    pub from: String,
    /// The area the master list names.
    pub to: String,
}

/// One place's figure before and after.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Feature id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// The area it is counted in (sites).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// Main figure in the latest round.
    pub before: Option<i64>,
    /// Main figure in the new round.
    pub after: Option<i64>,
    /// after − before (a missing figure counts as 0).
    pub change: i64,
}

/// The diff of a draft against the latest round served.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    /// The layer of the master list.
    pub layer: String,
    /// The layer of areas.
    pub area_layer: Option<String>,
    /// The figure compared.
    pub metric: String,
    /// The latest round served (none: the first round).
    pub previous_round: Option<String>,
    /// The new round.
    pub round: String,
    /// Count column → total before (the latest round) and after, over the sites.
    pub national: BTreeMap<String, (i64, i64)>,
    /// Count column → total before and after, over the areas (what the dashboard shows).
    pub national_areas: BTreeMap<String, (i64, i64)>,
    /// How many sites have figures now, and in the new round.
    pub sites_before: usize,
    /// Sites with figures in the new round.
    pub sites_after: usize,
    /// Number of sites with figures in the new round only.
    pub added_count: usize,
    /// The first [`NAMED`] of them.
    pub added: Vec<Change>,
    /// Number of sites with figures in the latest round only.
    pub gone_count: usize,
    /// The first [`NAMED`] of them.
    pub gone: Vec<Change>,
    /// Sites whose figure grew most.
    pub increases: Vec<Change>,
    /// Sites whose figure fell most.
    pub decreases: Vec<Change>,
    /// Every area, before and after.
    pub areas: Vec<Change>,
    /// Areas whose figure grew most.
    pub area_increases: Vec<Change>,
    /// Areas whose figure fell most.
    pub area_decreases: Vec<Change>,
    /// Sites the master list puts in another area.
    pub moved: Vec<Moved>,
    /// The load report's lines about suspicious site coordinates.
    pub suspicious_coordinates: Vec<String>,
}

fn name(layer: &Layer, at: usize) -> Option<String> {
    let field = layer.name_field.as_deref()?;
    layer.features[at]
        .properties
        .get(field)
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

/// Main figure of every feature with figures in `round`.
fn figures(layer: &Layer, round: Option<usize>, column: usize) -> HashMap<u32, i64> {
    let Some(round) = round else {
        return HashMap::new();
    };
    (0..layer.features.len() as u32)
        .filter_map(|f| {
            let record = layer.count(round, f)?;
            Some((f, record.value(column).unwrap_or(0)))
        })
        .collect()
}

fn totals(layer: &Layer, round: Option<usize>) -> Vec<i64> {
    let mut sums = vec![0i64; layer.count_columns.len()];
    if let Some(round) = round {
        for f in 0..layer.features.len() as u32 {
            if let Some(record) = layer.count(round, f) {
                for (sum, v) in sums.iter_mut().zip(record.values()) {
                    *sum = sum.saturating_add(v.unwrap_or(0));
                }
            }
        }
    }
    sums
}

fn pair_totals(
    before: &Layer,
    b: Option<usize>,
    after: &Layer,
    a: Option<usize>,
) -> BTreeMap<String, (i64, i64)> {
    let (tb, ta) = (totals(before, b), totals(after, a));
    after
        .count_columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let old = before.count_column(c).map_or(0, |j| tb[j]);
            (c.clone(), (old, ta[i]))
        })
        .collect()
}

/// Per-feature changes between the latest round of `before` and `round` of `after`.
fn changes(
    before: &Layer,
    after: &Layer,
    round: &str,
    metric: &str,
    area_of: &dyn Fn(usize) -> Option<String>,
) -> Vec<Change> {
    let (Some(cb), Some(ca)) = (before.count_column(metric), after.count_column(metric)) else {
        return Vec::new();
    };
    let old = figures(before, before.latest_round(), cb);
    let new = figures(after, after.round_position(round), ca);
    let mut out = Vec::new();
    for (at, feature) in after.features.iter().enumerate() {
        let was = before
            .position(&feature.id)
            .and_then(|f| old.get(&f).copied());
        let now = new.get(&(at as u32)).copied();
        if was.is_none() && now.is_none() {
            continue;
        }
        out.push(Change {
            id: feature.id.to_string(),
            name: name(after, at),
            area: area_of(at),
            before: was,
            after: now,
            change: now.unwrap_or(0) - was.unwrap_or(0),
        });
    }
    out
}

fn largest(changes: &[Change], up: bool) -> Vec<Change> {
    let mut picked: Vec<Change> = changes
        .iter()
        .filter(|c| c.before.is_some() && c.after.is_some())
        .filter(|c| if up { c.change > 0 } else { c.change < 0 })
        .cloned()
        .collect();
    picked.sort_by_key(|c| if up { -c.change } else { c.change });
    picked.truncate(LARGEST);
    picked
}

/// The diff of `after` (the draft) against `before` (served now) for `round` of `layer`.
pub fn diff(
    before: &Snapshot,
    after: &Snapshot,
    report: &LoadReport,
    layer: &str,
    round: &str,
    moved: Vec<Moved>,
) -> Option<Diff> {
    let (old_sites, new_sites) = (before.layer(layer)?, after.layer(layer)?);
    let metric = after
        .dashboard
        .as_ref()
        .map(|d| d.main_count.clone())
        .filter(|m| new_sites.count_column(m).is_some())
        .or_else(|| new_sites.count_columns.first().cloned())?;
    let group = new_sites.group_by.as_ref();
    let moved_to: HashMap<&str, &str> = moved
        .iter()
        .map(|m| (m.id.as_str(), m.to.as_str()))
        .collect();
    let area_of = |at: usize| {
        let feature = &new_sites.features[at];
        if let Some(to) = moved_to.get(feature.id.as_str()) {
            return Some(to.to_string());
        }
        let g = group?;
        feature.properties.get(&g.field)?.key_text()
    };
    let sites = changes(old_sites, new_sites, round, &metric, &area_of);
    let added: Vec<Change> = sites
        .iter()
        .filter(|c| c.before.is_none())
        .cloned()
        .collect();
    let gone: Vec<Change> = sites
        .iter()
        .filter(|c| c.after.is_none())
        .cloned()
        .collect();
    let area_layer = group
        .and_then(|g| g.layer.clone())
        .or_else(|| after.dashboard.as_ref().map(|d| d.areas.clone()));
    let (areas, national_areas) = match area_layer
        .as_deref()
        .and_then(|id| Some((before.layer(id)?, after.layer(id)?)))
    {
        Some((old_areas, new_areas)) => (
            changes(old_areas, new_areas, round, &metric, &|_| None),
            pair_totals(
                old_areas,
                old_areas.latest_round(),
                new_areas,
                new_areas.round_position(round),
            ),
        ),
        None => (Vec::new(), BTreeMap::new()),
    };
    let at = format!("layer {layer}");
    let suspicious_coordinates = report
        .problems
        .iter()
        .filter(|p| p.file == at && p.row.is_none() && p.reason.contains(" sites "))
        .map(|p| p.reason.clone())
        .collect();
    Some(Diff {
        layer: layer.to_string(),
        area_layer,
        previous_round: old_sites
            .latest_round()
            .map(|r| old_sites.rounds[r].id.clone()),
        round: round.to_string(),
        national: pair_totals(
            old_sites,
            old_sites.latest_round(),
            new_sites,
            new_sites.round_position(round),
        ),
        national_areas,
        sites_before: sites.iter().filter(|c| c.before.is_some()).count(),
        sites_after: sites.iter().filter(|c| c.after.is_some()).count(),
        added_count: added.len(),
        added: added.into_iter().take(NAMED).collect(),
        gone_count: gone.len(),
        gone: gone.into_iter().take(NAMED).collect(),
        increases: largest(&sites, true),
        decreases: largest(&sites, false),
        area_increases: largest(&areas, true),
        area_decreases: largest(&areas, false),
        areas,
        moved,
        suspicious_coordinates,
        metric,
    })
}
