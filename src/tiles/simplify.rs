//! The topology of one layer's rings and lines, and its simplification at a zoom.
//!
//! [`Topology::build`] finds the junctions of a layer once per data version (WGS84 lon/lat,
//! exact vertex equality); [`Topology::simplify`] projects a path to the integer world grid
//! of a zoom and runs Douglas–Peucker on each arc between junctions, each arc walked from
//! its lesser end, so an arc shared by two polygons comes out the same in both (see the
//! module doc of [`crate::tiles`] for why). Clipping and encoding are left to others.

use std::collections::HashMap;

use super::lonlat_to_world;

/// A WGS84 lon/lat vertex.
pub type SourcePoint = [f64; 2];
/// An integer position in world coordinates of one zoom (tile units, y down).
pub type WorldPoint = [i64; 2];

/// A vertex as a hashable key: the bits of its coordinates, with -0.0 made 0.0.
type VertexKey = (u64, u64);

fn key(point: SourcePoint) -> VertexKey {
    ((point[0] + 0.0).to_bits(), (point[1] + 0.0).to_bits())
}

/// One ring (closed) or line of a layer, with the positions of its junctions.
#[derive(Debug, Clone)]
struct Path {
    /// Vertices without consecutive repeats; a ring does not repeat its first vertex and is
    /// rotated so that it starts at a junction.
    vertices: Vec<SourcePoint>,
    /// Whether this is a ring.
    closed: bool,
    /// Indices of the junctions in `vertices`, ascending; the first is 0.
    junctions: Vec<usize>,
}

/// Every ring and line of a layer, cut into arcs at the junctions.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    paths: Vec<Path>,
}

/// What one vertex has been seen next to.
enum Seen {
    /// Always between the same two neighbours (so far).
    Between(VertexKey, VertexKey),
    /// A junction.
    Junction,
}

impl Topology {
    /// Builds the topology of `paths` (vertices, and whether the path is a ring). The
    /// position of a path in `paths` is its id for [`Topology::simplify`].
    pub fn build(paths: Vec<(Vec<SourcePoint>, bool)>) -> Topology {
        let mut paths: Vec<Path> = paths
            .into_iter()
            .map(|(mut vertices, closed)| {
                vertices.dedup_by(|a, b| key(*a) == key(*b));
                if closed
                    && vertices.len() > 1
                    && key(vertices[0]) == key(vertices[vertices.len() - 1])
                {
                    vertices.pop();
                }
                Path {
                    vertices,
                    closed,
                    junctions: Vec::new(),
                }
            })
            .collect();
        let mut seen: HashMap<VertexKey, Seen> = HashMap::new();
        let mut mark = |vertex: VertexKey, neighbours: Option<(VertexKey, VertexKey)>| {
            let Some((a, b)) = neighbours else {
                seen.insert(vertex, Seen::Junction);
                return;
            };
            let pair = if a <= b { (a, b) } else { (b, a) };
            match seen.get(&vertex) {
                None => {
                    seen.insert(vertex, Seen::Between(pair.0, pair.1));
                }
                Some(Seen::Between(x, y)) if (*x, *y) == pair => {}
                Some(_) => {
                    seen.insert(vertex, Seen::Junction);
                }
            }
        };
        for path in &paths {
            let n = path.vertices.len();
            for i in 0..n {
                let neighbours = if path.closed {
                    (n >= 3).then(|| {
                        (
                            key(path.vertices[(i + n - 1) % n]),
                            key(path.vertices[(i + 1) % n]),
                        )
                    })
                } else {
                    (i > 0 && i + 1 < n)
                        .then(|| (key(path.vertices[i - 1]), key(path.vertices[i + 1])))
                };
                mark(key(path.vertices[i]), neighbours);
            }
        }
        for path in &mut paths {
            let is_junction =
                |v: &SourcePoint| matches!(seen.get(&key(*v)), Some(Seen::Junction) | None);
            let mut junctions: Vec<usize> = (0..path.vertices.len())
                .filter(|&i| is_junction(&path.vertices[i]))
                .collect();
            if path.closed {
                if junctions.is_empty() {
                    // A ring that shares no arc with another: start at its least vertex, a
                    // choice any identical ring makes too.
                    if let Some(least) =
                        (0..path.vertices.len()).min_by_key(|&i| key(path.vertices[i]))
                    {
                        junctions.push(least);
                    }
                }
                if let Some(&start) = junctions.first() {
                    path.vertices.rotate_left(start);
                    let n = path.vertices.len();
                    for j in &mut junctions {
                        *j = (*j + n - start) % n;
                    }
                }
            } else if !path.vertices.is_empty() {
                // The ends of a line are always junctions (already marked), kept for clarity.
                if junctions.first() != Some(&0) {
                    junctions.insert(0, 0);
                }
                let last = path.vertices.len() - 1;
                if junctions.last() != Some(&last) {
                    junctions.push(last);
                }
            }
            path.junctions = junctions;
        }
        Topology { paths }
    }

