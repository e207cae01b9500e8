//! A query area (polygon or multipolygon, with holes) prepared for many tests: its edges in
//! an R-tree, so that locating a point and classifying a box cost a logarithmic search
//! instead of a pass over every vertex. Building it also checks the area is valid (rings
//! that do not cross, holes inside their polygon, parts that do not overlap) in
//! O(n log n) with one sweep line ([`super::sweep`]); a check of edges against the R-tree
//! would be quadratic for stars and fans, which untrusted input must not get.
//!
//! Point location uses the crossing rule with robust orientation tests, and reports points
//! on an edge as on the boundary, the same answers `geo`'s predicates give.

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, Geometry, Intersects, Line, MultiPolygon, Polygon, Rect};
use rstar::primitives::Line as TreeLine;
use rstar::{RTree, AABB};

use super::bands::Bands;
use super::sweep;

/// Where a point lies relative to the area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// In the interior.
    Inside,
    /// On an edge or vertex.
    OnBoundary,
    /// Outside.
    Outside,
}

pub use crate::index::point_tree::Cover;

/// Which ring an edge belongs to: (polygon, ring) with ring 0 the exterior.
type RingId = (u32, u32);
/// An edge of the area, with nothing beside it (a kept area holds hundreds of thousands).
type Edge = TreeLine<[f64; 2]>;

/// A validated polygonal area with its edge index.
#[derive(Debug)]
pub struct IndexedArea {
    edges: RTree<Edge>,
    bounds: Rect<f64>,
    /// The edges by horizontal band, for point tests, when they fit ([`Bands::build`]).
    bands: Option<Bands>,
}

impl IndexedArea {
    /// Prepares a Polygon or MultiPolygon; anything else, or an invalid area, is an error
    /// saying what is wrong.
    pub fn new(geometry: &Geometry<f64>) -> Result<IndexedArea, String> {
        IndexedArea::build(geometry, true)
    }

    /// Prepares an area of the loaded data, which loading checked already (with `geo`'s
    /// rules, which let the parts of a MultiPolygon touch at a point, as real boundaries
    /// do): only its shape is checked here, not whether its rings touch. Point location
    /// stays exact for rings that touch at points.
    pub fn of_loaded(geometry: &Geometry<f64>) -> Result<IndexedArea, String> {
        IndexedArea::build(geometry, false)
    }

