//! Suspicious site coordinates, found by comparing each site of a point layer with the
//! areas of its `group_layer` (or of the first data polygon layer): a site at 0,0 (an
//! empty cell read as zero); a site outside every area, said to be swapped when its
//! latitude and longitude the other way round fall inside one; and a site whose group code
//! names another area than the one it lies in. Each kind is one warning with its count and
//! the first sites, not one line per site: a master list with a shifted column would
//! otherwise bury the report. What to do about them, beyond warning, is
//! [`super::placement`]'s.

use geo::{Intersects, Point};

use super::report::thousands;
use super::LoadReport;
use crate::geometry::area::{BandedArea, Location};
use crate::model::{map_property, FieldValue, GeometryKind, Layer};

/// How many site ids a grouped warning names.
const NAMED: usize = 5;

/// Adds one warning per kind of suspicious coordinate found in each point layer.
pub fn check(layers: &[Layer], report: &mut LoadReport) {
    for sites in layers.iter().filter(|l| l.index.is_points() && !l.basemap) {
        let group_layer = sites.group_by.as_ref().and_then(|g| g.layer.as_deref());
        let areas = match group_layer {
            Some(id) => layers.iter().find(|l| l.id == id),
            None => layers
                .iter()
                .find(|l| l.kind == GeometryKind::Polygon && !l.basemap),
        };
        let Some(areas) = areas else { continue };
        let group_field = sites
            .group_by
            .as_ref()
            .filter(|g| g.layer.as_deref() == Some(areas.id.as_str()))
            .map(|g| g.field.as_str());
        let mut zero = Vec::new();
        let mut swapped = Vec::new();
        let mut outside = Vec::new();
        let mut elsewhere = Vec::new();
        let in_own_area = in_own_area(sites, areas, group_field);
        for (feature, in_own_area) in sites.features.iter().zip(in_own_area) {
            let Some(p) = feature.point() else {
                continue;
            };
            if p.x() == 0.0 && p.y() == 0.0 {
                zero.push(feature.id.as_str());
                continue;
            }
            if in_own_area {
                continue;
            }
            match areas.feature_at(p) {
                None if areas.feature_at(Point::new(p.y(), p.x())).is_some() => {
                    swapped.push(feature.id.as_str())
                }
                None => outside.push(feature.id.as_str()),
                Some(area) => {
                    let code = group_field
                        .and_then(|f| feature.properties.get(f))
                        .and_then(FieldValue::key_text);
                    if code.is_some_and(|c| c != areas.features[area].id) {
                        elsewhere.push(feature.id.as_str());
                    }
                }
            }
        }
        let at = format!("layer {}", sites.id);
        let total = sites.features.len();
        let mut warn = |ids: &[&str], what: String| {
            if !ids.is_empty() {
                report.warning(
                    &at,
                    None,
                    None,
                    format!(
                        "{} of {} sites {what}: {}",
                        thousands(ids.len()),
                        thousands(total),
                        first(ids)
                    ),
                );
            }
        };
        warn(
            &zero,
            "are at 0,0, which usually means an empty latitude and longitude".into(),
        );
        warn(
            &swapped,
            format!(
                "lie outside every area of layer {}, but would not with latitude and \
                 longitude swapped",
                areas.id
            ),
        );
        warn(
            &outside,
            format!("lie outside every area of layer {}", areas.id),
        );
        if let Some(field) = group_field {
            warn(
                &elsewhere,
                format!(
                    "lie in another area of layer {} than their {field} code names",
                    areas.id
                ),
            );
        }
    }
}

/// Whether each site lies in (or on the edge of) the area its group code names: the
/// sites of each area against that area prepared once ([`BandedArea`], `geo`'s test for an
/// area it refuses), the areas shared among the cores. What this does not settle, the
/// caller finds out site by site.
fn in_own_area(sites: &Layer, areas: &Layer, group_field: Option<&str>) -> Vec<bool> {
    let mut inside = vec![false; sites.features.len()];
    let Some(field) = group_field else {
        return inside;
    };
    let mut by_area: Vec<Vec<u32>> = vec![Vec::new(); areas.features.len()];
    let area_of = map_property(&sites.features, field, |code| {
        code.key_text().and_then(|code| areas.position(&code))
    })
    .unwrap_or_default();
    for (i, (feature, area)) in sites.features.iter().zip(area_of).enumerate() {
        if let (Some(area), Some(_)) = (area, feature.point()) {
            by_area[area as usize].push(i as u32);
        }
    }
    let work: Vec<(usize, &Vec<u32>)> = by_area
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .collect();
    let found = crate::parallel::map(&work, |&(area, members)| {
        let shape = &*areas.features[area].geometry();
        let prepared = BandedArea::of_loaded(shape);
        members
            .iter()
            .copied()
            .filter(|&site| {
                let Some(p) = sites.features[site as usize].point() else {
                    return false;
                };
                match &prepared {
                    Some(a) => a.locate(p.0) != Location::Outside,
                    None => shape.intersects(&p),
                }
            })
            .collect::<Vec<u32>>()
    });
    for site in found.into_iter().flatten() {
        inside[site as usize] = true;
    }
    inside
}

/// The first few ids, and how many more.
pub(super) fn first<S: AsRef<str>>(ids: &[S]) -> String {
    let shown: Vec<&str> = ids.iter().take(NAMED).map(AsRef::as_ref).collect();
    let more = ids.len().saturating_sub(NAMED);
    if more > 0 {
        format!("{} and {} more", shown.join(", "), thousands(more))
    } else {
        shown.join(", ")
    }
}
