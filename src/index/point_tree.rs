//! A static tree over a point layer that keeps sums: points sorted along a Hilbert curve,
//! cut into leaves of [`LEAF_SIZE`], grouped [`FANOUT`] at a time up to one root. Every
//! node knows its box, its run of points, the sum of every count column for every round,
//! and the group (e.g. state) of its points when they all share one.
//!
//! A query walks the tree with a [`Region`]: a node wholly inside contributes its sums (or
//! its whole run of points) without looking at a single point; only nodes the region's
//! boundary crosses are opened. That is what makes "totals for a province-sized area"
//! cost a few thousand node visits instead of a point-in-polygon test per site.

use geo::Rect;

use crate::deadline::Ticker;

/// Points per leaf.
pub const LEAF_SIZE: usize = 32;
/// Children per inner node.
pub const FANOUT: usize = 16;
/// Marks a point or node with no single group.
pub const NO_GROUP: u32 = u32::MAX;

/// How a box lies relative to a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cover {
    /// Every point of the box belongs to the region.
    Inside,
    /// No point of the box does.
    Outside,
    /// Some may: look closer.
    Partly,
}

/// A region a query walks the tree with.
pub trait Region {
    /// How a box lies relative to the region.
    fn cover(&self, rect: &Rect<f64>) -> Cover;
    /// Whether one point belongs to the region.
    fn holds(&self, point: [f64; 2]) -> bool;
}

#[derive(Debug, Clone)]
struct Node {
    rect: Rect<f64>,
    /// Run of points `start..end` in tree order.
    start: u32,
    end: u32,
    /// Children `first_child..first_child + child_count`; none for a leaf.
    first_child: u32,
    child_count: u32,
    /// The group every point of the node shares, or [`NO_GROUP`].
    group: u32,
}

/// What one point brings to the tree.
#[derive(Debug, Clone, Copy)]
pub struct TreePoint {
    /// Position of the feature in its layer.
    pub feature: u32,
    /// Lon/lat.
    pub coord: [f64; 2],
    /// Group id, or [`NO_GROUP`].
    pub group: u32,
}

/// The tree. `width` values per point and per node: rounds × count columns, round-major.
#[derive(Debug)]
pub struct PointTree {
    features: Vec<u32>,
    coords: Vec<[f64; 2]>,
    groups: Vec<u32>,
    nodes: Vec<Node>,
    node_sums: Vec<i64>,
    width: usize,
    root: usize,
}

/// Sums over a region: the number of points and the sum of every value, overall and by
/// group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionSums {
    /// Points inside.
    pub points: u64,
    /// `width` sums.
    pub sums: Vec<i64>,
    /// Per group id: (points, sums); only filled when asked for.
    pub by_group: std::collections::BTreeMap<u32, (u64, Vec<i64>)>,
}