    fn edges(geometry: &Geometry<f64>, check_rings: bool) -> Result<Edges, String> {
        let polygons: Vec<&Polygon<f64>> = match geometry {
            Geometry::Polygon(p) => vec![p],
            Geometry::MultiPolygon(MultiPolygon(ps)) => ps.iter().collect(),
            other => {
                return Err(format!(
                    "the area must be a Polygon or MultiPolygon, not a {}",
                    kind_name(other)
                ))
            }
        };
        if polygons.is_empty() {
            return Err("the MultiPolygon has no polygon".into());
        }
        let mut edges = Vec::new();
        let mut bounds: Option<Rect<f64>> = None;
        // Each ring's positions without repeats, and which ring it is.
        let mut rings: Vec<Vec<Coord<f64>>> = Vec::new();
        let mut ring_ids: Vec<RingId> = Vec::new();
        // Reported after the crossing check, which explains most flat rings better.
        let mut flat_ring = None;
        for (pi, polygon) in polygons.iter().enumerate() {
            let all = std::iter::once(polygon.exterior()).chain(polygon.interiors());
            for (ri, ring) in all.enumerate() {
                let mut coords = ring.0.clone();
                coords.dedup();
                if coords.len() < 4 {
                    return Err(format!("{} has fewer than 4 positions", ring_name(pi, ri)));
                }
                if coords.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
                    return Err(format!(
                        "{} has a position that is not a finite number",
                        ring_name(pi, ri)
                    ));
                }
                if signed_area(&coords) == 0.0 && flat_ring.is_none() {
                    flat_ring = Some(ring_name(pi, ri));
                }
                for segment in coords.windows(2) {
                    let (a, b) = (segment[0], segment[1]);
                    let r = Rect::new(a, b);
                    bounds = Some(match bounds {
                        None => r,
                        Some(old) => union(old, r),
                    });
                    edges.push(Edge::new([a.x, a.y], [b.x, b.y]));
                }
                rings.push(coords);
                ring_ids.push((pi as u32, ri as u32));
            }
        }
        let bounds = bounds.ok_or("the area has no edges")?;
        let ring_refs: Vec<&[Coord<f64>]> = rings.iter().map(Vec::as_slice).collect();
        if check_rings {
            IndexedArea::check_rings(&ring_refs, &ring_ids, flat_ring)?;
        }
        Ok(Edges { edges, bounds })
    }

    fn build(geometry: &Geometry<f64>, check_rings: bool) -> Result<IndexedArea, String> {
        let Edges { edges, bounds } = IndexedArea::edges(geometry, check_rings)?;
        Ok(IndexedArea {
            bands: banded(&edges, bounds),
            edges: RTree::bulk_load(edges),
            bounds,
        })
    }

    /// Whether [`IndexedArea::new`] would accept the area (and why not), without
    /// preparing it.
    pub fn check(geometry: &Geometry<f64>) -> Result<(), String> {
        IndexedArea::edges(geometry, true).map(|_| ())
    }

    /// Rings that neither cross nor touch, none flat, holes inside their exterior.
    fn check_rings(
        ring_refs: &[&[Coord<f64>]],
        ring_ids: &[RingId],
        flat_ring: Option<String>,
    ) -> Result<(), String> {
        let enclosing = sweep::check_rings(ring_refs).map_err(|c| {
            let (a, b) = (ring_ids[c.rings.0], ring_ids[c.rings.1]);
            let name = |(p, r): RingId| ring_name(p as usize, r as usize);
            if a == b {
                format!(
                    "{} {CROSSES_ITSELF} ({:.6}, {:.6})",
                    name(a),
                    c.at.x,
                    c.at.y
                )
            } else {
                format!(
                    "{} and {} touch or cross near ({:.6}, {:.6})",
                    name(a),
                    name(b),
                    c.at.x,
                    c.at.y
                )
            }
        })?;
        if let Some(ring) = flat_ring {
            return Err(format!("{ring} encloses no area"));
        }
        check_nesting(ring_ids, &enclosing)
    }

    /// Whether the segment `a`–`b` meets an edge of the area (crossing or touching).
    pub fn meets_segment(&self, a: Coord<f64>, b: Coord<f64>) -> bool {
        let envelope =
            AABB::from_corners([a.x.min(b.x), a.y.min(b.y)], [a.x.max(b.x), a.y.max(b.y)]);
        let segment = Line::new(a, b);
        self.edges
            .locate_in_envelope_intersecting(&envelope)
            .any(|edge| {
                Line::new(Coord::from(edge.from), Coord::from(edge.to)).intersects(&segment)
            })
    }

    /// One vertex of the area's boundary.
    pub fn a_vertex(&self) -> Option<Coord<f64>> {
        self.edges.iter().next().map(|e| Coord::from(e.from))
    }

    /// The bounding box.
    pub fn bounds(&self) -> Rect<f64> {
        self.bounds
    }

    /// Where a point lies.
    pub fn locate(&self, p: Coord<f64>) -> Location {
        locate_by(&self.bounds, p, |on_edge| match &self.bands {
            Some(bands) => bands.any_edge_at(p.y, on_edge),
            None => {
                let ray = AABB::from_corners([p.x, p.y], [self.bounds.max().x, p.y]);
                self.edges
                    .locate_in_envelope_intersecting(&ray)
                    .any(|edge| on_edge(Coord::from(edge.from), Coord::from(edge.to)))
            }
        })
    }

    /// How a box lies relative to the area.
    pub fn cover(&self, rect: &Rect<f64>) -> Cover {
        if !rect.intersects(&self.bounds) {
            return Cover::Outside;
        }
        let envelope =
            AABB::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]);
        let crossed = self
            .edges
            .locate_in_envelope_intersecting(&envelope)
            .any(|edge| Line::new(Coord::from(edge.from), Coord::from(edge.to)).intersects(rect));
        if crossed {
            return Cover::Partly;
        }
        match self.locate(rect.min()) {
            Location::Inside => Cover::Inside,
            Location::Outside => Cover::Outside,
            Location::OnBoundary => Cover::Partly,
        }
    }
}

