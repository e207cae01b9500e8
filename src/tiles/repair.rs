//! Valid polygon rings in integer tile coordinates, as MVT 2.1 asks: every ring simple (no
//! self-intersection, no self-tangency), with area, and every hole inside its exterior.
//!
//! Clipping and simplification can break a valid source polygon: Douglas–Peucker can make
//! one arc of a ring cross another, snapping to the grid can make a ring touch itself, and
//! Sutherland–Hodgman joins the pieces of a polygon that leaves the box and comes back on
//! the same side with a bridge along the box's side (two edges overlapping, walked both
//! ways), or rounds a crossing point onto another edge. Two steps:
//!
//! 1. [`repair_polygon`], once per polygon and zoom (see
//!    [`super::prepare::PolygonRings::valid_parts`]): an exact check of the simplified
//!    polygon (integer orientation tests, a sweep over its edges sorted by x). Almost every
//!    polygon passes and is left untouched, so shared borders stay identical between
//!    neighbours. One that fails is rebuilt by [`i_overlay`] (even-odd fill of all its
//!    rings, OGC-valid output on the same integer grid): bridges cancel out, a ring
//!    touching itself becomes separate rings, crossings are noded. Each ring of the result
//!    is checked again and dropped if it still fails (a sliver).
//! 2. [`repair_clipped`], per tile, for a valid polygon that the tile cuts: only the edges
//!    that clipping made (those with an end on the box's sides) can be at fault, so only
//!    they are checked; the rare polygon that fails is rebuilt as above.
//!
//! A polygon wholly inside the tile needs neither step again, so tile rendering costs
//! about what it did before the checks.

use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::{ContourDirection, IntOverlayOptions, Overlay, ShapeType};
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::i_float::int::point::IntPoint;

use super::prepare::doubled_area;
use super::simplify::{remove_spikes, WorldPoint};

/// A ring without its closing vertex.
pub type Ring = Vec<WorldPoint>;

/// One clipped polygon (exterior ring first, then holes, any winding) as valid polygons:
/// usually the same one with repeats and spikes removed, or the parts of its rebuilt
/// outline when it was not valid; empty when nothing with area is left. Each polygon is an
/// exterior ring then its holes, each ring simple and with area; winding is left to the
/// encoder. A polygon wider than `i32` can count, which no tile holds, is left out
/// when it needs rebuilding.
pub fn repair_polygon(mut rings: Vec<Ring>) -> Vec<Vec<Ring>> {
    for ring in &mut rings {
        remove_spikes(ring);
    }
    if rings.first().is_none_or(|exterior| exterior.len() < 3) {
        return Vec::new();
    }
    // A ring without area may still be a bow tie with area on each side: rebuilt below.
    rings.retain(|ring| ring.len() >= 3);
    if is_valid_polygon(&rings) {
        return vec![rings];
    }
    rebuild(&rings)
}

/// [`repair_polygon`] for the rings of a valid polygon clipped to the box `min`–`max`
/// (Sutherland–Hodgman): only edges with an end on the box's sides can be at fault, so only
/// they are checked against the others, unless there are so many that the full check is
/// cheaper.
pub fn repair_clipped(mut rings: Vec<Ring>, min: WorldPoint, max: WorldPoint) -> Vec<Vec<Ring>> {
    let mut verdict = clipped_verdict(&rings, min, max);
    if verdict == Verdict::Spiky {
        for ring in &mut rings {
            remove_spikes(ring);
        }
        if rings.first().is_none_or(|exterior| exterior.len() < 3) {
            return Vec::new();
        }
        rings.retain(|ring| ring.len() >= 3);
        verdict = clipped_verdict(&rings, min, max);
    }
    if verdict == Verdict::Valid {
        return vec![rings];
    }
    rebuild(&rings)
}

/// What [`clipped_verdict`] finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Valid as it is.
    Valid,
    /// To be rebuilt.
    Invalid,
    /// Repeats or spikes to remove first (or a ring of fewer than 3 vertices).
    Spiky,
}

/// Beyond this many edges made by clipping, [`clipped_verdict`] checks every edge with a
/// sweep instead of each made edge against every other.
const MAX_CUT_EDGES: usize = 32;

/// Edges per run whose bounding box [`clipped_verdict`] tests before the edges themselves.
const RUN: usize = 32;