impl PointTree {
    /// Builds the tree. `values(feature, out)` writes the `width` values of a feature
    /// (missing counts as 0).
    pub fn build(
        mut points: Vec<TreePoint>,
        width: usize,
        values: impl Fn(u32, &mut [i64]) + Sync,
    ) -> PointTree {
        let bounds = points.iter().fold(None::<Rect<f64>>, |acc, p| {
            let r = Rect::new((p.coord[0], p.coord[1]), (p.coord[0], p.coord[1]));
            Some(match acc {
                None => r,
                Some(a) => union(a, r),
            })
        });
        if let Some(bounds) = bounds {
            // As `sort_by_cached_key` would, on every core: each point's key and position,
            // sorted, then the points in that order.
            let mut order: Vec<(u64, u32)> =
                crate::parallel::map(&points, |p| hilbert_key(&bounds, p.coord))
                    .into_iter()
                    .zip(0u32..)
                    .collect();
            crate::parallel::sort(&mut order);
            points = order.iter().map(|&(_, at)| points[at as usize]).collect();
        }
        let n = points.len();
        let features: Vec<u32> = points.iter().map(|p| p.feature).collect();
        let coords: Vec<[f64; 2]> = points.iter().map(|p| p.coord).collect();
        let groups: Vec<u32> = points.iter().map(|p| p.group).collect();

        // Leaves, side by side on every core: summing a million points' figures reads
        // them out of file order.
        let starts: Vec<usize> = (0..n).step_by(LEAF_SIZE).collect();
        let leaves = crate::parallel::map(&starts, |&start| {
            let end = (start + LEAF_SIZE).min(n);
            let rect = coords[start..end]
                .iter()
                .map(|c| Rect::new((c[0], c[1]), (c[0], c[1])))
                .reduce(union)
                .unwrap_or_else(|| Rect::new((0.0, 0.0), (0.0, 0.0)));
            let group = shared_group(groups[start..end].iter().copied());
            let mut sums = vec![0i64; width];
            let mut scratch = vec![0i64; width];
            for &feature in &features[start..end] {
                scratch.fill(0);
                values(feature, &mut scratch);
                for (s, v) in sums.iter_mut().zip(&scratch) {
                    *s += v;
                }
            }
            let leaf = Node {
                rect,
                start: start as u32,
                end: end as u32,
                first_child: 0,
                child_count: 0,
                group,
            };
            (leaf, sums)
        });
        let mut nodes: Vec<Node> = Vec::with_capacity(leaves.len() * 2);
        let mut node_sums: Vec<i64> = Vec::with_capacity(leaves.len() * 2 * width);
        for (leaf, sums) in leaves {
            nodes.push(leaf);
            node_sums.extend(sums);
        }
        let mut level_start = 0;
        // Inner levels, until one node is left.
        let mut level_end = nodes.len();
        while level_end - level_start > 1 {
            let next_start = nodes.len();
            for first in (level_start..level_end).step_by(FANOUT) {
                let last = (first + FANOUT).min(level_end);
                let children = &nodes[first..last];
                let rect = children
                    .iter()
                    .map(|c| c.rect)
                    .reduce(union)
                    .unwrap_or(children[0].rect);
                let group = shared_group(children.iter().map(|c| c.group));
                let (start, end) = (children[0].start, children[children.len() - 1].end);
                let mut sums = vec![0i64; width];
                for child in first..last {
                    for (s, v) in sums
                        .iter_mut()
                        .zip(&node_sums[child * width..(child + 1) * width])
                    {
                        *s += v;
                    }
                }
                nodes.push(Node {
                    rect,
                    start,
                    end,
                    first_child: first as u32,
                    child_count: (last - first) as u32,
                    group,
                });
                node_sums.extend(sums);
            }
            level_start = next_start;
            level_end = nodes.len();
        }
        let root = nodes.len().saturating_sub(1);
        PointTree {
            features,
            coords,
            groups,
            nodes,
            node_sums,
            width,
            root,
        }
    }

    /// Values per point: rounds × count columns.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Calls `found` with the layer position of every point in the region (unordered).
    pub fn search(&self, region: &dyn Region, mut found: impl FnMut(u32)) {
        if self.nodes.is_empty() {
            return;
        }
        let mut stack = vec![self.root];
        let mut ticker = Ticker::every(16);
        while let Some(at) = stack.pop() {
            if ticker.expired() {
                return;
            }
            let node = &self.nodes[at];
            match region.cover(&node.rect) {
                Cover::Outside => {}
                Cover::Inside => {
                    for &f in &self.features[node.start as usize..node.end as usize] {
                        found(f);
                    }
                }
                Cover::Partly if node.child_count == 0 => {
                    for i in node.start as usize..node.end as usize {
                        if region.holds(self.coords[i]) {
                            found(self.features[i]);
                        }
                    }
                }
                Cover::Partly => stack.extend(
                    (node.first_child..node.first_child + node.child_count).map(|c| c as usize),
                ),
            }
        }
    }

