//! The figures of one round of a layer, stored by column: one `u32` per feature and count
//! column (figures beyond it kept aside), and one byte per feature saying whether it has a
//! record, whether that record is synthetic or computed, and where it comes from. A million
//! sites with two counts take 9 bytes each per round, where a record per feature took
//! about ten times that.

use std::collections::HashMap;
use std::sync::Arc;

/// A figure the compact column cannot hold: it is kept in [`RoundCounts::wide`].
const WIDE: u32 = u32::MAX - 1;
/// No figure.
const EMPTY: u32 = u32::MAX;

const PRESENT: u8 = 1;
const SYNTHETIC: u8 = 2;
const COMPUTED: u8 = 4;
/// The source's position in `sources`, plus one (0: no source), from this bit on.
const SOURCE_SHIFT: u32 = 3;
/// The source's position is kept aside, in [`RoundCounts::source_aside`] (a round with
/// more sources than the flag byte holds).
const SOURCE_ASIDE: u8 = 31;

/// The counts of one feature in one round, as the join and the roll-up give them.
#[derive(Debug, Clone, PartialEq)]
pub struct CountRecord {
    /// One value per count column of the layer; `None` where the table left it empty.
    pub values: Box<[Option<i64>]>,
    /// The figures are synthetic (illustrative), not published.
    pub synthetic: bool,
    /// The figures were summed from other rows (a roll-up), not read from a table.
    pub computed: bool,
    /// Where the figures come from.
    pub source: Option<Arc<str>>,
}

/// Every feature's figures in one round.
#[derive(Debug, Clone, Default)]
pub struct RoundCounts {
    features: usize,
    columns: usize,
    /// `values[column * features + feature]`.
    values: Vec<u32>,
    /// Figures of `values` marked [`WIDE`], by their position there.
    wide: HashMap<usize, i64>,
    /// Per feature: [`PRESENT`], [`SYNTHETIC`], [`COMPUTED`] and the source.
    flags: Vec<u8>,
    /// The source's position in `sources` of features flagged [`SOURCE_ASIDE`].
    source_aside: HashMap<usize, usize>,
    sources: Vec<Arc<str>>,
    /// Position of each source in `sources`.
    source_at: HashMap<Arc<str>, usize>,
}

impl RoundCounts {
    /// A round where no feature has a record yet.
    pub fn new(features: usize, columns: usize) -> RoundCounts {
        RoundCounts {
            features,
            columns,
            values: vec![EMPTY; features * columns],
            wide: HashMap::new(),
            flags: vec![0; features],
            source_aside: HashMap::new(),
            sources: Vec::new(),
            source_at: HashMap::new(),
        }
    }

    /// Whether `feature` has a record.
    pub fn has(&self, feature: usize) -> bool {
        self.flags.get(feature).is_some_and(|f| f & PRESENT != 0)
    }

    /// Sets the record of `feature` (`values` has one entry per column; extra entries are
    /// ignored, missing ones are empty).
    pub fn set(
        &mut self,
        feature: usize,
        values: &[Option<i64>],
        synthetic: bool,
        computed: bool,
        source: Option<&Arc<str>>,
    ) {
        if feature >= self.features {
            return;
        }
        for column in 0..self.columns {
            let at = column * self.features + feature;
            if !self.wide.is_empty() {
                self.wide.remove(&at);
            }
            self.values[at] = match values.get(column).copied().flatten() {
                None => EMPTY,
                Some(v) if (0..WIDE as i64).contains(&v) => v as u32,
                Some(v) => {
                    self.wide.insert(at, v);
                    WIDE
                }
            };
        }
        if !self.source_aside.is_empty() {
            self.source_aside.remove(&feature);
        }
        let source = match source {
            None => 0,
            Some(source) => {
                let at = match self.sources.last() {
                    Some(last) if Arc::ptr_eq(last, source) => self.sources.len() - 1,
                    _ => *self.source_at.entry(source.clone()).or_insert_with(|| {
                        self.sources.push(source.clone());
                        self.sources.len() - 1
                    }),
                };
                let stored = match u8::try_from(at + 1) {
                    Ok(stored) if stored < SOURCE_ASIDE => stored,
                    _ => {
                        self.source_aside.insert(feature, at);
                        SOURCE_ASIDE
                    }
                };
                stored << SOURCE_SHIFT
            }
        };
        self.flags[feature] = PRESENT
            | if synthetic { SYNTHETIC } else { 0 }
            | if computed { COMPUTED } else { 0 }
            | source;
    }

    /// Sets a record given whole.
    pub fn set_record(&mut self, feature: usize, record: &CountRecord) {
        self.set(
            feature,
            &record.values,
            record.synthetic,
            record.computed,
            record.source.as_ref(),
        );
    }

    /// The record of `feature`, if it has one.
    pub fn row(&self, feature: usize) -> Option<CountRow<'_>> {
        self.has(feature).then_some(CountRow {
            round: self,
            feature,
        })
    }

    /// Every record, with its feature's position.
    pub fn rows(&self) -> impl Iterator<Item = (usize, CountRow<'_>)> + '_ {
        (0..self.features).filter_map(|f| self.row(f).map(|row| (f, row)))
    }

    /// Whether any record is synthetic.
    pub fn any_synthetic(&self) -> bool {
        self.flags.iter().any(|f| f & SYNTHETIC != 0)
    }

    /// The number of features the round has room for.
    pub fn features(&self) -> usize {
        self.features
    }

    fn value(&self, column: usize, feature: usize) -> Option<i64> {
        if column >= self.columns {
            return None;
        }
        let at = column * self.features + feature;
        match self.values[at] {
            EMPTY => None,
            WIDE => self.wide.get(&at).copied(),
            v => Some(v as i64),
        }
    }
}

