//! Spatial predicates between a feature's geometry and a query geometry (WGS84 lon/lat),
//! as CQL2 filters use them. Distances are geodesic metres on the WGS84 ellipsoid.

use geo::{Geometry, HaversineClosestPoint, Intersects, Point, Relate};

use crate::query::distance::metres_between;

/// The spatial relations dtmap evaluates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SpatialOp {
    /// Share at least one point (boundary included).
    Intersects,
    /// The feature lies inside the query geometry (DE-9IM within).
    Within,
    /// The feature contains the query geometry (DE-9IM contains).
    Contains,
    /// No point in common.
    Disjoint,
    /// The feature is within this many metres (geodesic) of the query point.
    DWithin(f64),
}

/// A spatial test against a fixed query geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct SpatialPredicate {
    /// The relation.
    pub op: SpatialOp,
    /// The query geometry (a point for `DWithin`).
    pub geometry: Geometry<f64>,
}

impl SpatialPredicate {
    /// Whether a feature geometry stands in the relation to the query geometry.
    pub fn matches(&self, feature: &Geometry<f64>) -> bool {
        match self.op {
            SpatialOp::Intersects => feature.intersects(&self.geometry),
            SpatialOp::Disjoint => !feature.intersects(&self.geometry),
            SpatialOp::Within => feature.relate(&self.geometry).is_within(),
            SpatialOp::Contains => feature.relate(&self.geometry).is_contains(),
            SpatialOp::DWithin(metres) => match &self.geometry {
                Geometry::Point(center) => distance_to(feature, *center) <= metres,
                _ => false,
            },
        }
    }

    /// A box that holds every feature that can match (for the R-tree), if there is one.
    pub fn candidate_box(&self) -> Option<geo::Rect<f64>> {
        use geo::BoundingRect;
        match self.op {
            SpatialOp::Intersects | SpatialOp::Within => self.geometry.bounding_rect(),
            SpatialOp::DWithin(metres) => match &self.geometry {
                Geometry::Point(center) => {
                    Some(crate::query::distance::circle_bounds(*center, metres))
                }
                _ => None,
            },
            SpatialOp::Contains | SpatialOp::Disjoint => None,
        }
    }
}

/// Geodesic metres from a point to a feature: to the point itself for points, 0 inside or
/// on a polygon, otherwise to the feature's closest point on the sphere.
pub fn distance_to(feature: &Geometry<f64>, center: Point<f64>) -> f64 {
    match feature {
        Geometry::Point(p) => metres_between(*p, center),
        other if other.intersects(&center) => 0.0,
        other => match other.haversine_closest_point(&center) {
            geo::Closest::Intersection(_) => 0.0,
            geo::Closest::SinglePoint(p) => metres_between(p, center),
            geo::Closest::Indeterminate => f64::INFINITY,
        },
    }
}