    /// Sums over the region, and by group when `by_group`. Nodes inside the region give
    /// the sums kept when the tree was built; the points of a leaf the region cuts through
    /// give theirs from `values(feature, out)`, as at build (the tree keeps no copy of
    /// every point's values: a million sites' 12 counts took 48 MB).
    pub fn sums(
        &self,
        region: &dyn Region,
        by_group: bool,
        mut values: impl FnMut(u32, &mut [i64]),
    ) -> RegionSums {
        let mut out = RegionSums {
            points: 0,
            sums: vec![0; self.width],
            by_group: Default::default(),
        };
        if self.nodes.is_empty() {
            return out;
        }
        let width = self.width;
        let add = |out: &mut RegionSums, group: Option<u32>, points: u64, values: &[i64]| {
            out.points += points;
            for (s, v) in out.sums.iter_mut().zip(values) {
                *s += v;
            }
            if let Some(group) = group {
                let entry = out
                    .by_group
                    .entry(group)
                    .or_insert_with(|| (0, vec![0; width]));
                entry.0 += points;
                for (s, v) in entry.1.iter_mut().zip(values) {
                    *s += v;
                }
            }
        };
        let mut scratch = vec![0i64; width];
        let mut stack = vec![(self.root, false)];
        let mut ticker = Ticker::every(16);
        while let Some((at, known_inside)) = stack.pop() {
            if ticker.expired() {
                break;
            }
            let node = &self.nodes[at];
            let cover = if known_inside {
                Cover::Inside
            } else {
                region.cover(&node.rect)
            };
            match cover {
                Cover::Outside => {}
                Cover::Inside if !by_group || node.group != NO_GROUP => {
                    let sums = &self.node_sums[at * width..(at + 1) * width];
                    let group = by_group.then_some(node.group);
                    add(&mut out, group, (node.end - node.start) as u64, sums);
                }
                Cover::Inside if node.child_count > 0 => stack.extend(
                    (node.first_child..node.first_child + node.child_count)
                        .map(|c| (c as usize, true)),
                ),
                _ if node.child_count == 0 => {
                    for i in node.start as usize..node.end as usize {
                        if cover == Cover::Inside || region.holds(self.coords[i]) {
                            let group = by_group.then_some(self.groups[i]);
                            scratch.fill(0);
                            values(self.features[i], &mut scratch);
                            add(&mut out, group, 1, &scratch);
                        }
                    }
                }
                _ => stack.extend(
                    (node.first_child..node.first_child + node.child_count)
                        .map(|c| (c as usize, false)),
                ),
            }
        }
        out
    }

    /// Calls `found` with the layer position of every point inside `rect`, boundary
    /// included (unordered).
    pub fn in_rect(&self, rect: &Rect<f64>, found: impl FnMut(u32)) {
        self.search(&RectRegion(*rect), found);
    }

    /// Whether `rect` holds at most `limit` points (boundary included); the count stops
    /// as soon as it passes the limit, so the cost is bounded by it.
    pub fn at_most_in_rect(&self, rect: &Rect<f64>, limit: usize) -> bool {
        if self.nodes.is_empty() {
            return true;
        }
        let region = RectRegion(*rect);
        let mut count = 0usize;
        let mut stack = vec![self.root];
        while let Some(at) = stack.pop() {
            let node = &self.nodes[at];
            match region.cover(&node.rect) {
                Cover::Outside => {}
                Cover::Inside => count += (node.end - node.start) as usize,
                Cover::Partly if node.child_count == 0 => {
                    count += self.coords[node.start as usize..node.end as usize]
                        .iter()
                        .filter(|&&c| region.holds(c))
                        .count();
                }
                Cover::Partly => stack.extend(
                    (node.first_child..node.first_child + node.child_count).map(|c| c as usize),
                ),
            }
            if count > limit {
                return false;
            }
        }
        true
    }

    /// The layer positions of the `k` points nearest `p` in lon/lat degrees (planar),
    /// nearest first: a best-first walk, opening nodes in order of their distance.
    pub fn nearest(&self, p: [f64; 2], k: usize) -> Vec<u32> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        /// A node (by position) or a point (by tree position), at a squared distance.
        #[derive(PartialEq)]
        struct Entry(f64, bool, usize);
        impl Eq for Entry {}
        impl PartialOrd for Entry {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for Entry {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                // At equal distance, points before nodes, then the lower position.
                self.0
                    .total_cmp(&other.0)
                    .then(other.1.cmp(&self.1))
                    .then(self.2.cmp(&other.2))
            }
        }
        let mut out = Vec::with_capacity(k.min(self.features.len()));
        if self.nodes.is_empty() || k == 0 {
            return out;
        }
        let mut queue = BinaryHeap::new();
        queue.push(Reverse(Entry(
            squared_distance_to_rect(p, &self.nodes[self.root].rect),
            false,
            self.root,
        )));
        let mut ticker = Ticker::every(64);
        while let Some(Reverse(Entry(_, is_point, at))) = queue.pop() {
            if ticker.expired() {
                break;
            }
            if is_point {
                out.push(self.features[at]);
                if out.len() == k {
                    break;
                }
                continue;
            }
            let node = &self.nodes[at];
            if node.child_count == 0 {
                for i in node.start as usize..node.end as usize {
                    let [x, y] = self.coords[i];
                    let d = (x - p[0]).powi(2) + (y - p[1]).powi(2);
                    queue.push(Reverse(Entry(d, true, i)));
                }
            } else {
                for child in node.first_child..node.first_child + node.child_count {
                    let rect = &self.nodes[child as usize].rect;
                    queue.push(Reverse(Entry(
                        squared_distance_to_rect(p, rect),
                        false,
                        child as usize,
                    )));
                }
            }
        }
        out
    }
}