/// The record of one feature in one round: read in place, never copied.
#[derive(Debug, Clone, Copy)]
pub struct CountRow<'a> {
    round: &'a RoundCounts,
    feature: usize,
}

impl<'a> CountRow<'a> {
    /// The figure of a count column; `None` where the table left it empty (or there is no
    /// such column).
    pub fn value(&self, column: usize) -> Option<i64> {
        self.round.value(column, self.feature)
    }

    /// The figure of every count column, in order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = Option<i64>> + 'a {
        let (round, feature) = (self.round, self.feature);
        (0..round.columns).map(move |c| round.value(c, feature))
    }

    fn flags(&self) -> u8 {
        self.round.flags[self.feature]
    }

    /// The figures are synthetic (illustrative), not published.
    pub fn synthetic(&self) -> bool {
        self.flags() & SYNTHETIC != 0
    }

    /// The figures were summed from other rows (a roll-up), not read from a table.
    pub fn computed(&self) -> bool {
        self.flags() & COMPUTED != 0
    }

    /// Where the figures come from.
    pub fn source(&self) -> Option<&'a Arc<str>> {
        let at = match self.flags() >> SOURCE_SHIFT {
            SOURCE_ASIDE => *self.round.source_aside.get(&self.feature)?,
            stored => usize::from(stored).checked_sub(1)?,
        };
        self.round.sources.get(at)
    }

    /// Where the figures come from, as every answer says it.
    pub fn provenance(&self) -> crate::provenance::Provenance {
        crate::provenance::Provenance::of_row(self.synthetic(), self.computed())
    }

    /// The record as an owned value.
    pub fn to_record(&self) -> CountRecord {
        CountRecord {
            values: self.values().collect(),
            synthetic: self.synthetic(),
            computed: self.computed(),
            source: self.source().cloned(),
        }
    }
}

/// Writes a feature's figures of every round into `out`, round-major (`rounds[r]`'s
/// column `c` at `r * columns + c`); a missing figure is 0 and `out` is cleared first.
pub fn write_values(rounds: &[RoundCounts], columns: usize, feature: usize, out: &mut [i64]) {
    out.fill(0);
    for (round, counts) in rounds.iter().enumerate() {
        if let Some(record) = counts.row(feature) {
            for (c, value) in record.values().enumerate() {
                if let Some(slot) = out.get_mut(round * columns + c) {
                    *slot = value.unwrap_or(0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_it_was_set_including_wide_and_empty_figures() {
        let mut round = RoundCounts::new(3, 3);
        let source: Arc<str> = Arc::from("table A");
        let record = CountRecord {
            values: vec![Some(0), None, Some(9_000_000_000)].into_boxed_slice(),
            synthetic: true,
            computed: false,
            source: Some(source.clone()),
        };
        round.set_record(1, &record);
        round.set(2, &[Some(u32::MAX as i64 - 2)], false, true, None);
        assert!(round.row(0).is_none());
        assert_eq!(round.row(1).unwrap().to_record(), record);
        let two = round.row(2).unwrap();
        assert_eq!(
            two.values().collect::<Vec<_>>(),
            [Some(u32::MAX as i64 - 2), None, None]
        );
        assert!(two.computed() && !two.synthetic() && two.source().is_none());
        assert_eq!(two.value(7), None);
        assert!(round.any_synthetic());
        assert_eq!(round.rows().map(|(f, _)| f).collect::<Vec<_>>(), [1, 2]);
        // Setting again replaces every figure, the wide one too.
        round.set(1, &[Some(5)], false, false, None);
        assert_eq!(
            round.row(1).unwrap().values().collect::<Vec<_>>(),
            [Some(5), None, None]
        );
        assert!(round.wide.is_empty());
    }

    #[test]
    fn every_feature_keeps_its_source_among_more_sources_than_a_flag_byte_holds() {
        let sources: Vec<Arc<str>> = (0..70).map(|i| Arc::from(format!("table {i}"))).collect();
        let mut round = RoundCounts::new(100, 1);
        for feature in 0..100 {
            let source = &sources[feature % 70];
            round.set(
                feature,
                &[Some(feature as i64)],
                feature % 3 == 0,
                false,
                Some(source),
            );
        }
        for feature in 0..100 {
            let row = round.row(feature).unwrap();
            assert_eq!(row.source(), Some(&sources[feature % 70]), "{feature}");
            assert_eq!(row.synthetic(), feature % 3 == 0);
            assert_eq!(row.value(0), Some(feature as i64));
        }
        // A record set again with an early source no longer looks aside.
        round.set(95, &[None], false, false, Some(&sources[0]));
        assert_eq!(round.row(95).unwrap().source(), Some(&sources[0]));
        assert!(!round.source_aside.contains_key(&95));
    }
}
