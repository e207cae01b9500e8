//! The dashboard's figures, computed from the same snapshot as the map so they never
//! disagree with it: headline totals of a round with their change against the previous
//! round and their provenance, the ranking of areas, the trend over rounds, and the
//! published figures by area of origin. No HTTP here.

use serde::Serialize;

use crate::model::{Layer, PublishedFigure, Snapshot};
use crate::provenance::Provenance;

/// One headline figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    /// What is counted.
    pub metric: String,
    /// The figure in the round.
    pub value: Option<i64>,
    /// The figure in the previous round.
    pub previous: Option<i64>,
    /// `value - previous`.
    pub change: Option<i64>,
    /// The figure rests on illustrative figures (`provenance` is illustrative or computed
    /// from illustrative figures).
    pub synthetic: bool,
    /// Where the figure comes from.
    pub provenance: Provenance,
    /// Where the previous round's figure comes from.
    pub previous_provenance: Option<Provenance>,
    /// What the change rests on: computed from published figures only when both ends are
    /// published.
    pub change_provenance: Option<Provenance>,
    /// For a published total: what the breakdown it was summed from is.
    pub breakdown: Option<Provenance>,
    /// Where the figure comes from: a published source, or the sources of its parts.
    pub sources: Vec<String>,
}

impl Headline {
    fn new(metric: String, now: Figure, before: Option<Figure>) -> Headline {
        let previous = before.as_ref().and_then(|b| b.value);
        let change = now.value.zip(previous).map(|(v, p)| v - p);
        Headline {
            metric,
            value: now.value,
            previous,
            change,
            synthetic: now.provenance.is_illustrative(),
            provenance: now.provenance,
            previous_provenance: before.as_ref().map(|b| b.provenance),
            change_provenance: change.and(
                before
                    .as_ref()
                    .map(|b| Provenance::of_change(now.provenance, b.provenance)),
            ),
            breakdown: now.breakdown,
            sources: now.sources,
        }
    }
}

/// A figure with where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The figure.
    pub value: Option<i64>,
    /// Its provenance.
    pub provenance: Provenance,
    /// For a published total: the provenance of the parts it was summed from.
    pub breakdown: Option<Provenance>,
    /// Its source(s).
    pub sources: Vec<String>,
}

/// The dashboard's numbers for one round (and optionally one area).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Round id.
    pub round: String,
    /// The previous round's id.
    pub previous_round: Option<String>,
    /// The area the figures are restricted to, if any.
    pub area: Option<String>,
    /// One per count column of the areas layer, then sites, areas affected, returnees.
    pub figures: Vec<Headline>,
}

/// Why the dashboard cannot answer.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// The config has no `[dashboard]`.
    #[error("this dataset has no dashboard configured")]
    NotConfigured,
    /// Unknown area.
    #[error("no area {0:?}")]
    UnknownArea(String),
}

/// The dashboard's layers: (areas, sites).
pub fn layers(snapshot: &Snapshot) -> Result<(&Layer, Option<&Layer>), DashboardError> {
    let config = snapshot
        .dashboard
        .as_ref()
        .ok_or(DashboardError::NotConfigured)?;
    let areas = snapshot
        .layer(&config.areas)
        .ok_or(DashboardError::NotConfigured)?;
    let sites = config.sites.as_deref().and_then(|id| snapshot.layer(id));
    Ok((areas, sites.map(|s| s.as_ref())))
}

/// Sum of a count column over features (all, or one) in a round, with its provenance and
/// sources: one feature's figure is its row's; a sum is computed.
fn sum(layer: &Layer, round: usize, column: usize, only: Option<u32>) -> Figure {
    let mut total: Option<i64> = None;
    let mut synthetic = false;
    let mut computed = only.is_none();
    let mut sources: Vec<String> = Vec::new();
    for f in 0..layer.features.len() as u32 {
        if only.is_some_and(|o| o != f) {
            continue;
        }
        let Some(record) = layer.count(round, f) else {
            continue;
        };
        if let Some(v) = record.value(column) {
            total = Some(total.unwrap_or(0) + v);
            synthetic |= record.synthetic();
            computed |= record.computed();
            if let Some(source) = record.source().map(|s| &**s) {
                if !sources.iter().any(|s| s == source) {
                    sources.push(source.to_string());
                }
            }
        }
    }
    Figure {
        value: total,
        provenance: Provenance::of_row(synthetic, computed),
        breakdown: None,
        sources,
    }
}

/// A figure made published when the published table has exactly it for the round's date
/// (nationally, or for the area named): its source then replaces the parts', and the parts'
/// provenance becomes the breakdown's.
fn with_published(mut figure: Figure, published: Option<&PublishedFigure>) -> Figure {
    if let Some(p) = published {
        if figure.value == Some(p.value) && figure.provenance != Provenance::Published {
            figure.breakdown = Some(figure.provenance);
            figure.provenance = Provenance::Published;
            figure.sources = vec![p.source.clone()];
        } else if figure.value == Some(p.value) {
            figure.sources = vec![p.source.clone()];
        }
    }
    figure
}

