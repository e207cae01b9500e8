//! The validity sweep for query areas: one Shamos–Hoey sweep over the rings' edges that
//! finds whether any two edges meet where they must not, and which ring immediately encloses
//! each ring, in O(n log n) for n edges whatever the rings' shape (stars and fans, whose edge
//! boxes all overlap, included). [`crate::query::area`] turns its answer into error messages.
//!
//! The sweep visits vertices in lexicographic (x, then y) order, keeping the edges the sweep
//! line crosses in a balanced tree ordered bottom to top. Two edges may only meet if they
//! are consecutive edges of one ring, at their shared vertex, without folding back onto
//! each other. Orientation tests are exact (`RobustKernel::orient2d`).

use std::cmp::Ordering;

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::Coord;

/// Two rings that meet where they must not (indices into the input, the smaller first; the
/// same index twice when a ring meets itself), and about where.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conflict {
    /// The two rings.
    pub rings: (usize, usize),
    /// A point where they meet.
    pub at: Coord<f64>,
}

/// Checks that the rings meet nowhere except consecutive edges of a ring at their shared
/// vertex (not folding back), and answers, for each ring, the ring immediately enclosing
/// it (`None`: no ring encloses it).
///
/// Each ring must be closed (first position repeated last), have at least 4 positions and
/// no two consecutive positions equal; positions must be finite.
pub fn check_rings(rings: &[&[Coord<f64>]]) -> Result<Vec<Option<usize>>, Conflict> {
    Sweep::new(rings).run()
}

/// Lexicographic order of positions (x, then y), with -0 equal to 0.
fn lex(a: Coord<f64>, b: Coord<f64>) -> Ordering {
    (a.x + 0.0)
        .total_cmp(&(b.x + 0.0))
        .then((a.y + 0.0).total_cmp(&(b.y + 0.0)))
}

fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> Orientation {
    RobustKernel::orient2d(a, b, c)
}

/// Whether two edges `v→u` and `v→w` leaving the same vertex overlap (fold onto each other).
fn folds(u: Coord<f64>, v: Coord<f64>, w: Coord<f64>) -> bool {
    orient(u, v, w) == Orientation::Collinear
        && (lex(u, v) == Ordering::Greater) == (lex(w, v) == Ordering::Greater)
}

/// Whether the closed segments `a0 a1` and `b0 b1` have a point in common.
fn segments_meet(a0: Coord<f64>, a1: Coord<f64>, b0: Coord<f64>, b1: Coord<f64>) -> bool {
    use Orientation::Collinear;
    let (o1, o2) = (orient(a0, a1, b0), orient(a0, a1, b1));
    let (o3, o4) = (orient(b0, b1, a0), orient(b0, b1, a1));
    if (o1 == o2 && o1 != Collinear) || (o3 == o4 && o3 != Collinear) {
        return false;
    }
    if o1 == Collinear && o2 == Collinear {
        // On one line: their lexicographic ranges overlap.
        let (al, ar) = if lex(a0, a1) == Ordering::Less {
            (a0, a1)
        } else {
            (a1, a0)
        };
        let (bl, br) = if lex(b0, b1) == Ordering::Less {
            (b0, b1)
        } else {
            (b1, b0)
        };
        return lex(al, br) != Ordering::Greater && lex(bl, ar) != Ordering::Greater;
    }
    true
}

/// A point where two segments meet (for messages only).
fn meeting_point(a0: Coord<f64>, a1: Coord<f64>, b0: Coord<f64>, b1: Coord<f64>) -> Coord<f64> {
    let (a, b) = (geo::Line::new(a0, a1), geo::Line::new(b0, b1));
    match geo::line_intersection::line_intersection(a, b) {
        Some(geo::LineIntersection::SinglePoint { intersection, .. }) => intersection,
        Some(geo::LineIntersection::Collinear { intersection }) => intersection.start,
        None => a0,
    }
}

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Node {
    seg: u32,
    left: u32,
    right: u32,
    up: u32,
    height: u32,
}