/// A box as a region (boundary included).
struct RectRegion(Rect<f64>);

impl Region for RectRegion {
    fn cover(&self, rect: &Rect<f64>) -> Cover {
        let (outer, inner) = (&self.0, rect);
        if inner.max().x < outer.min().x
            || inner.min().x > outer.max().x
            || inner.max().y < outer.min().y
            || inner.min().y > outer.max().y
        {
            Cover::Outside
        } else if inner.min().x >= outer.min().x
            && inner.max().x <= outer.max().x
            && inner.min().y >= outer.min().y
            && inner.max().y <= outer.max().y
        {
            Cover::Inside
        } else {
            Cover::Partly
        }
    }

    fn holds(&self, [x, y]: [f64; 2]) -> bool {
        (self.0.min().x..=self.0.max().x).contains(&x)
            && (self.0.min().y..=self.0.max().y).contains(&y)
    }
}

/// The squared planar distance from `p` to the nearest point of `rect` (0 inside).
fn squared_distance_to_rect(p: [f64; 2], rect: &Rect<f64>) -> f64 {
    let dx = (rect.min().x - p[0]).max(0.0).max(p[0] - rect.max().x);
    let dy = (rect.min().y - p[1]).max(0.0).max(p[1] - rect.max().y);
    dx * dx + dy * dy
}

fn shared_group(mut groups: impl Iterator<Item = u32>) -> u32 {
    let Some(first) = groups.next() else {
        return NO_GROUP;
    };
    if groups.all(|g| g == first) {
        first
    } else {
        NO_GROUP
    }
}

fn union(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
        (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
    )
}

