//! Grid aggregation of points at low zooms: the points of one cell become one feature.
//!
//! Cells are squares of the world grid of the zoom, `cell` tile units a side, aligned to
//! tiles, so a cell is the same in every tile that shows it and a tile holds at most one
//! feature per cell. A cell of one point keeps that point; a cell of several becomes a
//! cluster at the mean of its points (rounded), whose properties (`point_count`, summed
//! counts) are made by [`super::render`]. Cluster ids start at [`CLUSTER_ID_BASE`], above
//! every feature id, and stay below 2^53 so JavaScript clients read them exactly.
//!
//! At the zooms where some tiles cover many points, [`CellIndex`] holds the cells of those
//! tiles (and of the tiles in their reach) made once when the tiles are prepared, so such a
//! tile looks its cells up instead of gathering and grouping thousands of points; every
//! other tile has [`aggregate`] group the points its index search finds. Both give the
//! same cells.

use std::collections::BTreeMap;

use super::simplify::WorldPoint;
use crate::model::Layer;

/// Cells of at least this many points keep their summed counts, made when the tiles are
/// prepared, so a low-zoom tile does not add up the whole layer every time it is cut.
pub const SUMMED_CELL_MIN_POINTS: usize = 256;

/// The counts of some features added up for one round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summed {
    /// Per count column, the sum of the values (`None` where no feature has one).
    pub sums: Vec<Option<i64>>,
    /// Whether any feature's record is synthetic (`None` where none has a record).
    pub synthetic: Option<bool>,
}

impl Summed {
    /// The counts of `members` of `layer` in `round`, added up.
    pub fn of(layer: &Layer, round: usize, members: &[u32]) -> Summed {
        let mut sums: Vec<Option<i64>> = vec![None; layer.count_columns.len()];
        let mut synthetic = None;
        for &member in members {
            let Some(record) = layer.count(round, member) else {
                continue;
            };
            for (sum, value) in sums.iter_mut().zip(record.values()) {
                if let Some(value) = value {
                    *sum = Some(sum.unwrap_or(0).saturating_add(value));
                }
            }
            synthetic = Some(synthetic.unwrap_or(false) || record.synthetic());
        }
        Summed { sums, synthetic }
    }
}

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
    /// The cell, borrowed.
    pub fn as_ref(&self) -> CellRef<'_> {
        CellRef {
            column: self.column,
            row: self.row,
            members: &self.members,
            points: self.members.len(),
            position: self.position,
            summed: None,
        }
    }
}

/// The points of one cell, borrowed from a [`Cell`] or a [`CellIndex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellRef<'a> {
    /// Cell column in the world grid of the zoom.
    pub column: i64,
    /// Cell row.
    pub row: i64,
    /// Feature positions in the layer, ascending; empty where `summed` is kept.
    pub members: &'a [u32],
    /// How many points the cell holds.
    pub points: usize,
    /// Where the feature is drawn (world coordinates).
    pub position: WorldPoint,
    /// The members' counts added up, by round, when kept ([`SUMMED_CELL_MIN_POINTS`]).
    pub summed: Option<SummedRounds<'a>>,
}

/// A large cell's counts added up, every round's, as a [`CellIndex`] keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummedRounds<'a> {
    /// Round after round, each count column's sum, [`NO_SUM`] where no member has a value.
    sums: &'a [i64],
    /// Per round, [`Summed::synthetic`] as 0 (`None`), 1 (`Some(false)`) or 2.
    synthetic: &'a [u8],
}

/// A sum that is not there. Figures are never negative (the join refuses them), so no sum
/// is this.
const NO_SUM: i64 = i64::MIN;

impl SummedRounds<'_> {
    /// The sums of `round`, when kept.
    fn get(&self, round: usize) -> Option<Summed> {
        let columns = self.sums.len() / self.synthetic.len().max(1);
        let synthetic = *self.synthetic.get(round)?;
        Some(Summed {
            sums: self.sums[round * columns..(round + 1) * columns]
                .iter()
                .map(|&sum| (sum != NO_SUM).then_some(sum))
                .collect(),
            synthetic: (synthetic != 0).then_some(synthetic == 2),
        })
    }
}