/// The sweep status: an AVL tree in an arena, in bottom-to-top order, with parent links so
/// that an edge is removed and its neighbours found without comparisons.
struct Status {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    node_of: Vec<u32>,
}

impl Status {
    fn new(segments: usize) -> Status {
        Status {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            node_of: vec![NIL; segments],
        }
    }

    fn height(&self, n: u32) -> u32 {
        if n == NIL {
            0
        } else {
            self.nodes[n as usize].height
        }
    }

    fn fix_height(&mut self, n: u32) {
        let node = self.nodes[n as usize];
        self.nodes[n as usize].height = 1 + self.height(node.left).max(self.height(node.right));
    }

    /// Makes `new` the child of `parent` that `old` was (or the root).
    fn replace_child(&mut self, parent: u32, old: u32, new: u32) {
        if parent == NIL {
            self.root = new;
        } else if self.nodes[parent as usize].left == old {
            self.nodes[parent as usize].left = new;
        } else {
            self.nodes[parent as usize].right = new;
        }
    }

    fn rotate_left(&mut self, x: u32) -> u32 {
        let y = self.nodes[x as usize].right;
        let middle = self.nodes[y as usize].left;
        self.nodes[x as usize].right = middle;
        if middle != NIL {
            self.nodes[middle as usize].up = x;
        }
        let up = self.nodes[x as usize].up;
        self.replace_child(up, x, y);
        self.nodes[y as usize].up = up;
        self.nodes[y as usize].left = x;
        self.nodes[x as usize].up = y;
        self.fix_height(x);
        self.fix_height(y);
        y
    }

    fn rotate_right(&mut self, x: u32) -> u32 {
        let y = self.nodes[x as usize].left;
        let middle = self.nodes[y as usize].right;
        self.nodes[x as usize].left = middle;
        if middle != NIL {
            self.nodes[middle as usize].up = x;
        }
        let up = self.nodes[x as usize].up;
        self.replace_child(up, x, y);
        self.nodes[y as usize].up = up;
        self.nodes[y as usize].right = x;
        self.nodes[x as usize].up = y;
        self.fix_height(x);
        self.fix_height(y);
        y
    }

    /// Restores heights and balance from `n` up to the root.
    fn rebalance_up(&mut self, mut n: u32) {
        while n != NIL {
            self.fix_height(n);
            let Node { left, right, .. } = self.nodes[n as usize];
            let (hl, hr) = (self.height(left), self.height(right));
            if hl > hr + 1 {
                let l = self.nodes[left as usize];
                if self.height(l.left) < self.height(l.right) {
                    self.rotate_left(left);
                }
                n = self.rotate_right(n);
            } else if hr > hl + 1 {
                let r = self.nodes[right as usize];
                if self.height(r.right) < self.height(r.left) {
                    self.rotate_right(right);
                }
                n = self.rotate_left(n);
            }
            n = self.nodes[n as usize].up;
        }
    }

    fn leftmost(&self, mut n: u32) -> u32 {
        while n != NIL && self.nodes[n as usize].left != NIL {
            n = self.nodes[n as usize].left;
        }
        n
    }

    fn rightmost(&self, mut n: u32) -> u32 {
        while n != NIL && self.nodes[n as usize].right != NIL {
            n = self.nodes[n as usize].right;
        }
        n
    }

    /// The edge just below `seg` (`NIL` at the bottom).
    fn below(&self, seg: u32) -> u32 {
        let mut n = self.node_of[seg as usize];
        if self.nodes[n as usize].left != NIL {
            return self.seg(self.rightmost(self.nodes[n as usize].left));
        }
        loop {
            let up = self.nodes[n as usize].up;
            if up == NIL {
                return NIL;
            }
            if self.nodes[up as usize].right == n {
                return self.nodes[up as usize].seg;
            }
            n = up;
        }
    }

