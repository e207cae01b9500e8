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

/// Vertices per chunk of a [`Chain`].
pub const CHUNK: usize = 32;

/// A ring or line with the bounding box of every [`CHUNK`] vertices, made once per zoom so
/// that a tile skips the far parts of a large polygon without looking at each vertex.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    vertices: Vertices,
    chunks: Box<[(WorldPoint, WorldPoint)]>,
    bounds: Option<(WorldPoint, WorldPoint)>,
}

/// A chain's vertices, kept as offsets: outlines are kept for every zoom served (the
/// world's admin-1 areas at zooms 0 to 12: 9.4 million vertices), and offsets take a
/// quarter or half of the room of whole coordinates. Where every chunk spans less than 16
/// bits (nearly all outlines: a chunk of a zoom-12 outline spans a few kilometres), each
/// vertex is kept in 16 bits from its chunk's least corner; else in 32 bits from the
/// chain's least corner; a chain wider than 32 bits can span (one crossing the world at
/// zoom 20 or deeper) keeps them whole.
#[derive(Debug, Clone, PartialEq)]
enum Vertices {
    FromChunk(Box<[[u16; 2]]>),
    FromChain {
        origin: WorldPoint,
        offsets: Box<[[u32; 2]]>,
    },
    Whole(Box<[WorldPoint]>),
}

impl Vertices {
    fn new(
        points: Vec<WorldPoint>,
        chunks: &[(WorldPoint, WorldPoint)],
        bounds: Option<(WorldPoint, WorldPoint)>,
    ) -> Vertices {
        let Some((lo, hi)) = bounds else {
            return Vertices::Whole(Box::default());
        };
        let fits_16 = |&(lo, hi): &(WorldPoint, WorldPoint)| {
            (0..2).all(|axis| u16::try_from(hi[axis] - lo[axis]).is_ok())
        };
        if chunks.iter().all(fits_16) {
            return Vertices::FromChunk(
                points
                    .iter()
                    .enumerate()
                    .map(|(i, &p)| {
                        let origin = chunks[i / CHUNK].0;
                        [(p[0] - origin[0]) as u16, (p[1] - origin[1]) as u16]
                    })
                    .collect(),
            );
        }
        let span = |axis: usize| u32::try_from(hi[axis] - lo[axis]).is_ok();
        if !(span(0) && span(1)) {
            return Vertices::Whole(points.into_boxed_slice());
        }
        let offset = |p: WorldPoint, axis: usize| (p[axis] - lo[axis]) as u32;
        Vertices::FromChain {
            origin: lo,
            offsets: points
                .iter()
                .map(|&p| [offset(p, 0), offset(p, 1)])
                .collect(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Vertices::FromChunk(offsets) => offsets.len(),
            Vertices::FromChain { offsets, .. } => offsets.len(),
            Vertices::Whole(points) => points.len(),
        }
    }
}

impl Chain {
    /// A chain of `points` (a ring does not repeat its first vertex).
    pub fn new(points: Vec<WorldPoint>) -> Chain {
        let chunks: Box<[_]> = points.chunks(CHUNK).filter_map(bounds).collect();
        let bounds = chunks.iter().copied().reduce(|(lo, hi), (l, h)| {
            (
                [lo[0].min(l[0]), lo[1].min(l[1])],
                [hi[0].max(h[0]), hi[1].max(h[1])],
            )
        });
        Chain {
            vertices: Vertices::new(points, &chunks, bounds),
            chunks,
            bounds,
        }
    }

    /// Vertex `i`.
    #[inline]
    pub fn point(&self, i: usize) -> WorldPoint {
        match &self.vertices {
            Vertices::FromChunk(offsets) => {
                let ([x, y], origin) = (offsets[i], self.chunks[i / CHUNK].0);
                [origin[0] + i64::from(x), origin[1] + i64::from(y)]
            }
            Vertices::FromChain { origin, offsets } => {
                let [x, y] = offsets[i];
                [origin[0] + i64::from(x), origin[1] + i64::from(y)]
            }
            Vertices::Whole(points) => points[i],
        }
    }

    /// The vertices, in order.
    pub fn to_vec(&self) -> Vec<WorldPoint> {
        (0..self.len()).map(|i| self.point(i)).collect()
    }

    /// Number of vertices.
    pub fn len(&self) -> usize {
        self.vertices.len()
    }

