//! The R-tree of each layer (rstar, bulk-loaded) and the candidate searches over it.
//!
//! Point layers index the points themselves; other layers index each feature's bounding
//! box. The tree only narrows the search: exact predicates are applied by the callers in
//! [`crate::query`]. Coordinates are WGS84 lon/lat.

pub mod point_tree;

use geo::{BoundingRect, Geometry, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

/// What the tree indexes of a feature: its geometry and its bounding box.
pub trait Indexed {
    /// The feature's lon/lat geometry.
    fn geometry(&self) -> &Geometry<f64>;
    /// Its bounding box.
    fn bbox(&self) -> Rect<f64>;
}

/// A point with the position of its feature.
pub type IndexedPoint = GeomWithData<[f64; 2], u32>;
/// A bounding box with the position of its feature.
pub type IndexedBox = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// The R-tree of one layer.
#[derive(Debug)]
pub enum SpatialIndex {
    /// Every feature is a single point.
    Points(RTree<IndexedPoint>),
    /// Bounding boxes of any geometry.
    Boxes(RTree<IndexedBox>),
}

impl SpatialIndex {
    /// Bulk-loads the tree of a layer's features.
    pub fn build<F: Indexed>(features: &[F]) -> SpatialIndex {
        let all_points = features
            .iter()
            .all(|f| matches!(f.geometry(), Geometry::Point(_)));
        if all_points {
            let points = features
                .iter()
                .enumerate()
                .filter_map(|(i, f)| match f.geometry() {
                    Geometry::Point(p) => Some(IndexedPoint::new([p.x(), p.y()], i as u32)),
                    _ => None,
                })
                .collect();
            SpatialIndex::Points(RTree::bulk_load(points))
        } else {
            let boxes = features
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let bbox = f.bbox();
                    IndexedBox::new(
                        Rectangle::from_corners(
                            [bbox.min().x, bbox.min().y],
                            [bbox.max().x, bbox.max().y],
                        ),
                        i as u32,
                    )
                })
                .collect();
            SpatialIndex::Boxes(RTree::bulk_load(boxes))
        }
    }

    /// Calls `visit` with every feature whose bounding box intersects `rect` (boundary
    /// included). For point layers that is exactly the points inside `rect`.
    pub fn for_each_candidate(&self, rect: &Rect<f64>, mut visit: impl FnMut(u32)) {
        let envelope =
            AABB::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]);
        match self {
            SpatialIndex::Points(tree) => {
                for point in tree.locate_in_envelope(&envelope) {
                    visit(point.data);
                }
            }
            SpatialIndex::Boxes(tree) => {
                for bbox in tree.locate_in_envelope_intersecting(&envelope) {
                    visit(bbox.data);
                }
            }
        }
    }

    /// Whether the index holds bare points (so a candidate inside a box is a match).
    pub fn is_points(&self) -> bool {
        matches!(self, SpatialIndex::Points(_))
    }
}

/// The bounding box of a geometry; a degenerate one for an empty geometry at (0, 0).
pub fn bbox_of(geometry: &Geometry<f64>) -> Rect<f64> {
    geometry
        .bounding_rect()
        .unwrap_or_else(|| Rect::new((0.0, 0.0), (0.0, 0.0)))
}
