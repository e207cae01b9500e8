//! OGC validity of polygons and multipolygons as `geo` decides it, with the same first
//! error, in far less time on large areas of many parts: `geo` checks each ring against
//! itself pair of edges by pair, and relates every pair of a multipolygon's parts, and one
//! admin-1 area of 181 islands (19,241 vertices) took 1.3 s of the world's load for it.
//! Here a part that the load's own sweep ([`IndexedArea::check`], stricter than `geo`)
//! finds valid is not checked again, and two parts are related only when their edges meet
//! or one has a vertex inside the other; what is left is `geo`'s to decide.

use std::sync::OnceLock;

use geo::algorithm::coordinate_position::CoordPos;
use geo::algorithm::dimensions::Dimensions;
use geo::algorithm::validation::{GeometryIndex, InvalidMultiPolygon};
use geo::{BoundingRect, Geometry, Intersects, MultiPolygon, Point, Polygon, Relate, Validation};

use super::area::{IndexedArea, Location, CROSSES_ITSELF};

/// Why a polygonal geometry is not valid, if it is not (points and lines are not checked).
/// The load's sweep takes O(n log n) and is stricter than `geo`, which lets rings touch at
/// a point: a ring crossing itself is its answer, and `geo`'s rules decide only what it
/// refuses for rings that touch.
pub fn invalidity(geometry: &Geometry<f64>) -> Option<String> {
    if !matches!(geometry, Geometry::Polygon(_) | Geometry::MultiPolygon(_)) {
        return None;
    }
    match IndexedArea::check(geometry) {
        Ok(()) => None,
        Err(reason) if reason.contains(CROSSES_ITSELF) => Some(reason),
        Err(_) => geo_invalidity(geometry),
    }
}

/// Why `geometry` is not valid by `geo`'s rules (its message), if it is not.
fn geo_invalidity(geometry: &Geometry<f64>) -> Option<String> {
    // `geo`'s relate panics on some invalid parts ("topology position conflict"); the
    // load reports that as the reason instead of failing.
    let found = std::panic::catch_unwind(|| match geometry {
        Geometry::Polygon(p) => p.check_validation().err().map(|e| e.to_string()),
        Geometry::MultiPolygon(mp) => multi_polygon_error(mp).map(|e| e.to_string()),
        _ => None,
    });
    found.unwrap_or_else(|_| Some("its parts could not be compared with each other".into()))
}

/// The first error `geo`'s validation of `mp` reports, in its order: part `i` itself, then
/// its overlaps and shared edges with each later part.
fn multi_polygon_error(mp: &MultiPolygon<f64>) -> Option<InvalidMultiPolygon> {
    let boxes: Vec<_> = mp.0.iter().map(BoundingRect::bounding_rect).collect();
    let areas: Vec<OnceLock<Option<IndexedArea>>> = mp.0.iter().map(|_| OnceLock::new()).collect();
    let area = |i: usize| {
        areas[i]
            .get_or_init(|| IndexedArea::of_loaded(&Geometry::Polygon(mp.0[i].clone())).ok())
            .as_ref()
    };
    let own_errors: Vec<OnceLock<Option<_>>> = mp.0.iter().map(|_| OnceLock::new()).collect();
    let own_error = |i: usize| {
        own_errors[i].get_or_init(|| {
            let polygon = &mp.0[i];
            match IndexedArea::check(&Geometry::Polygon(polygon.clone())) {
                Ok(()) => None,
                Err(_) => polygon.check_validation().err(),
            }
        })
    };
    for (i, polygon) in mp.0.iter().enumerate() {
        if let Some(e) = own_error(i) {
            return Some(InvalidMultiPolygon::InvalidPolygon(
                GeometryIndex(i),
                e.clone(),
            ));
        }
        for (j, other) in mp.0.iter().enumerate().skip(i + 1) {
            // A part invalid by itself is reported when its turn comes; relating it can
            // panic inside `geo`, where `geo`'s own validation would relate it first.
            if own_error(j).is_some() {
                continue;
            }
            let boxes_meet = match (boxes[i], boxes[j]) {
                (Some(a), Some(b)) => a.intersects(&b),
                _ => true,
            };
            if !boxes_meet || area(i).is_some_and(|a| apart(polygon, a, other)) {
                continue;
            }
            let matrix = polygon.relate(other);
            if matrix.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return Some(InvalidMultiPolygon::ElementsOverlaps(
                    GeometryIndex(i),
                    GeometryIndex(j),
                ));
            }
            if matrix.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional
            {
                return Some(InvalidMultiPolygon::ElementsTouchOnALine(
                    GeometryIndex(i),
                    GeometryIndex(j),
                ));
            }
        }
    }
    None
}