    /// Whether there are no vertices.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every vertex is inside (or on) the box, so that clipping keeps it whole.
    pub fn is_within(&self, clip: &ClipBox) -> bool {
        self.bounds
            .is_some_and(|(lo, hi)| clip.contains(lo) && clip.contains(hi))
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
pub fn clip_ring(ring: &Chain, clip: &ClipBox) -> Vec<WorldPoint> {
    let Some((lo, hi)) = ring.bounds else {
        return Vec::new();
    };
    if clip.contains(lo) && clip.contains(hi) {
        return ring.to_vec();
    }
    if clip.misses(lo, hi) {
        return Vec::new();
    }
    sutherland_hodgman(without_far_runs(ring, clip), clip)
}

/// Sutherland–Hodgman: the ring clipped against each side of the box in turn.
fn sutherland_hodgman(ring: Vec<WorldPoint>, clip: &ClipBox) -> Vec<WorldPoint> {
    let mut current = ring;
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

/// The side of the box a point is beyond (an index into [`sides`]), if any.
fn outside_side(p: WorldPoint, clip: &ClipBox) -> Option<u8> {
    if p[0] < clip.min[0] {
        Some(0)
    } else if p[0] > clip.max[0] {
        Some(1)
    } else if p[1] < clip.min[1] {
        Some(2)
    } else if p[1] > clip.max[1] {
        Some(3)
    } else {
        None
    }
}

/// The side a whole box is beyond, in the sense of [`outside_side`] for each of its
/// points: beyond x, or beyond y while within the box's x range.
fn box_outside_side(lo: WorldPoint, hi: WorldPoint, clip: &ClipBox) -> Option<u8> {
    let within_x = lo[0] >= clip.min[0] && hi[0] <= clip.max[0];
    if hi[0] < clip.min[0] {
        Some(0)
    } else if lo[0] > clip.max[0] {
        Some(1)
    } else if within_x && hi[1] < clip.min[1] {
        Some(2)
    } else if within_x && lo[1] > clip.max[1] {
        Some(3)
    } else {
        None
    }
}

/// The ring without vertices in the middle of runs beyond one side (a run's first and last
/// vertex stay). Sutherland–Hodgman gives the same result without them: an edge between two
/// points beyond the same side contributes nothing, and such points are passed unchanged by
/// the sides clipped before. Chunks wholly beyond one side are skipped without looking at
/// their vertices, so a large polygon costs little in a small tile.
fn without_far_runs(ring: &Chain, clip: &ClipBox) -> Vec<WorldPoint> {
    let n = ring.len();
    let point = |i: usize| ring.point(i);
    let mut out = Vec::new();
    for (c, &(lo, hi)) in ring.chunks.iter().enumerate() {
        let (start, end) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
        if box_outside_side(lo, hi, clip).is_some() {
            out.push(point(start));
            if end - 1 > start {
                out.push(point(end - 1));
            }
            continue;
        }
        for i in start..end {
            let side = outside_side(point(i), clip);
            let interior_of_run = side.is_some()
                && outside_side(point((i + n - 1) % n), clip) == side
                && outside_side(point((i + 1) % n), clip) == side;
            if !interior_of_run {
                out.push(point(i));
            }
        }
    }
    if out.len() < 3 {
        return ring.to_vec();
    }
    out
}

/// A line clipped to the box: the runs inside it, each of two or more distinct vertices.
pub fn clip_line(line: &Chain, clip: &ClipBox) -> Vec<Vec<WorldPoint>> {
    let Some((lo, hi)) = line.bounds else {
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
    let n = line.len();
    let mut i = 0;
    while i + 1 < n {
        // Segments inside a chunk that misses the box give nothing.
        if i % CHUNK == 0 {
            let (lo, hi) = line.chunks[i / CHUNK];
            if clip.misses(lo, hi) {
                finish_run(&mut runs, &mut run);
                i = (i + CHUNK - 1).min(n - 1);
                continue;
            }
        }
        let pair = [line.point(i), line.point(i + 1)];
        i += 1;
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
    let beyond = |axis: usize| {
        (a[axis] < clip.min[axis] && b[axis] < clip.min[axis])
            || (a[axis] > clip.max[axis] && b[axis] > clip.max[axis])
    };
    if beyond(0) || beyond(1) {
        return None;
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
        assert_eq!(clip_ring(&Chain::new(ring.clone()), &BOX), ring);
    }

    fn random_walk(start: (i64, i64), steps: &[(i64, i64)]) -> Vec<WorldPoint> {
        let mut p = [start.0, start.1];
        steps
            .iter()
            .map(|(dx, dy)| {
                p = [p[0] + dx, p[1] + dy];
                p
            })
            .collect()
    }

    /// The lexicographically least rotation of a ring, to compare rings up to their start.
    fn least_rotation(ring: &[WorldPoint]) -> Vec<WorldPoint> {
        (0..ring.len().max(1))
            .map(|i| {
                let mut r = ring.to_vec();
                r.rotate_left(i.min(ring.len()));
                r
            })
            .min()
            .unwrap_or_default()
    }

    proptest::proptest! {
        #[test]
        fn a_chain_gives_back_the_points_it_was_made_of(
            start in (-(1i64 << 40)..(1i64 << 40), -(1i64 << 40)..(1i64 << 40)),
            // Steps up to 2^33 make some chains wider than 32 bits can span.
            steps in proptest::collection::vec(
                (-(1i64 << 33)..(1i64 << 33), -(1i64 << 20)..(1i64 << 20)),
                0..80,
            ),
            // Each form of offsets: steps of up to 2^33, 2^13 and 32 (16 bits per chunk).
            scale in 0..3usize,
        ) {
            let steps: Vec<(i64, i64)> = steps
                .into_iter()
                .map(|(x, y)| match scale {
                    0 => (x, y),
                    1 => (x >> 20, y),
                    _ => (x >> 28, y >> 15),
                })
                .collect();
            let points = random_walk(start, &steps);
            let chain = Chain::new(points.clone());
            proptest::prop_assert_eq!(chain.len(), points.len());
            proptest::prop_assert_eq!(chain.to_vec(), points.clone());
            for (i, p) in points.iter().enumerate() {
                proptest::prop_assert_eq!(chain.point(i), *p);
            }
        }

        #[test]
        fn dropping_far_runs_does_not_change_the_clipped_ring(
            start in (-300i64..400, -300i64..400),
            steps in proptest::collection::vec((-40i64..41, -40i64..41), 3..200)
        ) {
            let ring = random_walk(start, &steps);
            let plain = sutherland_hodgman(ring.clone(), &BOX);
            let reduced = sutherland_hodgman(without_far_runs(&Chain::new(ring), &BOX), &BOX);
            proptest::prop_assert_eq!(least_rotation(&plain), least_rotation(&reduced));
        }

        #[test]
        fn clipped_rings_and_lines_stay_in_the_box(
            start in (-300i64..400, -300i64..400),
            steps in proptest::collection::vec((-60i64..61, -60i64..61), 3..200)
        ) {
            let points = random_walk(start, &steps);
            let chain = Chain::new(points);
            for p in clip_ring(&chain, &BOX) {
                proptest::prop_assert!(BOX.contains(p));
            }
            for line in clip_line(&chain, &BOX) {
                proptest::prop_assert!(line.len() >= 2);
                for p in line {
                    proptest::prop_assert!(BOX.contains(p));
                }
            }
        }
    }

    #[test]
    fn chains_keep_the_narrowest_offsets_their_spans_fit() {
        let form = |chain: &Chain| match chain.vertices {
            Vertices::FromChunk(_) => 16,
            Vertices::FromChain { .. } => 32,
            Vertices::Whole(_) => 64,
        };
        let (widest_16, widest_32) = (i64::from(u16::MAX), i64::from(u32::MAX));
        for (span, bits) in [
            (0, 16),
            (widest_16, 16),
            (widest_16 + 1, 32),
            (widest_32, 32),
            (widest_32 + 1, 64),
        ] {
            let points = vec![[-5, 7], [-5 + span, 7 - span], [3, 2]];
            let chain = Chain::new(points.clone());
            assert_eq!(form(&chain), bits, "span {span}");
            assert_eq!(chain.to_vec(), points);
        }
        // Wide as a whole, narrow in each chunk: the offsets are from each chunk's corner.
        let far_apart: Vec<WorldPoint> = (0..CHUNK as i64 * 3)
            .map(|i| [(i / CHUNK as i64) << 40, -((i / CHUNK as i64) << 40) + i])
            .collect();
        let chain = Chain::new(far_apart.clone());
        assert_eq!(form(&chain), 16);
        assert_eq!(chain.to_vec(), far_apart);
        assert!(Chain::new(Vec::new()).is_empty());
    }

    #[test]
    fn a_ring_over_the_edge_is_cut_at_the_edge() {
        let ring = vec![[50, 50], [150, 50], [150, 80], [50, 80]];
        assert_eq!(
            clip_ring(&Chain::new(ring), &BOX),
            vec![[50, 50], [100, 50], [100, 80], [50, 80]]
        );
    }

    #[test]
    fn a_ring_outside_the_box_is_dropped() {
        assert!(clip_ring(&Chain::new(vec![[200, 200], [300, 200], [300, 300]]), &BOX).is_empty());
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
            clip_line(&Chain::new(line.to_vec()), &BOX),
            vec![vec![[10, 10], [100, 10]], vec![[100, 50], [10, 50]]]
        );
    }
}
