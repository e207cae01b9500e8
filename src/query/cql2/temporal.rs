//! Time in CQL2 filters: reading dates (`2019-10-31`) and RFC 3339 timestamps
//! (`2019-10-31T12:00:00.5Z`, offsets allowed) into microseconds since 1970 (UTC), periods
//! (an instant is a period of no length, a `DATE` the whole day), and Allen's relations
//! between them (`T_BEFORE` … `T_INTERSECTS`), as the cql2 reference implementation
//! evaluates them.

use super::eval::Val;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A span of time in microseconds since 1970-01-01T00:00:00Z, both ends included; open
/// ends are `i64::MIN` / `i64::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First instant.
    pub start: i64,
    /// Last instant.
    pub end: i64,
}

/// The temporal functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemporalOp {
    /// `T_AFTER`
    After,
    /// `T_BEFORE`
    Before,
    /// `T_CONTAINS`
    Contains,
    /// `T_DISJOINT`
    Disjoint,
    /// `T_DURING`
    During,
    /// `T_EQUALS`
    Equals,
    /// `T_FINISHEDBY`
    FinishedBy,
    /// `T_FINISHES`
    Finishes,
    /// `T_INTERSECTS`
    Intersects,
    /// `T_MEETS`
    Meets,
    /// `T_METBY`
    MetBy,
    /// `T_OVERLAPPEDBY`
    OverlappedBy,
    /// `T_OVERLAPS`
    Overlaps,
    /// `T_STARTEDBY`
    StartedBy,
    /// `T_STARTS`
    Starts,
}

impl TemporalOp {
    /// The function of a (case-insensitive) name.
    pub fn from_name(name: &str) -> Option<TemporalOp> {
        use TemporalOp::*;
        Some(match name.to_ascii_lowercase().as_str() {
            "t_after" => After,
            "t_before" => Before,
            "t_contains" => Contains,
            "t_disjoint" => Disjoint,
            "t_during" => During,
            "t_equals" => Equals,
            "t_finishedby" => FinishedBy,
            "t_finishes" => Finishes,
            "t_intersects" => Intersects,
            "t_meets" => Meets,
            "t_metby" => MetBy,
            "t_overlappedby" => OverlappedBy,
            "t_overlaps" => Overlaps,
            "t_startedby" => StartedBy,
            "t_starts" => Starts,
            _ => return None,
        })
    }

    /// Whether `a` stands in the relation to `b`.
    pub fn holds(self, a: Period, b: Period) -> bool {
        use TemporalOp::*;
        // The inverse relations swap their arguments.
        let (op, l, r) = match self {
            After => (Before, b, a),
            MetBy => (Meets, b, a),
            OverlappedBy => (Overlaps, b, a),
            StartedBy => (Starts, b, a),
            Contains => (During, b, a),
            FinishedBy => (Finishes, b, a),
            other => (other, a, b),
        };
        match op {
            Before => l.end < r.start,
            Meets => l.end == r.start,
            Overlaps => l.start < r.start && r.start < l.end && l.end < r.end,
            Starts => l.start == r.start && l.end < r.end,
            During => l.start > r.start && l.end < r.end,
            Finishes => l.start > r.start && l.end == r.end,
            Equals => l.start == r.start && l.end == r.end,
            Disjoint => !(l.start <= r.end && l.end >= r.start),
            Intersects => l.start <= r.end && l.end >= r.start,
            After | MetBy | OverlappedBy | StartedBy | Contains | FinishedBy => unreachable!(),
        }
    }
}

/// A value as a period: times as they are, text that spells a date or timestamp as an
/// instant (properties hold their dates as text).
pub fn period(value: &Val<'_>) -> Option<Period> {
    match value {
        Val::Time(p) => Some(*p),
        Val::Text(t) => parse_instant(t),
        _ => None,
    }
}

/// One bound of an `INTERVAL`: `'..'` is open.
pub fn bound(value: &Val<'_>, start: bool) -> Option<i64> {
    match value {
        Val::Text(t) if t.as_ref() == ".." => Some(if start { i64::MIN } else { i64::MAX }),
        other => period(other).map(|p| if start { p.start } else { p.end }),
    }
}

