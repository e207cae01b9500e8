//! The figures of one round of a layer, stored by column: one `u16` per feature and count
//! column while a round's figures are small (a `u32` once many are not; figures beyond
//! either kept aside), and one byte per feature saying whether it has a record, whether
//! that record is synthetic or computed, and where it comes from. A million sites with two
//! counts take 5 bytes each per round, where a record per feature took about twenty times
//! that.

use std::collections::HashMap;
use std::sync::Arc;

/// No figure, in a column of `u32`.
const EMPTY: u32 = u32::MAX;
/// A figure the column cannot hold: it is kept in [`RoundCounts::wide`].
const WIDE: u32 = u32::MAX - 1;
/// No figure, in a column of `u16`.
const EMPTY_NARROW: u16 = u16::MAX;
/// [`WIDE`], in a column of `u16`.
const WIDE_NARROW: u16 = u16::MAX - 1;

/// The figures of a round, `u16` each until so many are wider that `u32` takes less room
/// than keeping those aside.
#[derive(Debug, Clone)]
enum Figures {
    Narrow(Vec<u16>),
    Full(Vec<u32>),
}

impl Default for Figures {
    fn default() -> Self {
        Figures::Narrow(Vec::new())
    }
}

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
    values: Figures,
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
            values: Figures::Narrow(vec![EMPTY_NARROW; features * columns]),
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
            self.store(at, values.get(column).copied().flatten());
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

    /// Stores one figure at `at` of the values, widening the column when a narrow one would
    /// keep too many aside.
    fn store(&mut self, at: usize, value: Option<i64>) {
        if let Figures::Narrow(narrow) = &mut self.values {
            match value {
                None => return narrow[at] = EMPTY_NARROW,
                Some(v) if (0..i64::from(WIDE_NARROW)).contains(&v) => {
                    return narrow[at] = v as u16;
                }
                Some(v) if self.wide.len() < narrow.len() / 64 + 16 => {
                    narrow[at] = WIDE_NARROW;
                    self.wide.insert(at, v);
                    return;
                }
                Some(_) => self.widen(),
            }
        }
        let Figures::Full(full) = &mut self.values else {
            return;
        };
        full[at] = match value {
            None => EMPTY,
            Some(v) if (0..i64::from(WIDE)).contains(&v) => v as u32,
            Some(v) => {
                self.wide.insert(at, v);
                WIDE
            }
        };
    }

    /// Turns narrow figures into `u32`s, taking back the figures kept aside that fit.
    fn widen(&mut self) {
        let Figures::Narrow(narrow) = &self.values else {
            return;
        };
        let mut full: Vec<u32> = narrow
            .iter()
            .map(|&v| match v {
                EMPTY_NARROW => EMPTY,
                WIDE_NARROW => WIDE,
                v => u32::from(v),
            })
            .collect();
        self.wide.retain(|&at, v| match u32::try_from(*v) {
            Ok(fits) if fits < WIDE => {
                full[at] = fits;
                false
            }
            _ => true,
        });
        self.values = Figures::Full(full);
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
        match &self.values {
            Figures::Narrow(narrow) => match narrow[at] {
                EMPTY_NARROW => None,
                WIDE_NARROW => self.wide.get(&at).copied(),
                v => Some(i64::from(v)),
            },
            Figures::Full(full) => match full[at] {
                EMPTY => None,
                WIDE => self.wide.get(&at).copied(),
                v => Some(i64::from(v)),
            },
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
    use proptest::prelude::*;

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
        assert!(round.wide.keys().all(|at| at % 3 != 1), "{:?}", round.wide);
    }

    /// A figure of any size, mostly small as most sites' are.
    fn figure() -> impl Strategy<Value = Option<i64>> {
        prop_oneof![
            3 => (0i64..70_000).prop_map(Some),
            1 => prop::sample::select(vec![
                65_533, 65_534, 65_535, 65_536, 4_294_967_293, 4_294_967_294, 4_294_967_295,
                i64::MAX,
            ])
            .prop_map(Some),
            1 => (0i64..i64::MAX).prop_map(Some),
            1 => Just(None),
        ]
    }

    proptest! {
        /// Whatever figures are set, in any order and again, each reads back as last set:
        /// narrow, kept aside, or after the round was widened (random figures beyond 16
        /// bits in one case of three widen it after a few dozen).
        #[test]
        fn figures_read_back_as_last_set_narrow_aside_or_widened(
            features in 1usize..300,
            columns in 1usize..4,
            sets in prop::collection::vec(
                (0usize..300, prop::collection::vec(figure(), 0..5)),
                0..400,
            ),
        ) {
            let mut round = RoundCounts::new(features, columns);
            let mut model: Vec<Option<Vec<Option<i64>>>> = vec![None; features];
            for (feature, values) in &sets {
                round.set(*feature, values, false, false, None);
                if let Some(slot) = model.get_mut(*feature) {
                    *slot = Some((0..columns).map(|c| values.get(c).copied().flatten()).collect());
                }
            }
            for (feature, expected) in model.iter().enumerate() {
                let read = round.row(feature).map(|row| row.values().collect::<Vec<_>>());
                prop_assert_eq!(&read, expected, "feature {}", feature);
            }
            // Nothing is kept aside that the column holds.
            let limit = match &round.values {
                Figures::Narrow(_) => i64::from(WIDE_NARROW),
                Figures::Full(_) => i64::from(WIDE),
            };
            prop_assert!(round.wide.values().all(|&v| v >= limit));
        }
    }

    #[test]
    fn a_round_of_many_wide_figures_is_widened_and_one_of_few_is_not() {
        let mut few = RoundCounts::new(10_000, 1);
        let mut many = RoundCounts::new(10_000, 1);
        for feature in 0..10_000 {
            let wide = feature % 1_000 == 0;
            few.set(
                feature,
                &[Some(if wide { 100_000 } else { 7 })],
                false,
                false,
                None,
            );
            many.set(
                feature,
                &[Some(100_000 + feature as i64)],
                false,
                false,
                None,
            );
        }
        assert!(matches!(few.values, Figures::Narrow(_)));
        assert_eq!(few.wide.len(), 10);
        assert!(matches!(many.values, Figures::Full(_)));
        assert!(many.wide.is_empty());
        assert_eq!(many.row(9_999).unwrap().value(0), Some(109_999));
        assert_eq!(few.row(1_000).unwrap().value(0), Some(100_000));
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
