//! Where a figure comes from, decided once on the server so every answer, download, tile
//! and page says the same of the same figure: published (with its source), computed from
//! published figures, illustrative (synthetic), or computed from illustrative figures.
//! Sums take the weakest provenance of their parts, unless the sum is itself a published
//! figure, which is then published "over" the breakdown it was summed from. A change
//! between two rounds is only as real as its weaker end.

use serde::Serialize;

/// The provenance of one figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// A figure as published, with its source.
    Published,
    /// Computed (summed, counted) from published figures only.
    ComputedFromPublished,
    /// Synthetic, for illustration: not a real count.
    Illustrative,
    /// Computed from figures of which some are illustrative.
    ComputedFromIllustrative,
}

impl Provenance {
    /// The provenance of a table row: illustrative when flagged synthetic, computed when
    /// it was summed from other rows (a roll-up), else published.
    pub fn of_row(synthetic: bool, computed: bool) -> Provenance {
        match (synthetic, computed) {
            (false, false) => Provenance::Published,
            (false, true) => Provenance::ComputedFromPublished,
            (true, false) => Provenance::Illustrative,
            (true, true) => Provenance::ComputedFromIllustrative,
        }
    }

    /// Whether the figure rests on illustrative figures.
    pub fn is_illustrative(self) -> bool {
        matches!(
            self,
            Provenance::Illustrative | Provenance::ComputedFromIllustrative
        )
    }

    /// The provenance of a sum of parts whose provenances are known by whether any of them
    /// is illustrative: always computed.
    pub fn of_sum(any_illustrative: bool) -> Provenance {
        if any_illustrative {
            Provenance::ComputedFromIllustrative
        } else {
            Provenance::ComputedFromPublished
        }
    }

    /// The provenance of a change between two figures: published only when both ends are
    /// published, else computed from what the ends rest on.
    pub fn of_change(now: Provenance, before: Provenance) -> Provenance {
        if now == Provenance::Published && before == Provenance::Published {
            Provenance::ComputedFromPublished
        } else {
            Provenance::of_sum(now.is_illustrative() || before.is_illustrative())
        }
    }

    /// The name used in every answer (`published`, `computed_from_published`…).
    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Published => "published",
            Provenance::ComputedFromPublished => "computed_from_published",
            Provenance::Illustrative => "illustrative",
            Provenance::ComputedFromIllustrative => "computed_from_illustrative",
        }
    }
}

impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Provenance::*;
    use super::*;

    #[test]
    fn a_change_is_real_only_between_two_real_figures() {
        assert_eq!(
            Provenance::of_change(Published, Published),
            ComputedFromPublished
        );
        assert_eq!(
            Provenance::of_change(Published, Illustrative),
            ComputedFromIllustrative
        );
        assert_eq!(
            Provenance::of_change(ComputedFromPublished, Published),
            ComputedFromPublished
        );
        assert!(Provenance::of_change(Illustrative, Published).is_illustrative());
    }

    #[test]
    fn rows_and_sums() {
        assert_eq!(Provenance::of_row(false, false), Published);
        assert_eq!(Provenance::of_row(true, true), ComputedFromIllustrative);
        assert_eq!(Provenance::of_sum(false), ComputedFromPublished);
        assert_eq!(
            serde_json::to_value(ComputedFromIllustrative).unwrap(),
            "computed_from_illustrative"
        );
    }
}