impl CellRef<'_> {
    /// The MVT id of a cluster in this cell at a zoom whose grid has `cells_per_side`.
    pub fn cluster_id(&self, cells_per_side: i64) -> u64 {
        CLUSTER_ID_BASE + (self.row * cells_per_side + self.column).max(0) as u64
    }

    /// The members' counts in `round` of `layer`, added up (kept, or added now).
    pub fn summed(&self, layer: &Layer, round: usize) -> Summed {
        match self.summed.and_then(|by_round| by_round.get(round)) {
            Some(summed) => summed,
            None => Summed::of(layer, round, self.members),
        }
    }
}

/// Every non-empty cell of a point layer at one zoom, in row then column order.
#[derive(Debug, Clone)]
pub struct CellIndex {
    /// The side of a cell, in world units of the zoom.
    cell: i64,
    cells: Vec<IndexedCell>,
    /// The members of every cell, cell after cell.
    members: Vec<u32>,
    /// The large cells' number of points and counts added up, where
    /// [`IndexedCell::summed`] says; their members are not kept, a tile needs only these.
    summed: SummedCells,
    /// The tiles (column, row) that read their cells here, sorted; every other tile of the
    /// zoom groups its own points. All of them unless [`CellIndex::serving_only`] said.
    served: Option<Vec<[i32; 2]>>,
}

/// The large cells' sums, one after the other in flat arrays: a cell's sums of every round
/// took ~400 bytes as a [`Summed`] per round (a vector each), 110 bytes here.
#[derive(Debug, Clone, Default)]
struct SummedCells {
    /// Rounds of every cell.
    rounds: usize,
    /// Count columns of every round.
    columns: usize,
    points: Vec<u32>,
    /// Per cell, per round, per column, as [`SummedRounds::sums`].
    sums: Vec<i64>,
    /// Per cell, per round, as [`SummedRounds::synthetic`].
    synthetic: Vec<u8>,
}

impl SummedCells {
    fn push(&mut self, points: usize, by_round: Vec<Summed>) {
        self.points.push(points as u32);
        for summed in by_round {
            debug_assert_eq!(summed.sums.len(), self.columns);
            self.sums.extend(
                summed
                    .sums
                    .iter()
                    .map(|sum| sum.map_or(NO_SUM, |sum| sum.max(NO_SUM + 1))),
            );
            self.synthetic
                .push(summed.synthetic.map_or(0, |s| 1 + u8::from(s)));
        }
    }

    fn get(&self, at: usize) -> Option<(u32, SummedRounds<'_>)> {
        let points = *self.points.get(at)?;
        let per_cell = self.rounds * self.columns;
        Some((
            points,
            SummedRounds {
                sums: &self.sums[at * per_cell..(at + 1) * per_cell],
                synthetic: &self.synthetic[at * self.rounds..(at + 1) * self.rounds],
            },
        ))
    }

    fn heap_bytes(&self) -> usize {
        self.points.capacity() * 4 + self.sums.capacity() * 8 + self.synthetic.capacity()
    }
}

/// One cell, in 16 bytes: a million of them at each clustered zoom of a million sites.
/// Its column and row are those of its position: the mean of points in a cell, rounded to
/// whole units, is in the cell.
#[derive(Debug, Clone)]
struct IndexedCell {
    position: [i32; 2],
    /// Where the cell's members start in [`CellIndex::members`]; they end where the next
    /// cell's start (none are kept for a summed cell).
    first_member: u32,
    /// Position in [`CellIndex::summed`], or [`NOT_SUMMED`].
    summed: u32,
}

const NOT_SUMMED: u32 = u32::MAX;