/// A `DATE`: the whole day.
pub fn parse_date(text: &str) -> Option<Period> {
    let start = days(text.trim())? * MICROS_PER_DAY;
    Some(Period {
        start,
        end: start + MICROS_PER_DAY - 1,
    })
}

/// A timestamp, or a date read as its first instant.
pub fn parse_instant(text: &str) -> Option<Period> {
    let t = micros(text.trim())?;
    Some(Period { start: t, end: t })
}

/// Whether `text` is a valid `YYYY-MM-DD` date.
pub fn is_date(text: &str) -> bool {
    text.len() == 10 && days(text).is_some()
}

/// Whether `text` is a valid RFC 3339 timestamp.
pub fn is_timestamp(text: &str) -> bool {
    text.len() > 10 && micros(text).is_some()
}

/// Days since 1970-01-01 of `YYYY-MM-DD`.
fn days(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = digits(&text[0..4])?;
    let m: i64 = digits(&text[5..7])?;
    let d: i64 = digits(&text[8..10])?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Microseconds since 1970 of a date or an RFC 3339 timestamp (`T` or a space between).
fn micros(text: &str) -> Option<i64> {
    let date = days(text.get(0..10)?)?;
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(date * MICROS_PER_DAY);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let b = rest.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let h = digits(&rest[0..2])?;
    let mi = digits(&rest[3..5])?;
    let s = digits(&rest[6..8])?;
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &rest[8..];
    let mut frac = 0i64;
    if let Some(f) = rest.strip_prefix('.') {
        let n = f.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let padded = format!("{:0<6}", &f[..n.min(6)]);
        frac = digits(&padded)?;
        rest = &f[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let b = rest.as_bytes();
            if b.len() != 6 || !matches!(b[0], b'+' | b'-') || b[3] != b':' {
                return None;
            }
            let minutes = digits(&rest[1..3])? * 60 + digits(&rest[4..6])?;
            if b[0] == b'-' {
                -minutes
            } else {
                minutes
            }
        }
    };
    let seconds = date * 86_400 + h * 3600 + mi * 60 + s - offset * 60;
    Some(seconds * 1_000_000 + frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps_read_to_microseconds_since_1970() {
        assert_eq!(parse_instant("1970-01-01T00:00:00Z").unwrap().start, 0);
        assert_eq!(parse_instant("1970-01-02").unwrap().start, MICROS_PER_DAY);
        assert_eq!(parse_instant("1970-01-01T01:00:00+01:00").unwrap().start, 0);
        assert_eq!(
            parse_instant("1970-01-01T00:00:00.5Z").unwrap().start,
            500_000
        );
        assert_eq!(
            parse_date("2020-01-02").unwrap().end - parse_date("2020-01-02").unwrap().start,
            MICROS_PER_DAY - 1
        );
        assert!(parse_instant("2020-02-30").is_none());
        assert!(parse_instant("2020-01-01T25:00:00Z").is_none());
        assert!(parse_instant("2020-01-01T10:00:00").is_none());
    }

    #[test]
    fn allen_relations_hold_between_instants_and_intervals() {
        let p = |a, b| Period { start: a, end: b };
        assert!(TemporalOp::Before.holds(p(1, 2), p(3, 4)));
        assert!(TemporalOp::After.holds(p(3, 4), p(1, 2)));
        assert!(TemporalOp::Meets.holds(p(1, 3), p(3, 4)));
        assert!(TemporalOp::During.holds(p(2, 3), p(1, 4)));
        assert!(TemporalOp::Contains.holds(p(1, 4), p(2, 3)));
        assert!(TemporalOp::Intersects.holds(p(1, 3), p(3, 4)));
        assert!(TemporalOp::Disjoint.holds(p(1, 2), p(3, 4)));
        assert!(TemporalOp::Overlaps.holds(p(1, 3), p(2, 4)));
        assert!(TemporalOp::OverlappedBy.holds(p(2, 4), p(1, 3)));
    }
}
