//! Horizontal bands over a query area's edges, for point-in-area tests: a point's
//! eastward ray can only meet edges whose y-range holds the point's y, and those are all
//! listed in the point's band, so a test looks at a handful of edges instead of walking
//! the edge R-tree. Built only when the bands stay small (at most [`MAX_ENTRIES_PER_EDGE`]
//! entries per edge on average): an edge spanning many bands (a star's long spikes) is
//! listed in each, so such areas keep the R-tree.

use geo::Coord;

/// Bands are built only while the band lists hold at most this many entries per edge.
pub const MAX_ENTRIES_PER_EDGE: usize = 8;
/// At most this many bands.
const MAX_BANDS: usize = 4096;

/// The bands: band `b` covers `[y0 + b·height, y0 + (b+1)·height)` (the last one up to and
/// including the top) and lists every edge whose y-range meets it.
#[derive(Debug, Clone)]
pub struct Bands {
    y0: f64,
    height: f64,
    /// Where each band's list starts in `members`; one more entry than bands.
    starts: Vec<u32>,
    /// Edge positions, band after band.
    members: Vec<u32>,
    /// Every edge, by position.
    edges: Vec<(Coord<f64>, Coord<f64>)>,
}

impl Bands {
    /// Bands over `edges` between `y_min` and `y_max`; `None` when the area is flat or the
    /// lists would grow beyond [`MAX_ENTRIES_PER_EDGE`] per edge.
    pub fn build(edges: Vec<(Coord<f64>, Coord<f64>)>, y_min: f64, y_max: f64) -> Option<Bands> {
        let count = edges.len().clamp(1, MAX_BANDS);
        let height = (y_max - y_min) / count as f64;
        if !(height > 0.0 && height.is_finite()) {
            return None;
        }
        let mut bands = Bands {
            y0: y_min,
            height,
            starts: vec![0; count + 1],
            members: Vec::new(),
            edges,
        };
        let mut total = 0usize;
        for (a, b) in &bands.edges {
            let (low, high) = bands.span(a.y.min(b.y), a.y.max(b.y));
            total += high - low + 1;
            if total > MAX_ENTRIES_PER_EDGE * bands.edges.len() + 64 {
                return None;
            }
            for band in low..=high {
                bands.starts[band + 1] += 1;
            }
        }
        for band in 0..count {
            bands.starts[band + 1] += bands.starts[band];
        }
        let mut next: Vec<u32> = bands.starts[..count].to_vec();
        bands.members = vec![0; total];
        for (position, (a, b)) in bands.edges.iter().enumerate() {
            let (low, high) = bands.span(a.y.min(b.y), a.y.max(b.y));
            for slot in &mut next[low..=high] {
                bands.members[*slot as usize] = position as u32;
                *slot += 1;
            }
        }
        Some(bands)
    }

    /// The band holding `y`, clamped to the bands.
    fn band(&self, y: f64) -> usize {
        let last = self.starts.len() - 2;
        let b = ((y - self.y0) / self.height).floor();
        if b <= 0.0 {
            0
        } else {
            (b as usize).min(last)
        }
    }

    /// The first and last band a y-range meets. The same arithmetic as [`Bands::band`], so
    /// an edge is listed in the band of every y it covers.
    fn span(&self, low: f64, high: f64) -> (usize, usize) {
        (self.band(low), self.band(high))
    }

    /// Whether `found` holds for an edge whose y-range may hold `y` (edges are tried until
    /// one does).
    pub fn any_edge_at(
        &self,
        y: f64,
        mut found: impl FnMut(Coord<f64>, Coord<f64>) -> bool,
    ) -> bool {
        let band = self.band(y);
        let (start, end) = (self.starts[band] as usize, self.starts[band + 1] as usize);
        self.members[start..end].iter().any(|&position| {
            let (a, b) = self.edges[position as usize];
            found(a, b)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    #[test]
    fn every_edge_whose_range_holds_y_is_in_the_band_of_y() {
        let ring = [
            c(0.0, 0.0),
            c(4.0, 1.0),
            c(3.0, 7.5),
            c(-1.0, 3.3),
            c(0.0, 0.0),
        ];
        let edges: Vec<_> = ring.windows(2).map(|w| (w[0], w[1])).collect();
        let bands = Bands::build(edges.clone(), 0.0, 7.5).unwrap();
        for i in 0..=750 {
            let y = f64::from(i) / 100.0;
            let mut seen = Vec::new();
            bands.any_edge_at(y, |a, b| {
                seen.push((a, b));
                false
            });
            for (a, b) in &edges {
                if a.y.min(b.y) <= y && y <= a.y.max(b.y) {
                    assert!(seen.contains(&(*a, *b)), "y {y}: edge {a:?}-{b:?} missing");
                }
            }
        }
    }

    #[test]
    fn edges_spanning_many_bands_give_up_the_bands() {
        // A star: every spike spans the middle.
        let n = 1000;
        let edges: Vec<_> = (0..n)
            .map(|i| {
                let a = std::f64::consts::TAU * f64::from(i) / f64::from(n);
                (c(0.0, 0.0), c(a.cos(), a.sin()))
            })
            .collect();
        assert!(Bands::build(edges, -1.0, 1.0).is_none());
    }
}