/// The total of a layer's count column in a round — over every feature, or one — with
/// its provenance, as every surface reports it.
pub fn total(
    snapshot: &Snapshot,
    layer: &Layer,
    round: usize,
    column: usize,
    only: Option<u32>,
) -> Figure {
    let date = layer.rounds[round].date.as_deref();
    let name = only.and_then(|f| text_property(layer, f, layer.name_field.as_ref()));
    let id = only.map(|f| layer.features[f as usize].id.as_str());
    let figure = match only {
        Some(_) => sum(layer, round, column, only),
        // The sum over every feature was found at load.
        None => {
            let totals = &layer.round_totals[round];
            Figure {
                value: totals.values[column],
                provenance: Provenance::of_sum(totals.any_illustrative),
                breakdown: None,
                sources: Vec::new(),
            }
        }
    };
    let metric = &layer.count_columns[column];
    let published = published(snapshot, date, metric, name.as_deref())
        .or_else(|| id.and_then(|id| published(snapshot, date, metric, Some(id))));
    with_published(figure, published)
}

/// The published figure for a date, metric, and (for one area) its name.
fn published<'a>(
    snapshot: &'a Snapshot,
    date: Option<&str>,
    metric: &str,
    area_name: Option<&str>,
) -> Option<&'a PublishedFigure> {
    let date = date?;
    snapshot.published.iter().find(|p| {
        p.as_of == date
            && p.metric == metric
            && match area_name {
                None => p.scope == "national",
                Some(name) => p.scope.ends_with("_of_displacement") && p.area == name,
            }
    })
}

/// A text property of a feature (e.g. the name the published table spells it with).
fn text_property(layer: &Layer, feature: u32, field: Option<&String>) -> Option<String> {
    layer.features[feature as usize]
        .properties
        .get(field?)
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

/// The position of the area `id` names, when one is asked for.
fn area_position(areas: &Layer, id: Option<&str>) -> Result<Option<u32>, DashboardError> {
    id.map(|id| {
        areas
            .position(id)
            .ok_or_else(|| DashboardError::UnknownArea(id.to_string()))
    })
    .transpose()
}

/// Headline figures of `round` (position in the areas layer), for all areas or one.
pub fn summary(
    snapshot: &Snapshot,
    round: usize,
    area: Option<&str>,
) -> Result<Summary, DashboardError> {
    let (areas, sites) = layers(snapshot)?;
    let only = area_position(areas, area)?;
    let previous = round.checked_sub(1);
    let name = only.and_then(|f| text_property(areas, f, areas.name_field.as_ref()));
    let mut figures = Vec::new();
    for (c, column) in areas.count_columns.iter().enumerate() {
        let now = total(snapshot, areas, round, c, only);
        let before = previous.map(|p| total(snapshot, areas, p, c, only));
        figures.push(Headline::new(column.clone(), now, before));
    }
    let main = snapshot
        .dashboard
        .as_ref()
        .map(|d| d.main_count.clone())
        .unwrap_or_default();
    if let Some(sites) = sites {
        let count_sites = |r: usize| -> Option<i64> {
            let round_id = &areas.rounds[r].id;
            let sr = sites.round_position(round_id)?;
            let column = sites.count_column(&main)?;
            let area_field = sites.group_by.as_ref().map(|g| g.field.as_str());
            let n = (0..sites.features.len() as u32)
                .filter(|&f| match (area, area_field) {
                    (Some(id), Some(field)) => {
                        sites.features[f as usize]
                            .properties
                            .get(field)
                            .and_then(|v| v.as_str())
                            == Some(id)
                    }
                    _ => true,
                })
                .filter(|&f| {
                    sites
                        .count(sr, f)
                        .and_then(|r| r.value(column))
                        .is_some_and(|v| v > 0)
                })
                .count();
            Some(n as i64)
        };
        let counted = |value: Option<i64>| Figure {
            value,
            provenance: Provenance::of_sum(sites.has_synthetic()),
            breakdown: None,
            sources: vec![format!("count of {} with {main} > 0", sites.id)],
        };
        figures.push(Headline::new(
            "sites".into(),
            counted(count_sites(round)),
            previous.map(|p| counted(count_sites(p))),
        ));
    }
    if let Some(column) = areas.count_column(&main) {
        let affected = |r: usize| -> Figure {
            let mut illustrative = false;
            let value = (0..areas.features.len() as u32)
                .filter(|&f| only.is_none_or(|o| o == f))
                .filter_map(|f| areas.count(r, f))
                .filter(|rec| {
                    let counted = rec.value(column).is_some();
                    illustrative |= counted && rec.synthetic();
                    counted
                })
                .filter(|rec| rec.value(column).is_some_and(|v| v > 0))
                .count() as i64;
            Figure {
                value: Some(value),
                provenance: Provenance::of_sum(illustrative),
                breakdown: None,
                sources: vec![format!("count of {} with {main} > 0", areas.id)],
            }
        };
        figures.push(Headline::new(
            format!("{}_affected", areas.id),
            affected(round),
            previous.map(affected),
        ));
    }
    let returnees = |r: usize| {
        published(
            snapshot,
            areas.rounds[r].date.as_deref(),
            "returnee_individuals",
            name.as_deref(),
        )
    };
    let as_figure = |p: &PublishedFigure| Figure {
        value: Some(p.value),
        provenance: Provenance::Published,
        breakdown: None,
        sources: vec![p.source.clone()],
    };
    if let Some(figure) = returnees(round) {
        figures.push(Headline::new(
            "returnee_individuals".into(),
            as_figure(figure),
            previous.and_then(returnees).map(as_figure),
        ));
    }
    let locations = |r: usize| {
        published(
            snapshot,
            areas.rounds[r].date.as_deref(),
            "locations",
            name.as_deref(),
        )
    };
    if let Some(figure) = locations(round) {
        figures.push(Headline::new(
            "locations".into(),
            as_figure(figure),
            previous.and_then(locations).map(as_figure),
        ));
    }
    Ok(Summary {
        round: areas.rounds[round].id.clone(),
        previous_round: previous.map(|p| areas.rounds[p].id.clone()),
        area: area.map(str::to_string),
        figures,
    })
}

/// One row of the ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    /// Area id.
    pub id: String,
    /// The default name.
    pub name: Option<String>,
    /// The names by language code.
    pub names: std::collections::BTreeMap<String, String>,
    /// The main count.
    pub value: i64,
    /// Share of the total, 0..1.
    pub share: f64,
    /// The figure is synthetic.
    pub synthetic: bool,
    /// Where the figure comes from.
    pub provenance: Provenance,
    /// Its source.
    pub source: Option<String>,
}