/// Holes lie directly inside their polygon's exterior (not outside it, not inside another
/// hole); parts lie outside each other (a part may lie in another part's hole). `enclosing`
/// gives the ring immediately enclosing each ring, the rings being valid and disjoint.
fn check_nesting(ring_ids: &[RingId], enclosing: &[Option<usize>]) -> Result<(), String> {
    // Rings come polygon by polygon, exterior first: each polygon's holes are checked
    // before whether its exterior lies inside another part.
    let mut order: Vec<usize> = (0..ring_ids.len()).collect();
    order.sort_by_key(|&x| (ring_ids[x].0, ring_ids[x].1 == 0));
    for x in order {
        let (p, r) = ring_ids[x];
        let parent = enclosing[x].map(|y| ring_ids[y]);
        if r > 0 {
            match parent {
                Some((q, 0)) if q == p => {}
                Some((q, h)) if q == p => {
                    return Err(format!(
                        "{} lies inside {}",
                        ring_name(p as usize, r as usize),
                        ring_name(p as usize, h as usize)
                    ))
                }
                _ => {
                    return Err(format!(
                        "{} is not inside the exterior ring of polygon {}",
                        ring_name(p as usize, r as usize),
                        p + 1
                    ))
                }
            }
        } else if let Some((q, 0)) = parent {
            return Err(format!(
                "polygons {} and {} of the MultiPolygon overlap",
                q.min(p) + 1,
                q.max(p) + 1
            ));
        }
    }
    Ok(())
}

/// An area's edges and their bounds, checked.
struct Edges {
    edges: Vec<Edge>,
    bounds: Rect<f64>,
}

/// An area's edges by horizontal band ([`Bands::build`]), when they fit.
fn banded(edges: &[Edge], bounds: Rect<f64>) -> Option<Bands> {
    let segments = edges
        .iter()
        .map(|e| (Coord::from(e.from), Coord::from(e.to)))
        .collect();
    Bands::build(segments, bounds.min().y, bounds.max().y)
}

/// Where `p` lies, by the crossing rule: `edges_at` calls its argument with each edge the
/// eastward ray from `p` may meet (any superset of them will do, as edges the ray cannot
/// meet are never counted) and says whether one call found `p` on an edge.
fn locate_by(
    bounds: &Rect<f64>,
    p: Coord<f64>,
    edges_at: impl FnOnce(&mut dyn FnMut(Coord<f64>, Coord<f64>) -> bool) -> bool,
) -> Location {
    if !(bounds.min().x <= p.x
        && p.x <= bounds.max().x
        && bounds.min().y <= p.y
        && p.y <= bounds.max().y)
    {
        return Location::Outside;
    }
    let mut crossings = 0u32;
    let mut on_edge = |a: Coord<f64>, b: Coord<f64>| {
        let orientation = RobustKernel::orient2d(a, b, p);
        if orientation == Orientation::Collinear
            && a.x.min(b.x) <= p.x
            && p.x <= a.x.max(b.x)
            && a.y.min(b.y) <= p.y
            && p.y <= a.y.max(b.y)
        {
            return true;
        }
        let upward = a.y <= p.y && b.y > p.y;
        let downward = b.y <= p.y && a.y > p.y;
        if (upward && orientation == Orientation::CounterClockwise)
            || (downward && orientation == Orientation::Clockwise)
        {
            crossings += 1;
        }
        false
    };
    if edges_at(&mut on_edge) {
        return Location::OnBoundary;
    }
    if crossings % 2 == 1 {
        Location::Inside
    } else {
        Location::Outside
    }
}

/// An area of the loaded data prepared for locating points only: its edges by band,
/// without the R-tree of edges that box and segment tests need (the load's check of each
/// site against its own area spent most of its time building that tree, for 4,596 areas).
#[derive(Debug)]
pub struct BandedArea {
    bounds: Rect<f64>,
    bands: Bands,
}

impl BandedArea {
    /// The area of a Polygon or MultiPolygon that loading accepted (see
    /// [`IndexedArea::of_loaded`]); `None` for anything else, or an area with no height.
    pub fn of_loaded(geometry: &Geometry<f64>) -> Option<BandedArea> {
        let Edges { edges, bounds } = IndexedArea::edges(geometry, false).ok()?;
        let bands = banded(&edges, bounds)?;
        Some(BandedArea { bounds, bands })
    }

    /// Where a point lies, as [`IndexedArea::locate`] says.
    pub fn locate(&self, p: Coord<f64>) -> Location {
        locate_by(&self.bounds, p, |on_edge| {
            self.bands.any_edge_at(p.y, on_edge)
        })
    }
}