    /// Number of paths.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Whether there are no paths.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Path `id` projected to the integer world grid of `zoom`, each arc simplified with
    /// `tolerance` (tile units). A ring comes back without repeating its first vertex, with
    /// spikes and repeats removed; it may have fewer than 3 vertices when it collapsed.
    pub fn simplify(&self, id: usize, zoom: u8, tolerance: f64) -> Vec<WorldPoint> {
        let Some(path) = self.paths.get(id) else {
            return Vec::new();
        };
        let n = path.vertices.len();
        if n == 0 {
            return Vec::new();
        }
        let world: Vec<WorldPoint> = path
            .vertices
            .iter()
            .map(|&[lon, lat]| {
                let (x, y) = lonlat_to_world(lon, lat, zoom);
                [x.round() as i64, y.round() as i64]
            })
            .collect();
        let mut out: Vec<WorldPoint> = Vec::with_capacity(n);
        let mut bounds: Vec<(usize, usize)> =
            path.junctions.windows(2).map(|w| (w[0], w[1])).collect();
        if path.closed {
            // The last arc runs from the last junction round to the first (vertex 0 again).
            let last = path.junctions.last().copied().unwrap_or(0);
            bounds.push((last, n));
        }
        for (start, end) in bounds {
            let indices: Vec<usize> = (start..=end).map(|i| i % n).collect();
            let arc = simplify_arc(&indices, &path.vertices, &world, tolerance);
            for point in arc {
                if out.last() != Some(&point) {
                    out.push(point);
                }
            }
        }
        if path.closed {
            if out.len() > 1 && out.first() == out.last() {
                out.pop();
            }
            remove_spikes(&mut out);
        }
        out
    }
}

/// Simplifies one arc (vertex indices into `source`/`world`), walking it from its lesser
/// end so that the same arc in another ring gives the same vertices. Returns the arc in the
/// order it was given.
fn simplify_arc(
    indices: &[usize],
    source: &[SourcePoint],
    world: &[WorldPoint],
    tolerance: f64,
) -> Vec<WorldPoint> {
    let len = indices.len();
    let reversed = if len < 2 {
        false
    } else {
        let (first, last) = (key(source[indices[0]]), key(source[indices[len - 1]]));
        if first != last {
            first > last
        } else {
            len > 3 && key(source[indices[1]]) > key(source[indices[len - 2]])
        }
    };
    let mut points: Vec<WorldPoint> = if reversed {
        indices.iter().rev().map(|&i| world[i]).collect()
    } else {
        indices.iter().map(|&i| world[i]).collect()
    };
    points.dedup();
    let mut kept = douglas_peucker(&points, tolerance);
    if reversed {
        kept.reverse();
    }
    kept
}

/// Douglas–Peucker on integer points: keeps the ends and every vertex farther than
/// `tolerance` from the chord of its span (the first farthest one when tied).
pub fn douglas_peucker(points: &[WorldPoint], tolerance: f64) -> Vec<WorldPoint> {
    if points.len() <= 2 || tolerance <= 0.0 {
        return points.to_vec();
    }
    let mut keep = vec![false; points.len()];
    keep[0] = true;
    keep[points.len() - 1] = true;
    let tolerance_squared = tolerance * tolerance;
    let mut stack = vec![(0usize, points.len() - 1)];
    while let Some((first, last)) = stack.pop() {
        if last <= first + 1 {
            continue;
        }
        let mut farthest = first;
        let mut farthest_distance = -1.0;
        for i in first + 1..last {
            let distance = squared_distance_to_segment(points[i], points[first], points[last]);
            if distance > farthest_distance {
                farthest = i;
                farthest_distance = distance;
            }
        }
        if farthest_distance > tolerance_squared {
            keep[farthest] = true;
            stack.push((first, farthest));
            stack.push((farthest, last));
        }
    }
    points
        .iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(*p))
        .collect()
}