/// Position along a Hilbert curve on a 2^16 × 2^16 grid over `bounds`.
fn hilbert_key(bounds: &Rect<f64>, coord: [f64; 2]) -> u64 {
    const SIDE: u32 = 1 << 16;
    let scale = |v: f64, lo: f64, hi: f64| -> u32 {
        if hi > lo {
            (((v - lo) / (hi - lo)) * f64::from(SIDE - 1)).round() as u32
        } else {
            0
        }
    };
    let mut x = scale(coord[0], bounds.min().x, bounds.max().x);
    let mut y = scale(coord[1], bounds.min().y, bounds.max().y);
    let mut key: u64 = 0;
    let mut s = SIDE / 2;
    while s > 0 {
        let rx = u32::from(x & s > 0);
        let ry = u32::from(y & s > 0);
        key += u64::from(s) * u64::from(s) * u64::from((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = SIDE - 1 - x;
                y = SIDE - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    fn scattered(coords: &[(i8, i8)]) -> Vec<TreePoint> {
        coords
            .iter()
            .enumerate()
            .map(|(i, &(x, y))| TreePoint {
                feature: i as u32,
                coord: [f64::from(x) * 0.37, f64::from(y) * 0.21],
                group: NO_GROUP,
            })
            .collect()
    }

    proptest! {
        #[test]
        fn points_in_a_box_equal_a_scan(
            coords in prop::collection::vec((any::<i8>(), any::<i8>()), 0..400),
            corner in (-60.0f64..60.0, -30.0f64..30.0),
            size in (0.0f64..50.0, 0.0f64..30.0),
        ) {
            let points = scattered(&coords);
            let tree = PointTree::build(points.clone(), 0, |_, _| {});
            let rect = Rect::new(corner, (corner.0 + size.0, corner.1 + size.1));
            let region = RectRegion(rect);
            let mut found = Vec::new();
            tree.in_rect(&rect, |f| found.push(f));
            found.sort_unstable();
            let expected: Vec<u32> = points
                .iter()
                .filter(|p| region.holds(p.coord))
                .map(|p| p.feature)
                .collect();
            for limit in [0, expected.len().saturating_sub(1), expected.len(), expected.len() + 1] {
                prop_assert_eq!(tree.at_most_in_rect(&rect, limit), expected.len() <= limit);
            }
            prop_assert_eq!(found, expected);
        }

        #[test]
        fn the_k_nearest_are_as_near_as_a_sort_of_every_point(
            coords in prop::collection::vec((any::<i8>(), any::<i8>()), 0..400),
            at in (-60.0f64..60.0, -30.0f64..30.0),
            k in 0usize..50,
        ) {
            let points = scattered(&coords);
            let tree = PointTree::build(points.clone(), 0, |_, _| {});
            let p = [at.0, at.1];
            let distance =
                |f: u32| (points[f as usize].coord[0] - p[0]).powi(2)
                    + (points[f as usize].coord[1] - p[1]).powi(2);
            let found = tree.nearest(p, k);
            let mut all: Vec<f64> = (0..points.len() as u32).map(distance).collect();
            all.sort_by(f64::total_cmp);
            all.truncate(k);
            let got: Vec<f64> = found.iter().map(|&f| distance(f)).collect();
            // Nearest first, and as near as the k nearest of a full sort (ties may pick
            // other points at the same distance).
            prop_assert_eq!(got, all);
            let mut distinct = found.clone();
            distinct.sort_unstable();
            distinct.dedup();
            prop_assert_eq!(distinct.len(), found.len());
        }
    }

    #[test]
    fn sums_and_searches_equal_a_scan_of_every_point() {
        let points: Vec<TreePoint> = (0..5000u32)
            .map(|i| TreePoint {
                feature: i,
                coord: [f64::from(i % 97) * 0.1, f64::from(i / 97) * 0.1],
                group: i % 7 / 3,
            })
            .collect();
        let values = |f: u32, out: &mut [i64]| {
            out[0] = i64::from(f);
            out[1] = 1;
        };
        let tree = PointTree::build(points.clone(), 2, values);
        let region = RectRegion(Rect::new((1.05, 0.95), (6.3, 3.3)));
        let inside: Vec<&TreePoint> = points.iter().filter(|p| region.holds(p.coord)).collect();
        let sums = tree.sums(&region, true, values);
        assert_eq!(sums.points, inside.len() as u64);
        assert_eq!(
            sums.sums[0],
            inside.iter().map(|p| i64::from(p.feature)).sum::<i64>()
        );
        for group in 0..3 {
            let expected = inside.iter().filter(|p| p.group == group).count() as u64;
            assert_eq!(
                sums.by_group.get(&group).map(|g| g.0).unwrap_or(0),
                expected
            );
        }
        let mut found = Vec::new();
        tree.search(&region, |f| found.push(f));
        found.sort();
        let expected: Vec<u32> = inside.iter().map(|p| p.feature).collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn sums_of_figures_beyond_u32_equal_a_scan_too() {
        let points: Vec<TreePoint> = (0..3000u32)
            .map(|i| TreePoint {
                feature: i,
                coord: [f64::from(i % 61) * 0.1, f64::from(i / 61) * 0.1],
                group: NO_GROUP,
            })
            .collect();
        let figure = |f: u32| 5_000_000_000i64 + i64::from(f);
        for wide in [false, true] {
            let values = |f: u32, out: &mut [i64]| {
                out[0] = if wide { figure(f) } else { i64::from(f) };
            };
            let tree = PointTree::build(points.clone(), 1, values);
            let region = RectRegion(Rect::new((0.55, 0.35), (4.05, 3.95)));
            let inside: Vec<&TreePoint> = points.iter().filter(|p| region.holds(p.coord)).collect();
            let expected: i64 = inside
                .iter()
                .map(|p| {
                    if wide {
                        figure(p.feature)
                    } else {
                        i64::from(p.feature)
                    }
                })
                .sum();
            assert_eq!(
                tree.sums(&region, false, values).sums[0],
                expected,
                "wide {wide}"
            );
        }
    }
}
