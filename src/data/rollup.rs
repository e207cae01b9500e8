//! Roll-ups: an area layer with no count table of its own gets its figures from the sites
//! inside it. For every round of a point layer with counts, each area's figure is the sum
//! of its sites' figures: the sites whose group code (`group_by`) is the area's id when
//! the point layer's `group_layer` names the area layer, else the sites that lie in the
//! area. Rolled-up figures say so in their source, and are synthetic when any site's
//! figure is. Sites that no area takes are counted in the load report.

use std::sync::Arc;

use super::LoadReport;
use crate::model::{map_property, GeometryKind, Layer, RoundCounts};

/// Fills in the counts of every area layer without counts from a point layer with counts;
/// returns the positions of the layers it filled.
pub fn roll_up(layers: &mut [Layer], report: &mut LoadReport) -> Vec<usize> {
    let mut rolled_up = Vec::new();
    for target in 0..layers.len() {
        let area = &layers[target];
        if area.basemap || area.kind != GeometryKind::Polygon || !area.count_columns.is_empty() {
            continue;
        }
        let grouped_here = |l: &Layer| {
            l.group_by
                .as_ref()
                .is_some_and(|g| g.layer.as_deref() == Some(area.id.as_str()))
        };
        let with_counts = |l: &Layer| l.index.is_points() && !l.count_columns.is_empty();
        let Some(source) = layers
            .iter()
            .position(|l| with_counts(l) && grouped_here(l))
            .or_else(|| layers.iter().position(|l| with_counts(l) && !l.basemap))
        else {
            continue;
        };
        let (counts, unplaced, how) = sums(&layers[source], &layers[target]);
        let sites = &layers[source];
        if unplaced > 0 {
            report.warning(
                &format!("layer {}", area.id),
                None,
                None,
                format!(
                    "{unplaced} of the {} sites of layer {} are in no area of layer {} ({how}); \
                     the areas' figures leave them out",
                    sites.features.len(),
                    sites.id,
                    area.id
                ),
            );
        }
        let (columns, rounds) = (sites.count_columns.clone(), sites.rounds.clone());
        let area = &mut layers[target];
        area.synthetic = counts.iter().any(RoundCounts::any_synthetic);
        area.count_columns = columns;
        area.rounds = rounds;
        area.counts = counts;
        area.count_order = (0..area.rounds.len() * area.count_columns.len())
            .map(|_| std::sync::OnceLock::new())
            .collect();
        rolled_up.push(target);
    }
    rolled_up
}

/// Per round and area, the summed records; how many sites no area took; and how sites were
/// placed (for the report).
fn sums(sites: &Layer, areas: &Layer) -> (Vec<RoundCounts>, usize, String) {
    let group_field = sites
        .group_by
        .as_ref()
        .filter(|g| g.layer.as_deref() == Some(areas.id.as_str()))
        .map(|g| g.field.as_str());
    let placed: Vec<Option<usize>> = match group_field {
        Some(field) => map_property(&sites.features, field, |code| {
            let code = code.key_text()?;
            areas.position(&code).map(|a| a as usize)
        })
        .unwrap_or_else(|| vec![None; sites.features.len()]),
        None => sites
            .features
            .iter()
            .map(|feature| areas.feature_at(feature.point()?))
            .collect(),
    };
    let unplaced = placed.iter().filter(|a| a.is_none()).count();
    let how = match group_field {
        Some(field) => format!("by their {field} code"),
        None => "by position".to_string(),
    };
    let source: Arc<str> = Arc::from(format!(
        "computed: the sum of the sites of layer {} in this area, {how}",
        sites.id
    ));
    let columns = sites.count_columns.len();
    let rounds: Vec<usize> = (0..sites.rounds.len()).collect();
    let counts = crate::parallel::map(&rounds, |&round| {
        let mut sums: Vec<Option<(Vec<Option<i64>>, bool)>> = vec![None; areas.features.len()];
        for (site, area) in placed.iter().enumerate() {
            let (Some(area), Some(record)) = (area, sites.count(round, site as u32)) else {
                continue;
            };
            let (values, synthetic) =
                sums[*area].get_or_insert_with(|| (vec![None; columns], false));
            for (sum, value) in values.iter_mut().zip(record.values()) {
                if let Some(value) = value {
                    *sum = Some(sum.unwrap_or(0).saturating_add(value));
                }
            }
            *synthetic |= record.synthetic();
        }
        let mut round = RoundCounts::new(areas.features.len(), columns);
        for (area, sum) in sums.into_iter().enumerate() {
            if let Some((values, synthetic)) = sum {
                round.set(area, &values, synthetic, true, Some(&source));
            }
        }
        round
    });
    (counts, unplaced, how)
}