/// Said of a ring that crosses or touches itself: invalid by every rule, where rings
/// touching each other at a point are valid by some (`geo`'s, the load's) and not by the
/// query areas'.
pub const CROSSES_ITSELF: &str = "crosses itself near";

fn signed_area(ring: &[Coord<f64>]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum::<f64>()
        / 2.0
}

fn union(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
        (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
    )
}

fn ring_name(polygon: usize, ring: usize) -> String {
    if ring == 0 {
        format!("the exterior ring of polygon {}", polygon + 1)
    } else {
        format!("hole {ring} of polygon {}", polygon + 1)
    }
}

/// The GeoJSON name of a geometry's type.
pub fn kind_name(geometry: &Geometry<f64>) -> &'static str {
    match geometry {
        Geometry::Point(_) => "Point",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::Line(_) | Geometry::LineString(_) => "LineString",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "Polygon",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Contains};

    fn area(g: impl Into<Geometry<f64>>) -> Result<IndexedArea, String> {
        IndexedArea::new(&g.into())
    }

    proptest::proptest! {
        /// Star-shaped polygons (one with a hole, beside a second part) on a grid, and
        /// points on the same grid (so many fall on vertices and edges): a banded area
        /// locates each as `geo`'s own point test does, and as the indexed area does.
        #[test]
        fn a_banded_area_locates_points_as_geo_does(
            radii in proptest::collection::vec(2i32..9, 3..24),
            holed in proptest::bool::ANY,
            points in proptest::collection::vec((-10i32..30, -10i32..12), 1..60),
        ) {
            use geo::coordinate_position::{CoordPos, CoordinatePosition};
            let n = radii.len() as f64;
            let star: Vec<(f64, f64)> = radii
                .iter()
                .enumerate()
                .map(|(i, &r)| {
                    let angle = std::f64::consts::TAU * i as f64 / n;
                    ((f64::from(r) * angle.cos()).round(), (f64::from(r) * angle.sin()).round())
                })
                .collect();
            let hole = vec![(-1., -1.), (1., -1.), (1., 1.), (-1., 1.), (-1., -1.)];
            let star = Polygon::new(star.into(), if holed { vec![hole.into()] } else { vec![] });
            let other = polygon![(x: 15., y: 0.), (x: 25., y: 0.), (x: 20., y: 8.)];
            let shape = Geometry::MultiPolygon(MultiPolygon(vec![star, other]));
            // Rounded stars may cross themselves; only areas the load accepts are banded.
            proptest::prop_assume!(IndexedArea::new(&shape).is_ok());
            let banded = BandedArea::of_loaded(&shape).unwrap();
            let indexed = IndexedArea::of_loaded(&shape).unwrap();
            for (x, y) in points {
                let p = Coord { x: f64::from(x), y: f64::from(y) };
                let expected = match shape.coordinate_position(&p) {
                    CoordPos::Inside => Location::Inside,
                    CoordPos::OnBoundary => Location::OnBoundary,
                    CoordPos::Outside => Location::Outside,
                };
                proptest::prop_assert_eq!(banded.locate(p), expected, "{:?}", p);
                proptest::prop_assert_eq!(indexed.locate(p), expected, "{:?}", p);
            }
        }
    }

    #[test]
    fn points_inside_on_the_edge_and_in_a_hole_are_told_apart() {
        let p = polygon!(
            exterior: [(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.), (x: 0., y: 0.)],
            interiors: [[(x: 4., y: 4.), (x: 6., y: 4.), (x: 6., y: 6.), (x: 4., y: 6.), (x: 4., y: 4.)]],
        );
        let a = area(p.clone()).unwrap();
        assert_eq!(a.locate(Coord { x: 1., y: 1. }), Location::Inside);
        assert_eq!(a.locate(Coord { x: 5., y: 5. }), Location::Outside);
        assert_eq!(a.locate(Coord { x: 10., y: 3. }), Location::OnBoundary);
        assert_eq!(a.locate(Coord { x: 4., y: 5. }), Location::OnBoundary);
        assert_eq!(a.locate(Coord { x: 0., y: 0. }), Location::OnBoundary);
        assert_eq!(a.locate(Coord { x: 11., y: 5. }), Location::Outside);
        assert!(p.contains(&Coord { x: 1., y: 1. }));
    }

    #[test]
    fn boxes_are_classified_inside_outside_or_crossed() {
        let a = area(polygon![(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)])
            .unwrap();
        assert_eq!(a.cover(&Rect::new((1., 1.), (2., 2.))), Cover::Inside);
        assert_eq!(a.cover(&Rect::new((11., 1.), (12., 2.))), Cover::Outside);
        assert_eq!(a.cover(&Rect::new((9., 1.), (12., 2.))), Cover::Partly);
        assert_eq!(a.cover(&Rect::new((-5., -5.), (15., 15.))), Cover::Partly);
    }

    #[test]
    fn a_bow_tie_is_refused_with_where_it_crosses() {
        let err = area(polygon![(x: 0., y: 0.), (x: 2., y: 2.), (x: 2., y: 0.), (x: 0., y: 2.)])
            .unwrap_err();
        assert!(
            err.contains("crosses itself near (1.000000, 1.000000)"),
            "{err}"
        );
    }

    #[test]
    fn a_hole_outside_its_polygon_is_refused() {
        let p = polygon!(
            exterior: [(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.), (x: 0., y: 0.)],
            interiors: [[(x: 4., y: 4.), (x: 6., y: 4.), (x: 6., y: 6.), (x: 4., y: 4.)]],
        );
        assert!(area(p)
            .unwrap_err()
            .contains("hole 1 of polygon 1 is not inside"));
    }

    #[test]
    fn overlapping_parts_are_refused_and_separate_parts_accepted() {
        let a = polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)];
        let inner =
            polygon![(x: 0.2, y: 0.2), (x: 0.4, y: 0.2), (x: 0.4, y: 0.4), (x: 0.2, y: 0.4)];
        let far = polygon![(x: 5., y: 5.), (x: 6., y: 5.), (x: 6., y: 6.), (x: 5., y: 6.)];
        assert!(area(MultiPolygon(vec![a.clone(), inner]))
            .unwrap_err()
            .contains("overlap"));
        assert!(area(MultiPolygon(vec![a, far])).is_ok());
    }

    #[test]
    fn a_spike_that_folds_back_is_refused() {
        let err = area(polygon![(x: 0., y: 0.), (x: 2., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.)])
            .unwrap_err();
        assert!(err.contains("crosses itself"), "{err}");
    }

    #[test]
    fn only_polygons_make_an_area() {
        assert!(area(geo::Point::new(1., 1.)).unwrap_err().contains("Point"));
    }

    /// `n` vertices around the origin, alternately at radius 1 and 10 (simple, but every
    /// edge's box overlaps most others).
    fn star(n: usize) -> Vec<Coord<f64>> {
        (0..n)
            .map(|i| {
                let angle = std::f64::consts::TAU * i as f64 / n as f64;
                let r = if i % 2 == 0 { 1.0 } else { 10.0 };
                Coord {
                    x: r * angle.cos(),
                    y: r * angle.sin(),
                }
            })
            .collect()
    }

    fn polygon_of(ring: Vec<Coord<f64>>) -> Polygon<f64> {
        Polygon::new(geo::LineString(ring), vec![])
    }

    #[test]
    fn a_100000_vertex_star_is_accepted_and_refused_once_two_vertices_swap() {
        let ring = star(100_000);
        let a = area(polygon_of(ring.clone())).unwrap();
        assert_eq!(a.locate(Coord { x: 0., y: 0. }), Location::Inside);
        assert_eq!(a.locate(Coord { x: 9.9, y: 0. }), Location::Outside);
        let mut swapped = ring;
        swapped.swap(50_000, 50_002);
        let err = area(polygon_of(swapped)).unwrap_err();
        assert!(
            err.contains("the exterior ring of polygon 1 crosses itself near"),
            "{err}"
        );
    }

    #[test]
    fn a_100000_vertex_fan_of_thin_spikes_is_accepted() {
        // From the origin, spikes to radius 1000 between points at radius 1, over a quarter turn.
        let spikes = 99_999;
        let mut ring = vec![Coord { x: 0., y: 0. }];
        ring.extend((0..spikes).map(|j| {
            let angle = std::f64::consts::FRAC_PI_2 * j as f64 / (spikes - 1) as f64;
            let r = if j % 2 == 0 { 1.0 } else { 1000.0 };
            Coord {
                x: r * angle.cos(),
                y: r * angle.sin(),
            }
        }));
        let a = area(polygon_of(ring)).unwrap();
        assert_eq!(a.locate(Coord { x: 0.5, y: 0.5 }), Location::Inside);
    }

    #[test]
    fn a_hole_touching_the_exterior_at_a_vertex_or_inside_an_edge_is_refused() {
        let exterior = [(0., 0.), (10., 0.), (10., 10.), (0., 10.), (0., 0.)];
        for (hole, at) in [
            (
                [(0., 0.), (5., 2.), (2., 5.), (0., 0.)],
                "(0.000000, 0.000000)",
            ),
            (
                [(0., 5.), (5., 4.), (5., 6.), (0., 5.)],
                "(0.000000, 5.000000)",
            ),
        ] {
            let p = Polygon::new(exterior.to_vec().into(), vec![hole.to_vec().into()]);
            let err = area(p).unwrap_err();
            assert_eq!(
                err,
                format!("the exterior ring of polygon 1 and hole 1 of polygon 1 touch or cross near {at}")
            );
        }
    }

    #[test]
    fn parts_sharing_an_edge_or_a_corner_are_refused() {
        let left = polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)];
        let right = polygon![(x: 1., y: 0.), (x: 2., y: 0.), (x: 2., y: 1.), (x: 1., y: 1.)];
        let corner = polygon![(x: 1., y: 1.), (x: 2., y: 1.), (x: 2., y: 2.), (x: 1., y: 2.)];
        for other in [right, corner] {
            let err = area(MultiPolygon(vec![left.clone(), other])).unwrap_err();
            assert!(
                err.starts_with(
                    "the exterior ring of polygon 1 and the exterior ring of polygon 2 touch or cross near (1.000000, "
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn a_part_inside_a_hole_of_another_part_is_accepted() {
        let holed = polygon!(
            exterior: [(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.), (x: 0., y: 0.)],
            interiors: [[(x: 2., y: 2.), (x: 8., y: 2.), (x: 8., y: 8.), (x: 2., y: 8.), (x: 2., y: 2.)]],
        );
        let island = polygon![(x: 4., y: 4.), (x: 6., y: 4.), (x: 6., y: 6.), (x: 4., y: 6.)];
        let a = area(MultiPolygon(vec![island.clone(), holed.clone()])).unwrap();
        assert_eq!(a.locate(Coord { x: 1., y: 1. }), Location::Inside);
        assert_eq!(a.locate(Coord { x: 3., y: 3. }), Location::Outside);
        assert_eq!(a.locate(Coord { x: 5., y: 5. }), Location::Inside);
        // But not a part inside that island.
        let speck = polygon![(x: 4.5, y: 4.5), (x: 5., y: 4.5), (x: 5., y: 5.)];
        let err = area(MultiPolygon(vec![holed, island, speck])).unwrap_err();
        assert_eq!(err, "polygons 2 and 3 of the MultiPolygon overlap");
    }

    #[test]
    fn a_hole_inside_another_hole_of_its_polygon_is_refused() {
        let p = polygon!(
            exterior: [(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.), (x: 0., y: 0.)],
            interiors: [
                [(x: 2., y: 2.), (x: 8., y: 2.), (x: 8., y: 8.), (x: 2., y: 8.), (x: 2., y: 2.)],
                [(x: 4., y: 4.), (x: 6., y: 4.), (x: 6., y: 6.), (x: 4., y: 4.)],
            ],
        );
        assert_eq!(
            area(p).unwrap_err(),
            "hole 2 of polygon 1 lies inside hole 1 of polygon 1"
        );
    }

    #[test]
    fn a_ring_touching_itself_at_a_vertex_is_refused() {
        let err = area(polygon![
            (x: 0., y: 0.), (x: 2., y: 0.), (x: 1., y: 1.), (x: 2., y: 2.), (x: 0., y: 2.), (x: 1., y: 1.)
        ])
        .unwrap_err();
        assert_eq!(
            err,
            "the exterior ring of polygon 1 crosses itself near (1.000000, 1.000000)"
        );
    }

    #[test]
    fn a_position_that_is_not_a_finite_number_is_refused() {
        let err = area(polygon![(x: 0., y: 0.), (x: f64::NAN, y: 0.), (x: 1., y: 1.)]).unwrap_err();
        assert!(err.contains("not a finite number"), "{err}");
    }
}
