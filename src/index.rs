//! The spatial index of each layer and the candidate searches over it.
//!
//! Point layers index the points themselves, in a [`point_tree::PointTree`] that also
//! keeps sums; other layers index each feature's bounding box in an rstar R-tree
//! (bulk-loaded). The tree only narrows the search: exact predicates are applied by the
//! callers in [`crate::query`]. Coordinates are WGS84 lon/lat.

pub mod point_tree;

use std::borrow::Cow;

use geo::{BoundingRect, Geometry, Rect};
use point_tree::{PointTree, TreePoint};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

/// What the tree indexes of a feature: its geometry and its bounding box.
pub trait Indexed {
    /// The feature's lon/lat geometry.
    fn geometry(&self) -> Cow<'_, Geometry<f64>>;
    /// Its bounding box.
    fn bbox(&self) -> Rect<f64>;
}

/// A bounding box with the position of its feature.
pub type IndexedBox = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// The R-tree of one layer.
#[derive(Debug)]
pub enum SpatialIndex {
    /// Every feature is a single point. (rstar's tree took 64 bytes a point: a million
    /// sites' 70 MB, beside a point tree that finds the same points.)
    Points(PointTree),
    /// Bounding boxes of any geometry.
    Boxes(RTree<IndexedBox>),
}

impl SpatialIndex {
    /// Bulk-loads the tree of a layer's features; a layer of points gets a point tree
    /// without sums (see [`SpatialIndex::build_with_sums`]).
    pub fn build<F: Indexed>(features: &[F]) -> SpatialIndex {
        Self::build_with_sums(features, 0, |_| point_tree::NO_GROUP, |_, _| {})
    }

    /// Bulk-loads the tree of a layer's features. When every feature is a point, the tree
    /// keeps `width` sums: `values(position, out)` writes a feature's values, and
    /// `group(position)` gives its group id (or [`point_tree::NO_GROUP`]).
    pub fn build_with_sums<F: Indexed>(
        features: &[F],
        width: usize,
        group: impl Fn(usize) -> u32,
        values: impl Fn(u32, &mut [i64]) + Sync,
    ) -> SpatialIndex {
        let points: Option<Vec<TreePoint>> = features
            .iter()
            .enumerate()
            .map(|(i, f)| match *f.geometry() {
                Geometry::Point(p) => Some(TreePoint {
                    feature: i as u32,
                    coord: [p.x(), p.y()],
                    group: group(i),
                }),
                _ => None,
            })
            .collect();
        if let Some(points) = points {
            SpatialIndex::Points(PointTree::build(points, width, values))
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
        match self {
            SpatialIndex::Points(tree) => tree.in_rect(rect, visit),
            SpatialIndex::Boxes(tree) => {
                let envelope =
                    AABB::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]);
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

    /// The point tree of a point layer.
    pub fn point_tree(&self) -> Option<&PointTree> {
        match self {
            SpatialIndex::Points(tree) => Some(tree),
            SpatialIndex::Boxes(_) => None,
        }
    }
}

/// The bounding box of a geometry; a degenerate one for an empty geometry at (0, 0).
pub fn bbox_of(geometry: &Geometry<f64>) -> Rect<f64> {
    geometry
        .bounding_rect()
        .unwrap_or_else(|| Rect::new((0.0, 0.0), (0.0, 0.0)))
}
