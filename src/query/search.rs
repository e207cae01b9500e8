//! The spatial queries users come for: features in an area, near a point (within metres,
//! or the k nearest), containing a point, and totals for an area. Point layers are walked
//! with their [`PointTree`](crate::index::point_tree::PointTree); other layers go through the
//! R-tree and exact `geo` predicates. Distances are geodesic metres (WGS84).

use geo::{Geometry, Intersects, LinesIter, Point, Rect, Relate};

use crate::index::point_tree::{Cover, Region, RegionSums};
use crate::model::Layer;
use crate::query::area::{IndexedArea, Location};
use crate::query::distance::{circle_bounds, within_radius};
use crate::query::spatial::distance_to;

/// How a feature must relate to the query area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Shares any point with the area (its boundary included).
    Intersects,
    /// Lies in the area (a point on the boundary does not).
    Within,
}

/// A query area with the relation asked for, as a [`Region`] for the point tree.
pub struct AreaRegion<'a> {
    /// The prepared area.
    pub area: &'a IndexedArea,
    /// The relation.
    pub relation: Relation,
}

impl Region for AreaRegion<'_> {
    fn cover(&self, rect: &Rect<f64>) -> Cover {
        self.area.cover(rect)
    }

    fn holds(&self, point: [f64; 2]) -> bool {
        match self.area.locate(point.into()) {
            Location::Inside => true,
            Location::OnBoundary => self.relation == Relation::Intersects,
            Location::Outside => false,
        }
    }
}

/// A geodesic circle as a [`Region`].
pub struct CircleRegion {
    center: Point<f64>,
    metres: f64,
    bounds: Rect<f64>,
}

impl CircleRegion {
    /// The points within `metres` of `center`.
    pub fn new(center: Point<f64>, metres: f64) -> CircleRegion {
        CircleRegion {
            center,
            metres,
            bounds: circle_bounds(center, metres),
        }
    }
}

impl Region for CircleRegion {
    fn cover(&self, rect: &Rect<f64>) -> Cover {
        if !rect.intersects(&self.bounds) {
            return Cover::Outside;
        }
        // Within a lon/lat box spanning less than half the globe, the point farthest from
        // any centre is a corner, so four corners inside mean the whole box is.
        let corners = [
            (rect.min().x, rect.min().y),
            (rect.min().x, rect.max().y),
            (rect.max().x, rect.min().y),
            (rect.max().x, rect.max().y),
        ];
        let narrow = rect.width() < 180.0;
        if narrow
            && corners
                .iter()
                .all(|&(x, y)| within_radius(self.center, Point::new(x, y), self.metres))
        {
            Cover::Inside
        } else {
            Cover::Partly
        }
    }

    fn holds(&self, point: [f64; 2]) -> bool {
        within_radius(self.center, Point::new(point[0], point[1]), self.metres)
    }
}

/// Features of the layer in the area, by position.
pub fn in_area(
    layer: &Layer,
    area: &IndexedArea,
    geometry: &Geometry<f64>,
    relation: Relation,
) -> Vec<u32> {
    let mut found = Vec::new();
    match layer.points() {
        Some(tree) => tree.search(&AreaRegion { area, relation }, |f| found.push(f)),
        None => layer.index.for_each_candidate(&area.bounds(), |f| {
            if crate::deadline::expired() {
                return;
            }
            let feature = &layer.features[f as usize].geometry();
            let hit = match relation {
                Relation::Intersects => meets_area(area, feature),
                Relation::Within => feature.relate(geometry).is_within(),
            };
            if hit {
                found.push(f);
            }
        }),
    }
    found.sort_unstable();
    found.dedup();
    found
}

/// Whether a geometry shares a point with the area, in O(m log n) for a feature of m
/// vertices and an area of n (`geo`'s polygon test compares every pair of edges): a vertex
/// of the feature in the area or on its boundary, an edge of the feature meeting an edge of
/// the area, or the area inside the feature.
pub fn meets_area(area: &IndexedArea, feature: &Geometry<f64>) -> bool {
    use geo::CoordsIter;
    if feature
        .coords_iter()
        .any(|c| area.locate(c) != Location::Outside)
    {
        return true;
    }
    let meets = |line: geo::Line<f64>| area.meets_segment(line.start, line.end);
    let crossed = match feature {
        Geometry::Line(l) => meets(*l),
        Geometry::LineString(l) => l.lines_iter().any(meets),
        Geometry::MultiLineString(l) => l.lines_iter().any(meets),
        Geometry::Polygon(p) => p.lines_iter().any(meets),
        Geometry::MultiPolygon(p) => p.lines_iter().any(meets),
        Geometry::Rect(r) => r.to_polygon().lines_iter().any(meets),
        Geometry::Triangle(t) => t.to_polygon().lines_iter().any(meets),
        Geometry::GeometryCollection(c) => c.iter().any(|g| meets_area(area, g)),
        Geometry::Point(_) | Geometry::MultiPoint(_) => false,
    };
    if crossed {
        return true;
    }
    area.a_vertex()
        .is_some_and(|v| feature.intersects(&Point::from(v)))
}

