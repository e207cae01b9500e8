//! Grid aggregation of points at low zooms: the points of one cell become one feature.
//!
//! Cells are squares of the world grid of the zoom, `cell` tile units a side, aligned to
//! tiles, so a cell is the same in every tile that shows it and a tile holds at most one
//! feature per cell. A cell of one point keeps that point; a cell of several becomes a
//! cluster at the mean of its points (rounded), whose properties (`point_count`, summed
//! counts) are made by [`super::render`]. Cluster ids start at [`CLUSTER_ID_BASE`], above
//! every feature id, and stay below 2^53 so JavaScript clients read them exactly.

use std::collections::BTreeMap;

use super::simplify::WorldPoint;

/// First MVT id of clusters (2^52).
pub const CLUSTER_ID_BASE: u64 = 1 << 52;

/// The points of one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// Cell column and row in the world grid of the zoom.
    pub column: i64,
    /// Cell row.
    pub row: i64,
    /// Feature positions in the layer, ascending.
    pub members: Vec<u32>,
    /// Where the feature is drawn (world coordinates): the only point, or the mean.
    pub position: WorldPoint,
}

impl Cell {
    /// The MVT id of a cluster in this cell at a zoom whose grid has `cells_per_side`.
    pub fn cluster_id(&self, cells_per_side: i64) -> u64 {
        CLUSTER_ID_BASE + (self.row * cells_per_side + self.column).max(0) as u64
    }
}

/// Groups `points` (feature position, world position) into cells of `cell` units; only
/// cells whose column and row lie within `columns` and `rows` (inclusive) are returned, in
/// row then column order.
pub fn aggregate(
    points: impl IntoIterator<Item = (u32, WorldPoint)>,
    cell: i64,
    columns: (i64, i64),
    rows: (i64, i64),
) -> Vec<Cell> {
    let cell = cell.max(1);
    let mut cells: BTreeMap<(i64, i64), Vec<(u32, WorldPoint)>> = BTreeMap::new();
    for (feature, p) in points {
        let (column, row) = (p[0].div_euclid(cell), p[1].div_euclid(cell));
        if (columns.0..=columns.1).contains(&column) && (rows.0..=rows.1).contains(&row) {
            cells.entry((row, column)).or_default().push((feature, p));
        }
    }
    cells
        .into_iter()
        .map(|((row, column), mut members)| {
            members.sort_by_key(|(feature, _)| *feature);
            let n = members.len() as i128;
            let (sx, sy) = members.iter().fold((0i128, 0i128), |(sx, sy), (_, p)| {
                (sx + i128::from(p[0]), sy + i128::from(p[1]))
            });
            let position = [mean(sx, n), mean(sy, n)];
            Cell {
                column,
                row,
                members: members.iter().map(|(f, _)| *f).collect(),
                position,
            }
        })
        .collect()
}

/// `sum / n` rounded to the nearest integer (halves away from zero).
fn mean(sum: i128, n: i128) -> i64 {
    let doubled = 2 * sum;
    let rounded = if doubled >= 0 {
        (doubled + n) / (2 * n)
    } else {
        (doubled - n) / (2 * n)
    };
    rounded as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_in_one_cell_become_one_cluster_at_their_mean() {
        let cells = aggregate(
            [(0, [10, 10]), (1, [20, 30]), (2, [200, 10])],
            128,
            (0, 10),
            (0, 10),
        );
        assert_eq!(cells.len(), 2);
        assert_eq!(cells[0].members, vec![0, 1]);
        assert_eq!(cells[0].position, [15, 20]);
        assert_eq!(cells[1].members, vec![2]);
        assert_eq!(cells[1].position, [200, 10]);
    }

    #[test]
    fn cells_outside_the_range_are_left_out() {
        let cells = aggregate([(0, [-10, 10]), (1, [10, 10])], 128, (0, 0), (0, 0));
        assert_eq!(cells.len(), 1);
        assert_eq!(cells[0].members, vec![1]);
    }
}