/// Whether rings clipped from a valid polygon are still valid: no repeats or spikes, each
/// with area, and no edge that clipping made meets another edge (other than at the vertex
/// it shares with its neighbour in the ring). Every other edge is one of the polygon's own,
/// strictly inside the box, and those never meet. An edge made by clipping has an end on
/// the box's sides: one *along* a side can only meet edges that reach the side, that is
/// other made edges; one *across* (from a vertex inside to a crossing point) is checked
/// against every edge. A hole whose clipped outline touches nothing stays inside the
/// clipped exterior. One pass over the vertices, then only the made edges.
fn clipped_verdict(rings: &[Ring], min: WorldPoint, max: WorldPoint) -> Verdict {
    let on_side =
        |p: WorldPoint| p[0] == min[0] || p[0] == max[0] || p[1] == min[1] || p[1] == max[1];
    // (ring, index of its first vertex, whether it runs along a side).
    let mut made: Vec<(usize, usize, bool)> = Vec::new();
    for (r, ring) in rings.iter().enumerate() {
        let n = ring.len();
        if n < 3 {
            return Verdict::Spiky;
        }
        let mut area = 0i128;
        let mut a_on = on_side(ring[0]);
        for i in 0..n {
            let j = if i + 1 == n { 0 } else { i + 1 };
            let (a, b, c) = (ring[i], ring[j], ring[if j + 1 == n { 0 } else { j + 1 }]);
            if a == b || a == c {
                return Verdict::Spiky;
            }
            area += i128::from(a[0]) * i128::from(b[1]) - i128::from(b[0]) * i128::from(a[1]);
            let b_on = on_side(b);
            if a_on || b_on {
                made.push((r, i, a_on && b_on));
                if made.len() > MAX_CUT_EDGES {
                    // Many cuts: the sweep over every edge is cheaper.
                    return if is_valid_polygon(rings) {
                        Verdict::Valid
                    } else {
                        Verdict::Invalid
                    };
                }
            }
            a_on = b_on;
        }
        if area == 0 {
            return Verdict::Invalid;
        }
    }
    if made.is_empty() {
        return Verdict::Valid;
    }
    let meets = |(r, i): (usize, usize), (s, j): (usize, usize)| -> bool {
        let (ring, other) = (&rings[r], &rings[s]);
        let (n, m) = (ring.len(), other.len());
        let (a, b) = (ring[i], ring[if i + 1 == n { 0 } else { i + 1 }]);
        let (c, d) = (other[j], other[if j + 1 == m { 0 } else { j + 1 }]);
        if c[0].max(d[0]) < a[0].min(b[0])
            || c[0].min(d[0]) > a[0].max(b[0])
            || c[1].max(d[1]) < a[1].min(b[1])
            || c[1].min(d[1]) > a[1].max(b[1])
        {
            return false;
        }
        if s != r {
            segments_meet(a, b, c, d)
        } else if j == i {
            false
        } else if (i + 1) % n == j {
            !consecutive_are_clear(a, b, d, n as u32)
        } else if (j + 1) % n == i {
            !consecutive_are_clear(c, d, b, n as u32)
        } else {
            segments_meet(a, b, c, d)
        }
    };
    // Made edges against each other.
    for (x, &(r, i, _)) in made.iter().enumerate() {
        for &(s, j, _) in &made[x + 1..] {
            if meets((r, i), (s, j)) {
                return Verdict::Invalid;
            }
        }
    }
    // Edges across the box's sides against the polygon's own edges.
    let across: Vec<(usize, usize)> = made
        .iter()
        .filter(|e| !e.2)
        .map(|&(r, i, _)| (r, i))
        .collect();
    if across.is_empty() {
        return Verdict::Valid;
    }
    // Runs of the rings whose bounding box misses every edge across are skipped whole.
    let boxes: Vec<(WorldPoint, WorldPoint)> = across
        .iter()
        .map(|&(r, i)| {
            let ring = &rings[r];
            let (a, b) = (ring[i], ring[if i + 1 == ring.len() { 0 } else { i + 1 }]);
            (
                [a[0].min(b[0]), a[1].min(b[1])],
                [a[0].max(b[0]), a[1].max(b[1])],
            )
        })
        .collect();
    for (s, other) in rings.iter().enumerate() {
        let m = other.len();
        let mut start = 0;
        while start < m {
            let end = (start + RUN).min(m);
            let first = other[start];
            let (lo, hi) = (start + 1..=end).fold((first, first), |(lo, hi), j| {
                let p = other[if j == m { 0 } else { j }];
                (
                    [lo[0].min(p[0]), lo[1].min(p[1])],
                    [hi[0].max(p[0]), hi[1].max(p[1])],
                )
            });
            let near = |(l, h): &(WorldPoint, WorldPoint)| {
                !(h[0] < lo[0] || l[0] > hi[0] || h[1] < lo[1] || l[1] > hi[1])
            };
            if boxes.iter().any(near) {
                for j in start..end {
                    let (c, d) = (other[j], other[if j + 1 == m { 0 } else { j + 1 }]);
                    if on_side(c) || on_side(d) {
                        continue; // a made edge, done above
                    }
                    for &(r, i) in &across {
                        if meets((r, i), (s, j)) {
                            return Verdict::Invalid;
                        }
                    }
                }
            }
            start = end;
        }
    }
    Verdict::Valid
}