fn squared_distance_to_segment(p: WorldPoint, a: WorldPoint, b: WorldPoint) -> f64 {
    let (px, py) = (p[0] as f64, p[1] as f64);
    let (ax, ay) = (a[0] as f64, a[1] as f64);
    let (dx, dy) = (b[0] as f64 - ax, b[1] as f64 - ay);
    let length_squared = dx * dx + dy * dy;
    let t = if length_squared == 0.0 {
        0.0
    } else {
        (((px - ax) * dx + (py - ay) * dy) / length_squared).clamp(0.0, 1.0)
    };
    let (ex, ey) = (px - (ax + t * dx), py - (ay + t * dy));
    ex * ex + ey * ey
}

/// Removes repeats and back-and-forth spikes (`a b a`) from a ring, wrapping round its end.
pub fn remove_spikes(ring: &mut Vec<WorldPoint>) {
    let mut out: Vec<WorldPoint> = Vec::with_capacity(ring.len());
    for &point in ring.iter() {
        if out.last() == Some(&point) {
            continue;
        }
        out.push(point);
        while out.len() >= 3 && out[out.len() - 1] == out[out.len() - 3] {
            out.truncate(out.len() - 2);
        }
    }
    // The same across the seam between the last vertex and the first.
    loop {
        let n = out.len();
        if n >= 2 && out[0] == out[n - 1] {
            out.pop();
        } else if n >= 3 && out[n - 2] == out[0] {
            out.truncate(n - 2);
        } else if n >= 3 && out[n - 1] == out[1] {
            out.remove(0);
            out.pop();
        } else {
            break;
        }
    }
    *ring = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two squares side by side sharing the edge x = 1, the shared edge wiggling.
    fn neighbours() -> Vec<(Vec<SourcePoint>, bool)> {
        let border: Vec<SourcePoint> = (0..=20)
            .map(|i| {
                [
                    1.0 + if i % 2 == 0 { 0.0001 } else { -0.0001 },
                    f64::from(i) * 0.05,
                ]
            })
            .collect();
        let mut left = vec![[0.0, 0.0]];
        left.extend(border.iter().copied());
        left.push([0.0, 1.0]);
        let mut right = vec![[2.0, 0.0], [2.0, 1.0]];
        right.extend(border.iter().rev().copied());
        vec![(left, true), (right, true)]
    }

    #[test]
    fn a_shared_border_simplifies_to_the_same_vertices_in_both_polygons() {
        let topology = Topology::build(neighbours());
        for zoom in 0..=12 {
            let left = topology.simplify(0, zoom, 2.0);
            let right = topology.simplify(1, zoom, 2.0);
            let shared = |ring: &[WorldPoint]| {
                let mut xs: Vec<WorldPoint> = ring
                    .iter()
                    .copied()
                    .filter(|p| {
                        let (x, _) = lonlat_to_world(1.0, 0.0, zoom);
                        (p[0] as f64 - x).abs() < 2.0 + x * 1e-4
                    })
                    .collect();
                xs.sort();
                xs
            };
            assert_eq!(shared(&left), shared(&right), "zoom {zoom}");
        }
    }

    #[test]
    fn douglas_peucker_keeps_the_ends_and_drops_near_points() {
        let line = [[0, 0], [5, 1], [10, 0], [15, 8], [20, 0]];
        assert_eq!(
            douglas_peucker(&line, 2.0),
            vec![[0, 0], [10, 0], [15, 8], [20, 0]]
        );
        assert_eq!(douglas_peucker(&line, 0.0), line.to_vec());
    }

    #[test]
    fn spikes_and_repeats_are_removed_from_a_ring() {
        let mut ring = vec![[0, 0], [4, 0], [4, 0], [6, 0], [4, 0], [4, 4], [0, 4]];
        remove_spikes(&mut ring);
        assert_eq!(ring, vec![[0, 0], [4, 0], [4, 4], [0, 4]]);
    }

    #[test]
    fn a_lone_ring_simplifies_without_junctions() {
        let ring: Vec<SourcePoint> = (0..64)
            .map(|i| {
                let a = f64::from(i) / 64.0 * std::f64::consts::TAU;
                [10.0 * a.cos(), 10.0 * a.sin()]
            })
            .collect();
        let topology = Topology::build(vec![(ring, true)]);
        let simplified = topology.simplify(0, 0, 2.0);
        assert!(
            simplified.len() >= 3 && simplified.len() < 64,
            "{simplified:?}"
        );
    }
}