    fn seg(&self, n: u32) -> u32 {
        if n == NIL {
            NIL
        } else {
            self.nodes[n as usize].seg
        }
    }

    /// The top edge (`NIL` when empty).
    fn top(&self) -> u32 {
        self.seg(self.rightmost(self.root))
    }

    /// The lowest edge for which `is_below` is false (`NIL` if none), given that it holds for
    /// a bottom run of the edges and not above it.
    fn first_not(&self, is_below: impl Fn(u32) -> bool) -> u32 {
        let (mut n, mut found) = (self.root, NIL);
        while n != NIL {
            let node = self.nodes[n as usize];
            if is_below(node.seg) {
                n = node.right;
            } else {
                found = node.seg;
                n = node.left;
            }
        }
        found
    }

    /// Inserts `seg` just above `after` (`NIL`: at the bottom).
    fn insert_above(&mut self, after: u32, seg: u32) {
        let node = Node {
            seg,
            left: NIL,
            right: NIL,
            up: NIL,
            height: 1,
        };
        let z = match self.free.pop() {
            Some(z) => {
                self.nodes[z as usize] = node;
                z
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() as u32 - 1
            }
        };
        self.node_of[seg as usize] = z;
        if self.root == NIL {
            self.root = z;
            return;
        }
        let (parent, as_left) = if after == NIL {
            (self.leftmost(self.root), true)
        } else {
            let a = self.node_of[after as usize];
            match self.nodes[a as usize].right {
                NIL => (a, false),
                right => (self.leftmost(right), true),
            }
        };
        if as_left {
            self.nodes[parent as usize].left = z;
        } else {
            self.nodes[parent as usize].right = z;
        }
        self.nodes[z as usize].up = parent;
        self.rebalance_up(parent);
    }

    fn remove(&mut self, seg: u32) {
        let mut n = self.node_of[seg as usize];
        self.node_of[seg as usize] = NIL;
        let Node { left, right, .. } = self.nodes[n as usize];
        if left != NIL && right != NIL {
            // Move the next edge up into this node and unlink the next edge's node instead.
            let next = self.leftmost(right);
            let moved = self.nodes[next as usize].seg;
            self.nodes[n as usize].seg = moved;
            self.node_of[moved as usize] = n;
            n = next;
        }
        let Node {
            left, right, up, ..
        } = self.nodes[n as usize];
        let child = if left != NIL { left } else { right };
        self.replace_child(up, n, child);
        if child != NIL {
            self.nodes[child as usize].up = up;
        }
        self.free.push(n);
        self.rebalance_up(up);
    }
}

/// One sweep over the rings.
struct Sweep<'a> {
    rings: &'a [&'a [Coord<f64>]],
    /// Index of each ring's first edge; edge `k` of ring `r` is `first[r] + k`.
    first: Vec<u32>,
    /// The ring of each edge.
    ring_of: Vec<u32>,
    status: Status,
}