/// Whether a ring has three or more vertices and non-zero area.
fn has_area(ring: &[WorldPoint]) -> bool {
    ring.len() >= 3 && doubled_area(ring) != 0
}

/// The polygon rebuilt by an overlay of its rings (even-odd), in OGC-valid parts, each ring
/// checked again.
fn rebuild(rings: &[Ring]) -> Vec<Vec<Ring>> {
    let options = IntOverlayOptions {
        preserve_input_collinear: true,
        output_direction: ContourDirection::Clockwise,
        preserve_output_collinear: true,
        min_output_area: 0,
        ogc: true,
    };
    // i_overlay works in i32: coordinates are taken from the least corner of the rings.
    let origin = rings.iter().flatten().fold([i64::MAX, i64::MAX], |o, p| {
        [o[0].min(p[0]), o[1].min(p[1])]
    });
    let capacity = rings.iter().map(Vec::len).sum();
    let mut overlay = Overlay::new_custom(capacity, options, Default::default());
    for ring in rings {
        let Some(contour) = ring
            .iter()
            .map(|p| {
                Some(IntPoint::new(
                    i32::try_from(p[0] - origin[0]).ok()?,
                    i32::try_from(p[1] - origin[1]).ok()?,
                ))
            })
            .collect::<Option<Vec<IntPoint>>>()
        else {
            return Vec::new();
        };
        overlay.add_contour(&contour, ShapeType::Subject);
    }
    overlay
        .overlay(OverlayRule::Subject, FillRule::EvenOdd)
        .into_iter()
        .filter_map(|shape| {
            let mut rings = shape.into_iter().map(|contour| {
                let mut ring: Ring = contour
                    .into_iter()
                    .map(|p| [i64::from(p.x) + origin[0], i64::from(p.y) + origin[1]])
                    .collect();
                remove_spikes(&mut ring);
                ring
            });
            let exterior = rings.next().filter(|r| is_simple_ring(r))?;
            let mut polygon = vec![exterior];
            polygon.extend(rings.filter(|r| is_simple_ring(r)));
            Some(polygon)
        })
        .collect()
}

/// Whether one ring is simple and has area.
pub fn is_simple_ring(ring: &[WorldPoint]) -> bool {
    has_area(ring) && edges_are_clear(&[ring])
}

/// Whether a polygon is valid in the strictest sense: every ring simple with area, no two
/// rings touching, every hole inside the exterior and outside the other holes.
pub fn is_valid_polygon(rings: &[Ring]) -> bool {
    let Some((exterior, holes)) = rings.split_first() else {
        return false;
    };
    if !rings.iter().all(|r| has_area(r)) {
        return false;
    }
    let slices: Vec<&[WorldPoint]> = rings.iter().map(Vec::as_slice).collect();
    if !edges_are_clear(&slices) {
        return false;
    }
    // No ring touches another, so one vertex tells on which side a whole ring is.
    holes.iter().enumerate().all(|(i, hole)| {
        inside(hole[0], exterior)
            && holes
                .iter()
                .enumerate()
                .all(|(j, other)| i == j || !inside(hole[0], other))
    })
}

/// One edge of the rings checked by [`edges_are_clear`].
#[derive(Clone, Copy)]
struct Edge {
    a: WorldPoint,
    b: WorldPoint,
    ring: u32,
    index: u32,
    min_x: i64,
    max_x: i64,
}