/// Whether `b` has no point in common with `a` (prepared as `a_area`): no edge of `b` meets
/// an edge of `a`, and neither has a vertex inside the other. Then their interiors do not
/// meet and they share no edge, which is all `geo` relates them for.
fn apart(a: &Polygon<f64>, a_area: &IndexedArea, b: &Polygon<f64>) -> bool {
    let rings = std::iter::once(b.exterior()).chain(b.interiors());
    for ring in rings {
        if ring.lines().any(|l| a_area.meets_segment(l.start, l.end)) {
            return false;
        }
    }
    let first = |p: &Polygon<f64>| p.exterior().0.first().copied();
    let (Some(in_b), Some(in_a)) = (first(b), first(a)) else {
        return false;
    };
    a_area.locate(in_b) == Location::Outside && !b.intersects(&Point::from(in_a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Polygon};
    use proptest::prelude::*;

    fn square(x: i32, y: i32, side: i32) -> Polygon<f64> {
        let (x, y, s) = (f64::from(x), f64::from(y), f64::from(side));
        polygon![(x: x, y: y), (x: x + s, y: y), (x: x + s, y: y + s), (x: x, y: y + s), (x: x, y: y)]
    }

    #[test]
    fn each_kind_of_error_is_the_one_geo_reports() {
        let cases = [
            // Apart, touching at a corner (valid), sharing an edge, overlapping.
            vec![square(0, 0, 1), square(5, 5, 1)],
            vec![square(0, 0, 1), square(1, 1, 1)],
            vec![square(0, 0, 1), square(1, 0, 1)],
            vec![square(0, 0, 2), square(1, 1, 2)],
            // A bow tie as a part: the part's own error comes first.
            vec![
                square(0, 0, 2),
                polygon![(x: 10., y: 0.), (x: 12., y: 2.), (x: 12., y: 0.), (x: 10., y: 2.), (x: 10., y: 0.)],
                square(1, 1, 2),
            ],
        ];
        let mut errors = 0;
        for parts in cases {
            let mp = MultiPolygon(parts);
            let ours = multi_polygon_error(&mp);
            assert_eq!(ours, mp.check_validation().err(), "{mp:?}");
            errors += usize::from(ours.is_some());
        }
        assert_eq!(errors, 3);
    }

    /// `geo` panics relating a flat ring with a hole to another part; the load reports the
    /// area as invalid.
    #[test]
    fn an_area_geo_cannot_check_is_reported_not_a_panic() {
        let mut flat = ring(&[(3, 3), (0, 0), (4, 4)]);
        flat.interiors_push(square(1, 1, 1).exterior().clone());
        let mp = MultiPolygon(vec![ring(&[(0, 0), (0, 1), (1, 0)]), flat]);
        assert!(std::panic::catch_unwind(|| multi_polygon_error(&mp)).is_err());
        assert!(invalidity(&Geometry::MultiPolygon(mp)).is_some());
    }

    /// A ring through `points` (closed here).
    fn ring(points: &[(i32, i32)]) -> Polygon<f64> {
        let mut coords: Vec<(f64, f64)> = points
            .iter()
            .map(|&(x, y)| (f64::from(x), f64::from(y)))
            .collect();
        coords.push(coords[0]);
        Polygon::new(coords.into(), Vec::new())
    }

    proptest! {
        /// Random rings of 3 to 6 vertices on a 5 x 5 grid (many cross or touch themselves
        /// or each other, or share edges), with and without a square hole: the same answer
        /// as `geo`, so a part the sweep lets through is one `geo` finds valid.
        #[test]
        fn random_parts_get_geo_s_answer(
            parts in prop::collection::vec(
                (prop::collection::vec((0i32..5, 0i32..5), 3..7), prop::bool::ANY),
                1..5,
            )
        ) {
            let polygons = parts.iter().map(|(points, holed)| {
                let mut p = ring(points);
                if *holed {
                    p.interiors_push(square(1, 1, 1).exterior().clone());
                }
                p
            });
            let mp = MultiPolygon(polygons.collect());
            // `geo`'s validation relates parts before checking the later ones, and its
            // relate can panic on an invalid part; so can its check of a part on its own
            // (a hole in a flat ring), which ours asks for the parts it finds invalid (the
            // load catches that panic, see `geo_invalidity`): those cases say nothing.
            let ours = std::panic::catch_unwind(|| multi_polygon_error(&mp));
            let geo = std::panic::catch_unwind(|| mp.check_validation().err());
            let parts_valid =
                std::panic::catch_unwind(|| mp.0.iter().all(|p| p.check_validation().is_ok()));
            proptest::prop_assume!(ours.is_ok() && geo.is_ok() && parts_valid.is_ok());
            let (ours, geo) = (ours.unwrap(), geo.unwrap());
            if parts_valid.unwrap() {
                prop_assert_eq!(ours, geo);
            } else {
                // With an invalid part, `geo` may name an overlap with it first.
                prop_assert!(ours.is_some() && geo.is_some());
            }
        }

        /// Squares on a small grid apart, touching at corners, sharing edges, overlapping
        /// and nested: the same answer as `geo`'s validation of every pair.
        #[test]
        fn the_answer_is_geo_s(
            squares in prop::collection::vec((0i32..8, 0i32..8, 1i32..4), 1..10)
        ) {
            let mp = MultiPolygon(squares.iter().map(|&(x, y, s)| square(x, y, s)).collect());
            prop_assert_eq!(multi_polygon_error(&mp), mp.check_validation().err());
        }
    }
}
