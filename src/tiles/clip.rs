//! Clipping to a tile and its buffer, in integer world coordinates of the tile's zoom.
//!
//! Rings are clipped with Sutherland–Hodgman against the four sides of the box; lines
//! segment by segment (Liang–Barsky) and rejoined. A crossing point is computed from the
//! segment's end points taken in a canonical order and rounded once, so an edge shared by
//! two polygons crosses the tile border at the same point in both. Coordinates never leave
//! the box. Geometry preparation and encoding are done elsewhere.

use super::simplify::WorldPoint;
use super::{TileId, EXTENT};

/// An axis-aligned box, edges included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClipBox {
    /// Least x and y.
    pub min: WorldPoint,
    /// Greatest x and y.
    pub max: WorldPoint,
}

impl ClipBox {
    /// The tile grown by `buffer` units on each side, in world coordinates of its zoom.
    pub fn around(tile: TileId, buffer: u32) -> ClipBox {
        let [x, y] = tile.origin();
        let (extent, buffer) = (i64::from(EXTENT), i64::from(buffer));
        ClipBox {
            min: [x - buffer, y - buffer],
            max: [x + extent + buffer, y + extent + buffer],
        }
    }

    /// Whether `p` is inside (or on) the box.
    pub fn contains(&self, p: WorldPoint) -> bool {
        (self.min[0]..=self.max[0]).contains(&p[0]) && (self.min[1]..=self.max[1]).contains(&p[1])
    }

    /// Whether a box `lo`–`hi` has no point in common with this one.
    fn misses(&self, lo: WorldPoint, hi: WorldPoint) -> bool {
        hi[0] < self.min[0] || hi[1] < self.min[1] || lo[0] > self.max[0] || lo[1] > self.max[1]
    }
}

/// Bounding box of points: `(min, max)`.
fn bounds(points: &[WorldPoint]) -> Option<(WorldPoint, WorldPoint)> {
    let first = *points.first()?;
    Some(points.iter().fold((first, first), |(lo, hi), p| {
        (
            [lo[0].min(p[0]), lo[1].min(p[1])],
            [hi[0].max(p[0]), hi[1].max(p[1])],
        )
    }))
}

/// The four sides of the box, each as (axis, limit, keep the side above the limit).
fn sides(clip: &ClipBox) -> [(usize, i64, bool); 4] {
    [
        (0, clip.min[0], true),
        (0, clip.max[0], false),
        (1, clip.min[1], true),
        (1, clip.max[1], false),
    ]
}

fn inside(p: WorldPoint, axis: usize, limit: i64, above: bool) -> bool {
    if above {
        p[axis] >= limit
    } else {
        p[axis] <= limit
    }
}

/// Where segment `a`–`b` crosses `axis = limit`, from the ends in canonical order.
fn crossing(a: WorldPoint, b: WorldPoint, axis: usize, limit: i64) -> WorldPoint {
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    let other = 1 - axis;
    let t = (limit - a[axis]) as f64 / (b[axis] - a[axis]) as f64;
    let value = a[other] as f64 + t * (b[other] - a[other]) as f64;
    let mut p = [0; 2];
    p[axis] = limit;
    p[other] = value.round() as i64;
    p
}

/// A ring (first vertex not repeated) clipped to the box; empty when nothing is left.
/// The result may run along the box's sides (outside the tile proper, in the buffer).
pub fn clip_ring(ring: &[WorldPoint], clip: &ClipBox) -> Vec<WorldPoint> {
    let Some((lo, hi)) = bounds(ring) else {
        return Vec::new();
    };
    if clip.contains(lo) && clip.contains(hi) {
        return ring.to_vec();
    }
    if clip.misses(lo, hi) {
        return Vec::new();
    }
    let mut current = ring.to_vec();
    for (axis, limit, above) in sides(clip) {
        if current.is_empty() {
            break;
        }
        let mut next = Vec::with_capacity(current.len() + 4);
        let n = current.len();
        for i in 0..n {
            let a = current[(i + n - 1) % n];
            let b = current[i];
            let (a_in, b_in) = (inside(a, axis, limit, above), inside(b, axis, limit, above));
            if b_in {
                if !a_in {
                    next.push(crossing(a, b, axis, limit));
                }
                next.push(b);
            } else if a_in {
                next.push(crossing(a, b, axis, limit));
            }
        }
        next.dedup();
        if next.len() > 1 && next.first() == next.last() {
            next.pop();
        }
        current = next;
    }
    if current.len() < 3 {
        Vec::new()
    } else {
        current
    }
}