/// Whether no two edges of `rings` meet, except consecutive edges of one ring at their
/// common vertex (and those must not fold back over each other).
fn edges_are_clear(rings: &[&[WorldPoint]]) -> bool {
    let total: usize = rings.iter().map(|r| r.len()).sum();
    let mut edges: Vec<Edge> = Vec::with_capacity(total);
    for (r, ring) in rings.iter().enumerate() {
        let n = ring.len();
        for i in 0..n {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            if a == b {
                return false;
            }
            edges.push(Edge {
                a,
                b,
                ring: r as u32,
                index: i as u32,
                min_x: a[0].min(b[0]),
                max_x: a[0].max(b[0]),
            });
        }
    }
    let lengths: Vec<u32> = rings.iter().map(|r| r.len() as u32).collect();
    edges.sort_unstable_by_key(|e| e.min_x);
    for (i, e) in edges.iter().enumerate() {
        let (e_min_y, e_max_y) = (e.a[1].min(e.b[1]), e.a[1].max(e.b[1]));
        for f in &edges[i + 1..] {
            if f.min_x > e.max_x {
                break;
            }
            if f.a[1].max(f.b[1]) < e_min_y || f.a[1].min(f.b[1]) > e_max_y {
                continue;
            }
            let clear = if e.ring == f.ring {
                let n = lengths[e.ring as usize];
                if (e.index + 1) % n == f.index {
                    consecutive_are_clear(e.a, e.b, f.b, n)
                } else if (f.index + 1) % n == e.index {
                    consecutive_are_clear(f.a, f.b, e.b, n)
                } else {
                    !segments_meet(e.a, e.b, f.a, f.b)
                }
            } else {
                !segments_meet(e.a, e.b, f.a, f.b)
            };
            if !clear {
                return false;
            }
        }
    }
    true
}

/// Consecutive edges `a`–`b`, `b`–`c` of a ring of `n` vertices meet only at `b`: they do
/// not fold back along one line (and in a triangle, `c` is `a`, which is fine).
fn consecutive_are_clear(a: WorldPoint, b: WorldPoint, c: WorldPoint, n: u32) -> bool {
    if n < 3 {
        return false;
    }
    let folded = orientation(a, b, c) == 0
        && (i128::from(b[0] - a[0]) * i128::from(c[0] - b[0])
            + i128::from(b[1] - a[1]) * i128::from(c[1] - b[1]))
            < 0;
    !folded
}

/// The sign of the turn `a` → `b` → `c`: 1, -1, or 0 when collinear. Exact.
fn orientation(a: WorldPoint, b: WorldPoint, c: WorldPoint) -> i8 {
    let cross = i128::from(b[0] - a[0]) * i128::from(c[1] - a[1])
        - i128::from(b[1] - a[1]) * i128::from(c[0] - a[0]);
    cross.signum() as i8
}

/// Whether `p`, collinear with `a`–`b`, lies on that segment.
fn on_segment(a: WorldPoint, b: WorldPoint, p: WorldPoint) -> bool {
    p[0] >= a[0].min(b[0])
        && p[0] <= a[0].max(b[0])
        && p[1] >= a[1].min(b[1])
        && p[1] <= a[1].max(b[1])
}

/// Whether closed segments `a`–`b` and `c`–`d` have any point in common. Exact.
pub fn segments_meet(a: WorldPoint, b: WorldPoint, c: WorldPoint, d: WorldPoint) -> bool {
    let (o1, o2) = (orientation(a, b, c), orientation(a, b, d));
    let (o3, o4) = (orientation(c, d, a), orientation(c, d, b));
    if o1 != o2 && o3 != o4 && o1 != 0 && o2 != 0 && o3 != 0 && o4 != 0 {
        return true;
    }
    (o1 == 0 && on_segment(a, b, c))
        || (o2 == 0 && on_segment(a, b, d))
        || (o3 == 0 && on_segment(c, d, a))
        || (o4 == 0 && on_segment(c, d, b))
}