impl<'a> Sweep<'a> {
    fn new(rings: &'a [&'a [Coord<f64>]]) -> Sweep<'a> {
        let mut first = Vec::with_capacity(rings.len());
        let mut ring_of = Vec::new();
        for (r, ring) in rings.iter().enumerate() {
            debug_assert!(ring.len() >= 4 && ring.first() == ring.last());
            first.push(ring_of.len() as u32);
            ring_of.extend(std::iter::repeat_n(r as u32, ring.len() - 1));
        }
        let status = Status::new(ring_of.len());
        Sweep {
            rings,
            first,
            ring_of,
            status,
        }
    }

    /// The edge's ring, its index in the ring and its ends in ring order.
    fn edge(&self, seg: u32) -> (usize, usize, Coord<f64>, Coord<f64>) {
        let r = self.ring_of[seg as usize] as usize;
        let k = (seg - self.first[r]) as usize;
        (r, k, self.rings[r][k], self.rings[r][k + 1])
    }

    /// The edge's ends, leftmost first.
    fn ends(&self, seg: u32) -> (Coord<f64>, Coord<f64>) {
        let (_, _, a, b) = self.edge(seg);
        if lex(a, b) == Ordering::Less {
            (a, b)
        } else {
            (b, a)
        }
    }

    /// Whether two edges meet where they must not, and about where.
    fn check_pair(&self, s: u32, t: u32) -> Result<(), Conflict> {
        if s == NIL || t == NIL {
            return Ok(());
        }
        let (rs, ks, s0, s1) = self.edge(s);
        let (rt, kt, t0, t1) = self.edge(t);
        let edges = self.rings[rs].len() - 1;
        let bad = if rs == rt && kt == (ks + 1) % edges {
            folds(s0, s1, t1)
        } else if rs == rt && ks == (kt + 1) % edges {
            folds(t0, t1, s1)
        } else {
            segments_meet(s0, s1, t0, t1)
        };
        if bad {
            Err(conflict(rs, rt, meeting_point(s0, s1, t0, t1)))
        } else {
            Ok(())
        }
    }

    fn run(mut self) -> Result<Vec<Option<usize>>, Conflict> {
        let rings = self.rings;
        // Each vertex with its ring and index, in sweep order.
        let mut events: Vec<(Coord<f64>, u32, u32)> = Vec::with_capacity(self.ring_of.len());
        for (r, ring) in rings.iter().enumerate() {
            let vertices = ring[..ring.len() - 1].iter().enumerate();
            events.extend(vertices.map(|(i, &c)| (c, r as u32, i as u32)));
        }
        events.sort_unstable_by(|a, b| lex(a.0, b.0));
        let mut parent = vec![None; rings.len()];
        // Whether each ring runs counter-clockwise, once its leftmost vertex is passed.
        let mut ccw: Vec<Option<bool>> = vec![None; rings.len()];
        for (e, &(p, r, i)) in events.iter().enumerate() {
            if let Some(&(next, q, _)) = events.get(e + 1) {
                if lex(next, p) == Ordering::Equal {
                    return Err(conflict(r as usize, q as usize, p));
                }
            }
            let (r, i) = (r as usize, i as usize);
            let ring = rings[r];
            let edges = ring.len() - 1;
            let (u, w) = (ring[(i + edges - 1) % edges], ring[i + 1]);
            if folds(u, p, w) {
                return Err(conflict(r, r, p));
            }
            // Edge `a` runs u→p, edge `b` p→w; each either ends here or starts here.
            let a = self.first[r] + ((i + edges - 1) % edges) as u32;
            let b = self.first[r] + i as u32;
            let (a_ends, b_ends) = (lex(u, p) == Ordering::Less, lex(w, p) == Ordering::Less);
            if a_ends {
                self.status.remove(a);
            }
            if b_ends {
                self.status.remove(b);
            }
            // The first edge not below p: p must not lie on it.
            let above = self.status.first_not(|s| {
                let (l, h) = self.ends(s);
                orient(l, h, p) == Orientation::CounterClockwise
            });
            let below = if above == NIL {
                self.status.top()
            } else {
                let (l, h) = self.ends(above);
                if orient(l, h, p) == Orientation::Collinear {
                    return Err(conflict(self.ring_of[above as usize] as usize, r, p));
                }
                self.status.below(above)
            };
            let starting: Vec<u32> = match (a_ends, b_ends) {
                (true, true) => {
                    self.check_pair(below, above)?;
                    continue;
                }
                (false, true) => vec![a],
                (true, false) => vec![b],
                (false, false) if orient(p, u, w) == Orientation::CounterClockwise => vec![a, b],
                (false, false) => vec![b, a],
            };
            let mut last = below;
            for &s in &starting {
                self.status.insert_above(last, s);
                last = s;
            }
            self.check_pair(below, starting[0])?;
            self.check_pair(last, above)?;
            if starting.len() == 2 && ccw[r].is_none() {
                // The ring's leftmost vertex: the edge below tells which ring encloses it.
                let counter_clockwise = orient(u, p, w) == Orientation::CounterClockwise;
                ccw[r] = Some(counter_clockwise);
                if below != NIL {
                    let (s, _, s0, s1) = self.edge(below);
                    let forward = lex(s0, s1) == Ordering::Less;
                    // Inside `s`'s ring is above it when it runs forward counter-clockwise.
                    let lower_side = Some(forward) == ccw[s];
                    parent[r] = if lower_side { Some(s) } else { parent[s] };
                }
            }
        }
        Ok(parent)
    }
}