impl CellIndex {
    /// The cells of `cell` units a side that `points` (feature position, world position)
    /// fall in; `None` where a world coordinate is beyond 32 bits (zooms past 18), where
    /// tiles group their own points.
    pub fn build(
        points: impl IntoIterator<Item = (u32, WorldPoint)>,
        cell: i64,
    ) -> Option<CellIndex> {
        let cell = cell.max(1);
        let narrow = |v: i64| i32::try_from(v).ok();
        let mut keyed: Vec<(i32, i32, u32, [i32; 2])> = points
            .into_iter()
            .map(|(feature, p)| {
                Some((
                    narrow(p[1].div_euclid(cell))?,
                    narrow(p[0].div_euclid(cell))?,
                    feature,
                    [narrow(p[0])?, narrow(p[1])?],
                ))
            })
            .collect::<Option<_>>()?;
        keyed.sort_unstable_by_key(|&(row, column, feature, _)| (row, column, feature));
        let mut index = CellIndex {
            cell,
            cells: Vec::new(),
            members: Vec::with_capacity(keyed.len()),
            summed: SummedCells::default(),
            served: None,
        };
        for group in keyed.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            let n = group.len() as i128;
            let (sx, sy) = group.iter().fold((0i128, 0i128), |(sx, sy), (.., p)| {
                (sx + i128::from(p[0]), sy + i128::from(p[1]))
            });
            let first_member = index.members.len() as u32;
            index
                .members
                .extend(group.iter().map(|&(_, _, feature, _)| feature));
            let position = [mean(sx, n), mean(sy, n)];
            debug_assert_eq!(
                [position[0].div_euclid(cell), position[1].div_euclid(cell)],
                [i64::from(group[0].1), i64::from(group[0].0)]
            );
            index.cells.push(IndexedCell {
                // The mean of 32-bit values fits 32 bits.
                position: [position[0] as i32, position[1] as i32],
                first_member,
                summed: NOT_SUMMED,
            });
        }
        index.cells.shrink_to_fit();
        Some(index)
    }

    /// Serves only `tiles` (column, row). The index must have been built from the points
    /// of those tiles and of every tile within their buffer's reach, so that a served tile
    /// finds every cell it draws.
    pub fn serving_only(mut self, mut tiles: Vec<[i32; 2]>) -> CellIndex {
        tiles.sort_unstable();
        tiles.dedup();
        tiles.shrink_to_fit();
        self.served = Some(tiles);
        self
    }

    /// Whether the tile at `column`, `row` of the zoom reads its cells here.
    pub fn serves(&self, column: u32, row: u32) -> bool {
        match &self.served {
            None => true,
            Some(tiles) => {
                let (Ok(column), Ok(row)) = (i32::try_from(column), i32::try_from(row)) else {
                    return false;
                };
                tiles.binary_search(&[column, row]).is_ok()
            }
        }
    }

    /// The members of the cell at `at`.
    fn members_of(&self, at: usize) -> &[u32] {
        let start = self.cells[at].first_member as usize;
        let end = self
            .cells
            .get(at + 1)
            .map_or(self.members.len(), |next| next.first_member as usize);
        &self.members[start..end]
    }

    /// Keeps the summed counts of every round for the cells of
    /// [`SUMMED_CELL_MIN_POINTS`] or more (`layer` is the layer the points are of), in
    /// place of their members.
    pub fn sum_large_cells(&mut self, layer: &Layer) {
        if layer.rounds.is_empty() {
            return;
        }
        let mut kept = Vec::with_capacity(self.members.len());
        self.summed = SummedCells {
            rounds: layer.rounds.len(),
            columns: layer.count_columns.len(),
            ..SummedCells::default()
        };
        for at in 0..self.cells.len() {
            // Cells before `at` have moved their start; this one and the next have not.
            let members = self.members_of(at);
            let first_member = kept.len() as u32;
            let mut summed = NOT_SUMMED;
            if members.len() >= SUMMED_CELL_MIN_POINTS {
                let by_round: Vec<Summed> = (0..layer.rounds.len())
                    .map(|round| Summed::of(layer, round, members))
                    .collect();
                summed = self.summed.points.len() as u32;
                self.summed.push(members.len(), by_round);
            } else {
                kept.extend_from_slice(members);
            }
            let cell = &mut self.cells[at];
            cell.first_member = first_member;
            cell.summed = summed;
        }
        kept.shrink_to_fit();
        self.members = kept;
        self.summed.points.shrink_to_fit();
        self.summed.sums.shrink_to_fit();
        self.summed.synthetic.shrink_to_fit();
    }

    /// The cells whose column and row lie within `columns` and `rows` (inclusive), in row
    /// then column order, as [`aggregate`] gives them.
    pub fn cells(
        &self,
        columns: (i64, i64),
        rows: (i64, i64),
    ) -> impl Iterator<Item = CellRef<'_>> + '_ {
        let cell_side = self.cell;
        let (row, column) = (
            move |c: &IndexedCell| i64::from(c.position[1]).div_euclid(cell_side),
            move |c: &IndexedCell| i64::from(c.position[0]).div_euclid(cell_side),
        );
        let first_row = self.cells.partition_point(|c| row(c) < rows.0);
        let last_row = self.cells.partition_point(|c| row(c) <= rows.1);
        let mut next = first_row;
        std::iter::from_fn(move || loop {
            if next >= last_row {
                return None;
            }
            let cell = &self.cells[next];
            if column(cell) < columns.0 {
                // Skip to the first cell of this row in range.
                next += self.cells[next..last_row]
                    .partition_point(|c| row(c) == row(cell) && column(c) < columns.0);
                continue;
            }
            if column(cell) > columns.1 {
                // Skip to the next row.
                next += self.cells[next..last_row].partition_point(|c| row(c) == row(cell));
                continue;
            }
            let members = self.members_of(next);
            let summed = self.summed.get(cell.summed as usize);
            next += 1;
            return Some(CellRef {
                column: column(cell),
                row: row(cell),
                members,
                points: summed.map_or(members.len(), |(points, _)| points as usize),
                position: [i64::from(cell.position[0]), i64::from(cell.position[1])],
                summed: summed.map(|(_, by_round)| by_round),
            });
        })
    }

    /// Bytes held, roughly.
    pub fn heap_bytes(&self) -> usize {
        self.cells.capacity() * std::mem::size_of::<IndexedCell>()
            + self.members.capacity() * 4
            + self.summed.heap_bytes()
            + self.served.as_ref().map_or(0, |tiles| tiles.capacity() * 8)
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
    fn the_cell_index_gives_the_cells_aggregate_gives() {
        // A deterministic scatter with clumps, duplicates and negative coordinates.
        let mut state = 12345u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as i64
        };
        let points: Vec<(u32, WorldPoint)> = (0..5000u32)
            .map(|f| {
                let spread = if f % 3 == 0 { 300 } else { 5000 };
                (f / 2, [next() % spread - 700, next() % spread - 200])
            })
            .collect();
        let index = CellIndex::build(points.clone(), 128).unwrap();
        for (columns, rows) in [
            ((-10, 40), (-10, 40)),
            ((0, 0), (0, 0)),
            ((3, 7), (-2, 9)),
            ((-6, -1), (5, 5)),
            ((100, 200), (0, 40)),
            ((5, 4), (0, 40)),
        ] {
            let expected = aggregate(points.clone(), 128, columns, rows);
            let expected: Vec<CellRef<'_>> = expected.iter().map(Cell::as_ref).collect();
            let got: Vec<CellRef<'_>> = index.cells(columns, rows).collect();
            assert_eq!(got, expected, "columns {columns:?} rows {rows:?}");
        }
    }

    #[test]
    fn cells_outside_the_range_are_left_out() {
        let cells = aggregate([(0, [-10, 10]), (1, [10, 10])], 128, (0, 0), (0, 0));
        assert_eq!(cells.len(), 1);
        assert_eq!(cells[0].members, vec![1]);
    }
}