/// Whether `p` is inside `ring` (crossing number; a point on the boundary may go either
/// way, callers rule that out first).
fn inside(p: WorldPoint, ring: &[WorldPoint]) -> bool {
    let n = ring.len();
    let mut inside = false;
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            // x of the edge at p's y, compared exactly: p.x < a.x + (p.y-a.y)(b.x-a.x)/(b.y-a.y).
            let lhs = i128::from(p[0] - a[0]) * i128::from(b[1] - a[1]);
            let rhs = i128::from(p[1] - a[1]) * i128::from(b[0] - a[0]);
            let left = if b[1] > a[1] { lhs < rhs } else { lhs > rhs };
            if left {
                inside = !inside;
            }
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: i64, y: i64, side: i64) -> Ring {
        vec![[x, y], [x + side, y], [x + side, y + side], [x, y + side]]
    }

    #[test]
    fn a_valid_polygon_is_kept_as_it_is() {
        let polygon = vec![square(0, 0, 10), square(2, 2, 3)];
        assert!(is_valid_polygon(&polygon));
        assert_eq!(repair_polygon(polygon.clone()), vec![polygon]);
    }

    #[test]
    fn a_bridge_along_the_clip_line_is_cut_into_two_rings() {
        // Two squares joined by a zero-width bridge along y = 0, as Sutherland–Hodgman
        // makes them.
        let ring = vec![
            [0, 0],
            [4, 0],
            [6, 0],
            [10, 0],
            [10, 4],
            [6, 4],
            [6, 0],
            [4, 0],
            [4, 4],
            [0, 4],
        ];
        assert!(!is_valid_polygon(std::slice::from_ref(&ring)));
        let repaired = repair_polygon(vec![ring]);
        assert_eq!(repaired.len(), 2, "{repaired:?}");
        for polygon in &repaired {
            assert!(is_valid_polygon(polygon), "{polygon:?}");
            assert_eq!(doubled_area(&polygon[0]).abs(), 32);
        }
    }

    #[test]
    fn a_ring_touching_itself_at_a_vertex_is_split() {
        let ring = vec![
            [0, 0],
            [4, 0],
            [4, 4],
            [8, 4],
            [8, 8],
            [4, 8],
            [4, 4],
            [0, 4],
        ];
        let repaired = repair_polygon(vec![ring]);
        let area: i128 = repaired.iter().map(|p| doubled_area(&p[0]).abs()).sum();
        assert_eq!(area, 64);
        assert!(repaired.iter().all(|p| is_valid_polygon(p)), "{repaired:?}");
    }

    #[test]
    fn a_bow_tie_becomes_two_triangles_and_a_sliver_goes() {
        let repaired = repair_polygon(vec![vec![[0, 0], [10, 10], [10, 0], [0, 10]]]);
        assert_eq!(repaired.len(), 2);
        assert!(repaired.iter().all(|p| is_valid_polygon(p)));
        assert!(repair_polygon(vec![vec![[0, 0], [5, 0], [10, 0]]]).is_empty());
    }

    #[test]
    fn a_hole_on_the_exterior_line_becomes_a_notch() {
        let repaired = repair_polygon(vec![square(0, 0, 10), vec![[0, 2], [4, 2], [4, 6], [0, 6]]]);
        assert_eq!(repaired.len(), 1);
        assert_eq!(repaired[0].len(), 1);
        assert_eq!(doubled_area(&repaired[0][0]).abs(), 2 * (100 - 16));
        assert!(is_valid_polygon(&repaired[0]));
    }

    #[test]
    fn clipped_rings_are_checked_where_the_box_cut_them() {
        let (min, max) = ([0, 0], [10, 10]);
        // Cut by the side y = 0 and valid: kept as it is.
        let cut = vec![[0, 0], [10, 0], [10, 4], [0, 4]];
        assert_eq!(repair_clipped(vec![cut.clone()], min, max), vec![vec![cut]]);
        // A bridge along y = 0 (the polygon left the box and came back): two rings.
        let bridge = vec![
            [0, 0],
            [4, 0],
            [6, 0],
            [10, 0],
            [10, 4],
            [6, 4],
            [6, 0],
            [4, 0],
            [4, 4],
            [0, 4],
        ];
        let repaired = repair_clipped(vec![bridge], min, max);
        assert_eq!(repaired.len(), 2, "{repaired:?}");
        assert!(repaired.iter().all(|p| is_valid_polygon(p)));
        // A crossing point rounded onto a vertex of the polygon's own edges.
        let touching = vec![[2, 5], [5, 0], [8, 5], [5, 8], [5, 0], [3, 9]];
        let repaired = repair_clipped(vec![touching], min, max);
        assert!(repaired.iter().all(|p| is_valid_polygon(p)), "{repaired:?}");
    }

    #[test]
    fn segments_meet_when_touching_or_overlapping() {
        assert!(segments_meet([0, 0], [4, 0], [2, 0], [6, 0]));
        assert!(segments_meet([0, 0], [4, 4], [4, 0], [0, 4]));
        assert!(segments_meet([0, 0], [4, 0], [2, 0], [2, 5]));
        assert!(!segments_meet([0, 0], [4, 0], [5, 0], [6, 0]));
        assert!(!segments_meet([0, 0], [4, 0], [0, 1], [4, 1]));
    }
}