fn conflict(a: usize, b: usize, at: Coord<f64>) -> Conflict {
    Conflict {
        rings: (a.min(b), a.max(b)),
        at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Contains, Line, LineString, Point, Polygon};
    use proptest::prelude::*;

    /// Closes and dedups a ring as `IndexedArea` does; `None` if fewer than 4 positions remain.
    fn ring(points: &[(f64, f64)]) -> Option<Vec<Coord<f64>>> {
        let mut coords: Vec<Coord<f64>> = points.iter().map(|&(x, y)| Coord { x, y }).collect();
        coords.push(coords[0]);
        coords.dedup();
        (coords.len() >= 4).then_some(coords)
    }

    fn check(rings: &[Vec<Coord<f64>>]) -> Result<Vec<Option<usize>>, Conflict> {
        let refs: Vec<&[Coord<f64>]> = rings.iter().map(Vec::as_slice).collect();
        check_rings(&refs)
    }

    /// Every pair of edges: consecutive edges of a ring may share their vertex only, others
    /// must not meet at all.
    fn brute_force_is_valid(rings: &[Vec<Coord<f64>>]) -> bool {
        let edges: Vec<(usize, usize, usize, Line<f64>)> = rings
            .iter()
            .enumerate()
            .flat_map(|(r, ring)| {
                let n = ring.len() - 1;
                ring.windows(2)
                    .enumerate()
                    .map(move |(k, w)| (r, k, n, Line::new(w[0], w[1])))
            })
            .collect();
        for (i, &(r, k, n, a)) in edges.iter().enumerate() {
            for &(q, j, _, b) in &edges[i + 1..] {
                let neighbours = r == q && (j == (k + 1) % n || k == (j + 1) % n);
                let bad = if neighbours {
                    matches!(
                        geo::line_intersection::line_intersection(a, b),
                        Some(geo::LineIntersection::Collinear { .. })
                    )
                } else {
                    geo::Intersects::intersects(&a, &b)
                };
                if bad {
                    return false;
                }
            }
        }
        true
    }

    /// For disjoint rings: the smallest ring containing each ring.
    fn brute_force_enclosing(rings: &[Vec<Coord<f64>>]) -> Vec<Option<usize>> {
        let polygons: Vec<Polygon<f64>> = rings
            .iter()
            .map(|r| Polygon::new(LineString(r.clone()), vec![]))
            .collect();
        (0..rings.len())
            .map(|i| {
                (0..rings.len())
                    .filter(|&j| j != i && polygons[j].contains(&Point(rings[i][0])))
                    .min_by(|&a, &b| {
                        polygons[a]
                            .unsigned_area()
                            .total_cmp(&polygons[b].unsigned_area())
                    })
            })
            .collect()
    }

    fn compare_with_brute_force(rings: &[Vec<Coord<f64>>]) -> Result<(), TestCaseError> {
        let swept = check(rings);
        prop_assert_eq!(swept.is_ok(), brute_force_is_valid(rings), "{:?}", swept);
        if let Ok(enclosing) = swept {
            prop_assert_eq!(enclosing, brute_force_enclosing(rings));
        }
        Ok(())
    }

    /// A ring on a small grid: an arbitrary polygon, a rectangle or a triangle, starting at
    /// any vertex, either way round.
    fn grid_ring() -> impl Strategy<Value = Option<Vec<Coord<f64>>>> {
        let free = proptest::collection::vec((0..6i32, 0..6i32), 3..8);
        let rectangle = (0..7i32, 0..7i32, 1..5i32, 1..5i32)
            .prop_map(|(x, y, w, h)| vec![(x, y), (x + w, y), (x + w, y + h), (x, y + h)]);
        let triangle = proptest::collection::vec((0..8i32, 0..8i32), 3..=3);
        (
            prop_oneof![free, rectangle, triangle],
            0..8usize,
            any::<bool>(),
        )
            .prop_map(|(mut points, start, reverse)| {
                let n = points.len();
                points.rotate_left(start % n);
                if reverse {
                    points.reverse();
                }
                let points: Vec<(f64, f64)> =
                    points.iter().map(|&(x, y)| (x as f64, y as f64)).collect();
                ring(&points)
            })
    }

    /// A star-shaped ring (always simple) around a centre, with random radii.
    fn star_ring() -> impl Strategy<Value = Option<Vec<Coord<f64>>>> {
        (
            (-3.0..3.0f64, -3.0..3.0f64),
            proptest::collection::vec(0.2..6.0f64, 3..14),
            0.0..1.0f64,
            any::<bool>(),
        )
            .prop_map(|((cx, cy), radii, turn, reverse)| {
                let n = radii.len() as f64;
                let mut points: Vec<(f64, f64)> = radii
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let angle = std::f64::consts::TAU * (i as f64 + turn) / n;
                        (cx + r * angle.cos(), cy + r * angle.sin())
                    })
                    .collect();
                if reverse {
                    points.reverse();
                }
                ring(&points)
            })
    }

    /// Stars around one of two far apart centres, in bands of radii by level: rings of
    /// different levels around one centre nest, rings of one level mostly cross.
    fn nested_star_ring() -> impl Strategy<Value = Option<Vec<Coord<f64>>>> {
        (
            any::<bool>(),
            0..4u32,
            (-0.2..0.2f64, -0.2..0.2f64),
            proptest::collection::vec(0.0..0.8f64, 3..10),
            0.0..1.0f64,
            any::<bool>(),
        )
            .prop_map(|(far, level, (dx, dy), radii, turn, reverse)| {
                let (cx, cy) = (if far { 40.0 } else { 0.0 } + dx, dy);
                let base = 1.0 + 2.0 * f64::from(level);
                let n = radii.len() as f64;
                let mut points: Vec<(f64, f64)> = radii
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let angle = std::f64::consts::TAU * (i as f64 + turn) / n;
                        (cx + (base + r) * angle.cos(), cy + (base + r) * angle.sin())
                    })
                    .collect();
                if reverse {
                    points.reverse();
                }
                ring(&points)
            })
    }

    /// Rectangles on a grid, large enough to nest often, or touch, or share edges.
    fn grid_rectangle() -> impl Strategy<Value = Option<Vec<Coord<f64>>>> {
        (
            0..10i32,
            0..10i32,
            1..10i32,
            1..10i32,
            0..4usize,
            any::<bool>(),
        )
            .prop_map(|(x, y, w, h, start, reverse)| {
                let mut points = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)];
                points.rotate_left(start);
                if reverse {
                    points.reverse();
                }
                let points: Vec<(f64, f64)> =
                    points.iter().map(|&(x, y)| (x as f64, y as f64)).collect();
                ring(&points)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn the_sweep_agrees_with_a_brute_force_check_on_nested_stars(
            rings in proptest::collection::vec(nested_star_ring(), 1..6)
        ) {
            let rings: Vec<_> = rings.into_iter().flatten().collect();
            compare_with_brute_force(&rings)?;
        }

        #[test]
        fn the_sweep_agrees_with_a_brute_force_check_on_grid_rectangles(
            rings in proptest::collection::vec(grid_rectangle(), 1..6)
        ) {
            let rings: Vec<_> = rings.into_iter().flatten().collect();
            compare_with_brute_force(&rings)?;
        }

        #[test]
        fn the_sweep_agrees_with_a_brute_force_check_on_grid_rings(
            rings in proptest::collection::vec(grid_ring(), 1..5)
        ) {
            let rings: Vec<_> = rings.into_iter().flatten().collect();
            prop_assume!(!rings.is_empty());
            compare_with_brute_force(&rings)?;
        }

        #[test]
        fn the_sweep_agrees_with_a_brute_force_check_on_stars_that_cross_or_nest(
            rings in proptest::collection::vec(star_ring(), 1..5)
        ) {
            let rings: Vec<_> = rings.into_iter().flatten().collect();
            prop_assume!(!rings.is_empty());
            compare_with_brute_force(&rings)?;
        }

        #[test]
        fn a_single_star_polygon_is_always_valid(ring in star_ring()) {
            let ring = ring.unwrap();
            prop_assert_eq!(check(&[ring]), Ok(vec![None]));
        }

        #[test]
        fn the_status_tree_keeps_its_order_and_balance(
            ops in proptest::collection::vec((any::<bool>(), 0..1000usize), 1..300)
        ) {
            let mut tree = Status::new(ops.len());
            let mut model: Vec<u32> = Vec::new();
            for (seg, &(insert, at)) in ops.iter().enumerate() {
                if insert || model.is_empty() {
                    let at = at % (model.len() + 1);
                    let after = if at == 0 { NIL } else { model[at - 1] };
                    tree.insert_above(after, seg as u32);
                    model.insert(at, seg as u32);
                } else {
                    let gone = model.remove(at % model.len());
                    tree.remove(gone);
                }
                let mut walked = Vec::new();
                let mut s = tree.top();
                while s != NIL {
                    walked.push(s);
                    s = tree.below(s);
                }
                walked.reverse();
                prop_assert_eq!(&walked, &model);
                for n in 0..tree.nodes.len() as u32 {
                    let node = tree.nodes[n as usize];
                    if tree.free.contains(&n) {
                        continue;
                    }
                    prop_assert!(tree.height(node.left).abs_diff(tree.height(node.right)) <= 1);
                    prop_assert_eq!(tree.node_of[node.seg as usize], n);
                }
            }
        }
    }

    #[test]
    fn nested_rings_report_their_immediate_enclosure() {
        let square = |a: f64, b: f64| ring(&[(a, a), (b, a), (b, b), (a, b)]).unwrap();
        let rings = [
            square(0., 10.),
            square(1., 9.),
            square(2., 8.),
            square(20., 21.),
        ];
        assert_eq!(check(&rings), Ok(vec![None, Some(0), Some(1), None]));
    }

    #[test]
    fn a_vertex_on_another_rings_vertical_edge_is_found() {
        let a = ring(&[(0., 0.), (2., 0.), (2., 4.), (0., 4.)]).unwrap();
        let b = ring(&[(2., 2.), (3., 1.), (3., 3.)]).unwrap();
        let conflict = check(&[a, b]).unwrap_err();
        assert_eq!(conflict.rings, (0, 1));
        assert_eq!(conflict.at, Coord { x: 2., y: 2. });
    }

    #[test]
    fn edges_that_become_neighbours_when_a_ring_between_them_ends_are_checked() {
        // B's and C's first edges cross at (7, 0), right of where the small triangle ends.
        let a = ring(&[(0., -1.), (5., 0.), (0., 1.)]).unwrap();
        let b = ring(&[(1., 2.), (13., -2.), (14., 9.)]).unwrap();
        let c = ring(&[(1., -2.), (13., 2.), (14., -9.)]).unwrap();
        let rings = [a, b, c];
        assert!(!brute_force_is_valid(&rings));
        let conflict = check(&rings).unwrap_err();
        assert_eq!(
            conflict,
            Conflict {
                rings: (1, 2),
                at: Coord { x: 7., y: 0. }
            }
        );
    }
}