/// Areas ranked by the main count in a round, largest first.
pub fn ranking(snapshot: &Snapshot, round: usize) -> Result<Vec<Ranked>, DashboardError> {
    let (areas, _) = layers(snapshot)?;
    let main = snapshot
        .dashboard
        .as_ref()
        .map(|d| d.main_count.as_str())
        .unwrap_or("");
    let Some(column) = areas.count_column(main) else {
        return Ok(Vec::new());
    };
    let mut rows: Vec<Ranked> = (0..areas.features.len() as u32)
        .filter_map(|f| {
            let record = areas.count(round, f)?;
            let value = record.value(column)?;
            Some(Ranked {
                id: areas.features[f as usize].id.to_string(),
                name: text_property(areas, f, areas.name_field.as_ref()),
                names: areas.names_of(&areas.features[f as usize]),
                value,
                share: 0.0,
                synthetic: record.synthetic(),
                provenance: record.provenance(),
                source: record.source().map(|s| &**s).map(str::to_string),
            })
        })
        .collect();
    let total: i64 = rows.iter().map(|r| r.value).sum();
    for row in &mut rows {
        row.share = if total > 0 {
            row.value as f64 / total as f64
        } else {
            0.0
        };
    }
    rows.sort_by(|a, b| b.value.cmp(&a.value).then(a.id.cmp(&b.id)));
    Ok(rows)
}

/// One point of the trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    /// Round id.
    pub round: String,
    /// Round date.
    pub date: Option<String>,
    /// Round label.
    pub label: Option<String>,
    /// Sum over all areas.
    pub national: Option<i64>,
    /// Where the sum over all areas comes from.
    pub national_provenance: Provenance,
    /// The selected area's figure.
    pub area: Option<i64>,
    /// Where the selected area's figure comes from.
    pub area_provenance: Option<Provenance>,
    /// One of the figures rests on illustrative figures.
    pub synthetic: bool,
}

/// The main count over every round, nationally and for one area.
pub fn trend(snapshot: &Snapshot, area: Option<&str>) -> Result<Vec<TrendPoint>, DashboardError> {
    let (areas, _) = layers(snapshot)?;
    let only = area_position(areas, area)?;
    let main = snapshot
        .dashboard
        .as_ref()
        .map(|d| d.main_count.as_str())
        .unwrap_or("");
    let Some(column) = areas.count_column(main) else {
        return Ok(Vec::new());
    };
    Ok(areas
        .rounds
        .iter()
        .enumerate()
        .map(|(r, round)| {
            let national = total(snapshot, areas, r, column, None);
            let area = only.map(|f| total(snapshot, areas, r, column, Some(f)));
            TrendPoint {
                round: round.id.clone(),
                date: round.date.clone(),
                label: round.label.clone(),
                national: national.value,
                national_provenance: national.provenance,
                area: area.as_ref().and_then(|a| a.value),
                area_provenance: area.as_ref().map(|a| a.provenance),
                synthetic: national.provenance.is_illustrative()
                    || area.is_some_and(|a| a.provenance.is_illustrative()),
            }
        })
        .collect())
}

/// Published figures by area of origin (the data has no full origin × displacement
/// matrix; these are the published marginals).
pub fn origins(snapshot: &Snapshot) -> Vec<&PublishedFigure> {
    snapshot
        .published
        .iter()
        .filter(|p| p.scope.ends_with("_of_origin"))
        .collect()
}