/// A line clipped to the box: the runs inside it, each of two or more distinct vertices.
pub fn clip_line(line: &[WorldPoint], clip: &ClipBox) -> Vec<Vec<WorldPoint>> {
    let Some((lo, hi)) = bounds(line) else {
        return Vec::new();
    };
    if clip.misses(lo, hi) {
        return Vec::new();
    }
    if clip.contains(lo) && clip.contains(hi) {
        return if line.len() >= 2 {
            vec![line.to_vec()]
        } else {
            Vec::new()
        };
    }
    let mut runs: Vec<Vec<WorldPoint>> = Vec::new();
    let mut run: Vec<WorldPoint> = Vec::new();
    for pair in line.windows(2) {
        match clip_segment(pair[0], pair[1], clip) {
            Some((a, b)) => {
                if run.last() != Some(&a) {
                    finish_run(&mut runs, &mut run);
                    run.push(a);
                }
                if run.last() != Some(&b) {
                    run.push(b);
                }
                if b != pair[1] {
                    finish_run(&mut runs, &mut run);
                }
            }
            None => finish_run(&mut runs, &mut run),
        }
    }
    finish_run(&mut runs, &mut run);
    runs
}

fn finish_run(runs: &mut Vec<Vec<WorldPoint>>, run: &mut Vec<WorldPoint>) {
    if run.len() >= 2 {
        runs.push(std::mem::take(run));
    } else {
        run.clear();
    }
}

/// The part of segment `a`–`b` inside the box (Liang–Barsky), in the segment's direction.
fn clip_segment(a: WorldPoint, b: WorldPoint, clip: &ClipBox) -> Option<(WorldPoint, WorldPoint)> {
    if clip.contains(a) && clip.contains(b) {
        return Some((a, b));
    }
    // Work from the canonical end so both directions give the same points.
    let flipped = a > b;
    let (p, q) = if flipped { (b, a) } else { (a, b) };
    let (dx, dy) = ((q[0] - p[0]) as f64, (q[1] - p[1]) as f64);
    let (min, max) = (clip.min.map(|v| v as f64), clip.max.map(|v| v as f64));
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (delta, distance) in [
        (-dx, p[0] as f64 - min[0]),
        (dx, max[0] - p[0] as f64),
        (-dy, p[1] as f64 - min[1]),
        (dy, max[1] - p[1] as f64),
    ] {
        if delta == 0.0 {
            if distance < 0.0 {
                return None;
            }
        } else {
            let t = distance / delta;
            if delta < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| -> WorldPoint {
        if t == 0.0 {
            return p;
        }
        if t == 1.0 {
            return q;
        }
        let x = (p[0] as f64 + t * dx).round() as i64;
        let y = (p[1] as f64 + t * dy).round() as i64;
        [
            x.clamp(clip.min[0], clip.max[0]),
            y.clamp(clip.min[1], clip.max[1]),
        ]
    };
    let (start, end) = (at(t0), at(t1));
    if start == end {
        return None;
    }
    Some(if flipped { (end, start) } else { (start, end) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOX: ClipBox = ClipBox {
        min: [0, 0],
        max: [100, 100],
    };

    #[test]
    fn a_ring_inside_the_box_is_kept_as_it_is() {
        let ring = vec![[10, 10], [20, 10], [20, 20]];
        assert_eq!(clip_ring(&ring, &BOX), ring);
    }

    #[test]
    fn a_ring_over_the_edge_is_cut_at_the_edge() {
        let ring = vec![[50, 50], [150, 50], [150, 80], [50, 80]];
        assert_eq!(
            clip_ring(&ring, &BOX),
            vec![[50, 50], [100, 50], [100, 80], [50, 80]]
        );
    }

    #[test]
    fn a_ring_outside_the_box_is_dropped() {
        assert!(clip_ring(&[[200, 200], [300, 200], [300, 300]], &BOX).is_empty());
    }

    #[test]
    fn a_shared_edge_crosses_the_border_at_the_same_point_both_ways() {
        let (a, b) = ([-37, 11], [61, 97]);
        assert_eq!(crossing(a, b, 0, 0), crossing(b, a, 0, 0));
        let forward = clip_segment(a, b, &BOX).unwrap();
        let backward = clip_segment(b, a, &BOX).unwrap();
        assert_eq!(forward, (backward.1, backward.0));
    }

    #[test]
    fn a_line_leaving_and_coming_back_becomes_two_lines() {
        let line = [[10, 10], [150, 10], [150, 50], [10, 50]];
        assert_eq!(
            clip_line(&line, &BOX),
            vec![vec![[10, 10], [100, 10]], vec![[100, 50], [10, 50]]]
        );
    }
}