/// Features within `metres` of `center`, nearest first, with their distance.
pub fn within_distance(layer: &Layer, center: Point<f64>, metres: f64) -> Vec<(u32, f64)> {
    let mut found: Vec<(u32, f64)> = Vec::new();
    match layer.points() {
        Some(tree) => tree.search(&CircleRegion::new(center, metres), |f| {
            found.push((f, point_distance(layer, f, center)));
        }),
        None => layer
            .index
            .for_each_candidate(&circle_bounds(center, metres), |f| {
                let d = distance_to(&layer.features[f as usize].geometry(), center);
                if d <= metres {
                    found.push((f, d));
                }
            }),
    }
    sort_by_distance(&mut found);
    found
}

/// The `k` features nearest `center` (geodesic), nearest first, optionally no farther than
/// `max_metres`.
pub fn nearest(
    layer: &Layer,
    center: Point<f64>,
    k: usize,
    max_metres: Option<f64>,
) -> Vec<(u32, f64)> {
    if k == 0 || layer.features.is_empty() {
        return Vec::new();
    }
    let mut found = match layer.points() {
        Some(tree) => {
            // The k nearest in degrees are k points within their farthest geodesic distance,
            // so the true k nearest lie within that distance too.
            let bound = tree
                .nearest([center.x(), center.y()], k)
                .into_iter()
                .map(|f| point_distance(layer, f, center))
                .fold(0.0f64, f64::max);
            let radius = max_metres.map_or(bound, |m| m.min(bound));
            within_distance(layer, center, radius)
        }
        None => {
            let mut all: Vec<(u32, f64)> = (0..layer.features.len() as u32)
                .map(|f| {
                    (
                        f,
                        distance_to(&layer.features[f as usize].geometry(), center),
                    )
                })
                .filter(|(_, d)| max_metres.is_none_or(|m| *d <= m))
                .collect();
            sort_by_distance(&mut all);
            all
        }
    };
    found.truncate(k);
    found
}

/// Features whose geometry contains or touches the point (e.g. which state).
pub fn containing(layer: &Layer, point: Point<f64>) -> Vec<u32> {
    let mut found = Vec::new();
    let spot = Rect::new(point.0, point.0);
    layer.index.for_each_candidate(&spot, |f| {
        if layer.features[f as usize].geometry().intersects(&point) {
            found.push(f);
        }
    });
    found.sort_unstable();
    found
}

/// Sums of every round's counts over the points in a region, and by group when asked.
/// `None` for layers that are not point layers.
pub fn totals(layer: &Layer, region: &dyn Region, by_group: bool) -> Option<RegionSums> {
    let columns = layer.count_columns.len();
    layer.points().map(|tree| {
        tree.sums(region, by_group, |feature, out| {
            crate::model::counts::write_values(&layer.counts, columns, feature as usize, out)
        })
    })
}

fn point_distance(layer: &Layer, feature: u32, center: Point<f64>) -> f64 {
    distance_to(&layer.features[feature as usize].geometry(), center)
}

fn sort_by_distance(found: &mut [(u32, f64)]) {
    found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    fn star(cx: f64, cy: f64, radii: &[f64], turn: f64) -> geo::Polygon<f64> {
        let n = radii.len();
        let ring: Vec<(f64, f64)> = radii
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let a = turn + i as f64 / n as f64 * std::f64::consts::TAU;
                (cx + r * a.cos(), cy + r * a.sin())
            })
            .collect();
        geo::Polygon::new(ring.into(), vec![])
    }

    proptest! {
        #[test]
        fn meeting_an_area_agrees_with_geo_intersects(
            a in (-3.0f64..3.0, -3.0f64..3.0, proptest::collection::vec(0.2f64..3.0, 3..24), 0.0f64..6.3),
            b in (-3.0f64..3.0, -3.0f64..3.0, proptest::collection::vec(0.2f64..3.0, 3..24), 0.0f64..6.3),
            as_line in any::<bool>(),
        ) {
            let area_polygon = star(a.0, a.1, &a.2, a.3);
            let area = super::IndexedArea::new(&geo::Geometry::Polygon(area_polygon.clone())).unwrap();
            let feature_polygon = star(b.0, b.1, &b.2, b.3);
            let feature: geo::Geometry<f64> = if as_line {
                geo::Geometry::LineString(feature_polygon.exterior().clone())
            } else {
                geo::Geometry::Polygon(feature_polygon)
            };
            prop_assert_eq!(
                super::meets_area(&area, &feature),
                geo::Intersects::intersects(&feature, &area_polygon)
            );
        }

        #[test]
        fn meeting_an_area_agrees_with_geo_on_a_grid(
            a in proptest::collection::vec((0i32..6, 0i32..6), 3..8),
            b in proptest::collection::vec((0i32..6, 0i32..6), 3..8),
        ) {
            let polygon = |pts: &[(i32, i32)]| {
                let ring: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (x as f64, y as f64)).collect();
                geo::Polygon::new(ring.into(), vec![])
            };
            let area_polygon = polygon(&a);
            // Only valid areas are queried; invalid ones are refused before.
            let Ok(area) = super::IndexedArea::new(&geo::Geometry::Polygon(area_polygon.clone())) else {
                return Ok(());
            };
            let feature = geo::Geometry::Polygon(polygon(&b));
            prop_assert_eq!(
                super::meets_area(&area, &feature),
                geo::Intersects::intersects(&feature, &area_polygon)
            );
        }
    }
}
