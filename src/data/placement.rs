//! What loading does with sites whose coordinates look wrong, as a point layer's
//! `coordinates.action` says: `snap` moves a site that lies outside every area, but within
//! `snap_km` of one, to the nearest point inside that area; `reject` leaves out sites at
//! 0,0, outside every area, or with latitude and longitude swapped. (`warn`, the default,
//! changes nothing; [`super::coordinates`] then warns about each kind.)
//!
//! This runs on the sites as read, before their layer is built, against the areas already
//! built: one R-tree lookup per site, and for a site outside every area, the areas whose
//! bounding box is within the tolerance. No step compares every site with every area.

use std::collections::HashSet;

use geo::{Closest, ClosestPoint, Distance, Geometry, Haversine, Intersects, Point, Rect};

use super::coordinates::first;
use super::report::thousands;
use super::source::SourceFeature;
use super::LoadReport;
use crate::config::{CoordinateAction, LayerConfig};
use crate::model::{FieldValue, Layer};

/// Kilometres in one degree of latitude (and of longitude at the equator).
const KM_PER_DEGREE: f64 = 111.32;

/// Applies `layer_config.coordinates` to the sites read for it, checked against `areas`;
/// returns the ids of the sites left out (their count rows are not reported as unmatched).
pub fn apply(
    layer_config: &LayerConfig,
    sites: &mut Vec<SourceFeature>,
    areas: &Layer,
    report: &mut LoadReport,
) -> HashSet<String> {
    let settings = layer_config.coordinates;
    let at = format!("layer {}", layer_config.id);
    let total = sites.len();
    let id_of = |site: &SourceFeature| -> String {
        site.properties
            .get(&layer_config.id_field)
            .and_then(FieldValue::key_text)
            .unwrap_or_else(|| format!("row {}", site.row))
    };
    let mut left_out = HashSet::new();
    match settings.action {
        CoordinateAction::Warn => {}
        CoordinateAction::Reject => {
            let (mut zero, mut swapped, mut outside) = (Vec::new(), Vec::new(), Vec::new());
            sites.retain(|site| {
                let Geometry::Point(p) = site.geometry else {
                    return true;
                };
                let list = match where_is(p, areas) {
                    Where::Inside => return true,
                    Where::Zero => &mut zero,
                    Where::Swapped => &mut swapped,
                    Where::Outside => &mut outside,
                };
                let id = id_of(site);
                list.push(id.clone());
                left_out.insert(id);
                false
            });
            let mut say = |ids: &[String], what: String| {
                if !ids.is_empty() {
                    report.warning(
                        &at,
                        None,
                        None,
                        format!(
                            "{} of {} sites {what}, and were left out (coordinates.action = \
                             \"reject\"): {}",
                            thousands(ids.len()),
                            thousands(total),
                            first(ids)
                        ),
                    );
                }
            };
            say(&zero, "are at 0,0".into());
            say(
                &swapped,
                format!(
                    "have latitude and longitude swapped (they lie outside every area of \
                     layer {})",
                    areas.id
                ),
            );
            say(
                &outside,
                format!("lie outside every area of layer {}", areas.id),
            );
        }
        CoordinateAction::Snap => {
            let mut snapped: Vec<String> = Vec::new();
            for site in sites.iter_mut() {
                let Geometry::Point(p) = site.geometry else {
                    continue;
                };
                if !matches!(where_is(p, areas), Where::Outside | Where::Swapped) {
                    continue;
                }
                if let Some((to, km)) = nearest_inside(p, areas, settings.snap_km) {
                    snapped.push(format!("{} ({km:.1} km)", id_of(site)));
                    site.geometry = Geometry::Point(to);
                }
            }
            if !snapped.is_empty() {
                report.warning(
                    &at,
                    None,
                    None,
                    format!(
                        "{} of {} sites lay outside every area of layer {} but within {} km of \
                         one, and were moved to its nearest point (coordinates.action = \
                         \"snap\"): {}",
                        thousands(snapped.len()),
                        thousands(total),
                        areas.id,
                        settings.snap_km,
                        first(&snapped)
                    ),
                );
            }
        }
    }
    left_out
}

/// Where a site lies with respect to the areas.
enum Where {
    Inside,
    Zero,
    Swapped,
    Outside,
}

fn where_is(p: Point<f64>, areas: &Layer) -> Where {
    if p.x() == 0.0 && p.y() == 0.0 {
        Where::Zero
    } else if areas.feature_at(p).is_some() {
        Where::Inside
    } else if areas.feature_at(Point::new(p.y(), p.x())).is_some() {
        Where::Swapped
    } else {
        Where::Outside
    }
}

/// The point inside the nearest area within `km` of `p`, and its distance in km.
fn nearest_inside(p: Point<f64>, areas: &Layer, km: f64) -> Option<(Point<f64>, f64)> {
    let dlat = km / KM_PER_DEGREE;
    let cos = p.y().to_radians().cos();
    let dlon = if cos > 0.01 {
        (km / (KM_PER_DEGREE * cos)).min(360.0)
    } else {
        360.0
    };
    let search = Rect::new((p.x() - dlon, p.y() - dlat), (p.x() + dlon, p.y() + dlat));
    let mut best: Option<(usize, Point<f64>, f64)> = None;
    areas.index.for_each_candidate(&search, |f| {
        let geometry = &areas.features[f as usize].geometry();
        let closest = match geometry.closest_point(&p) {
            Closest::Intersection(c) | Closest::SinglePoint(c) => c,
            Closest::Indeterminate => return,
        };
        let metres = Haversine.distance(p, closest);
        if best.is_none_or(|(_, _, b)| metres < b) {
            best = Some((f as usize, closest, metres));
        }
    });
    let (area, edge, metres) = best?;
    let km_away = metres / 1000.0;
    if km_away > km {
        return None;
    }
    let geometry = &areas.features[area].geometry();
    Some((just_inside(p, edge, geometry)?, km_away))
}

/// A point inside `area` next to `edge`, its point nearest to `p`: a step beyond the edge,
/// away from `p`, small enough to stay within metres of it.
fn just_inside(p: Point<f64>, edge: Point<f64>, area: &Geometry<f64>) -> Option<Point<f64>> {
    let (dx, dy) = (edge.x() - p.x(), edge.y() - p.y());
    let length = dx.hypot(dy);
    if length == 0.0 {
        return area.intersects(&edge).then_some(edge);
    }
    // 1e-7 to 1e-4 degrees: about a centimetre to ten metres.
    let mut step = 1e-7;
    while step <= 1e-4 {
        let inside = Point::new(edge.x() + dx / length * step, edge.y() + dy / length * step);
        if area.intersects(&inside) {
            return Some(inside);
        }
        step *= 10.0;
    }
    None
}
