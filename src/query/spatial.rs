//! Spatial predicates between a feature's geometry and a query geometry (WGS84 lon/lat),
//! used by CQL2 filters and the query endpoints.

use geo::{Geometry, Intersects, Relate};

/// The spatial relations dtmap evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpatialOp {
    /// Share at least one point (boundary included).
    Intersects,
    /// The feature lies inside the query geometry (DE-9IM within).
    Within,
    /// No point in common.
    Disjoint,
}

/// A spatial test against a fixed query geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct SpatialPredicate {
    /// The relation.
    pub op: SpatialOp,
    /// The query geometry.
    pub geometry: Geometry<f64>,
}

impl SpatialPredicate {
    /// Whether a feature geometry stands in the relation to the query geometry.
    pub fn matches(&self, feature: &Geometry<f64>) -> bool {
        match self.op {
            SpatialOp::Intersects => feature.intersects(&self.geometry),
            SpatialOp::Disjoint => !feature.intersects(&self.geometry),
            SpatialOp::Within => feature.relate(&self.geometry).is_within(),
        }
    }
}
