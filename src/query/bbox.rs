//! The `bbox` parameter: `west,south,east,north` in WGS84 lon/lat, checked for range and
//! order. A box with west > east crosses the antimeridian and is searched as two boxes.

use geo::Rect;

use crate::config::MAX_BBOX_PARTS;

/// A checked bounding box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox {
    /// Western longitude.
    pub west: f64,
    /// Southern latitude.
    pub south: f64,
    /// Eastern longitude (less than `west` across the antimeridian).
    pub east: f64,
    /// Northern latitude.
    pub north: f64,
}

impl Bbox {
    /// Parses `west,south,east,north` (4 numbers; 6 with heights, which are ignored).
    /// More than [`MAX_BBOX_PARTS`] parts are refused before any is read.
    pub fn parse(text: &str) -> Result<Bbox, String> {
        let parts = text.split(',').count();
        if parts > MAX_BBOX_PARTS {
            return Err(format!(
                "bbox needs 4 numbers (west,south,east,north), or 6 with heights; got {parts} parts"
            ));
        }
        let numbers: Vec<f64> = text
            .split(',')
            .map(|part| {
                part.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("bbox: {:?} is not a number", part.trim()))
            })
            .collect::<Result<_, _>>()?;
        let (west, south, east, north) = match numbers.as_slice() {
            [w, s, e, n] => (*w, *s, *e, *n),
            [w, s, _, e, n, _] => (*w, *s, *e, *n),
            _ => {
                return Err(format!(
                    "bbox needs 4 numbers (west,south,east,north), got {}",
                    numbers.len()
                ))
            }
        };
        Bbox::new(west, south, east, north)
    }

    /// Checks a box.
    pub fn new(west: f64, south: f64, east: f64, north: f64) -> Result<Bbox, String> {
        if [west, south, east, north].iter().any(|v| !v.is_finite()) {
            return Err("bbox: every number must be finite".into());
        }
        for lon in [west, east] {
            if !(-180.0..=180.0).contains(&lon) {
                return Err(format!("bbox: longitude {lon} is outside -180..180"));
            }
        }
        for lat in [south, north] {
            if !(-90.0..=90.0).contains(&lat) {
                return Err(format!("bbox: latitude {lat} is outside -90..90"));
            }
        }
        if south > north {
            return Err(format!(
                "bbox: south ({south}) is greater than north ({north})"
            ));
        }
        Ok(Bbox {
            west,
            south,
            east,
            north,
        })
    }

    /// The box as one or two rectangles (two across the antimeridian).
    pub fn rects(&self) -> Vec<Rect<f64>> {
        if self.west <= self.east {
            vec![Rect::new((self.west, self.south), (self.east, self.north))]
        } else {
            vec![
                Rect::new((self.west, self.south), (180.0, self.north)),
                Rect::new((-180.0, self.south), (self.east, self.north)),
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_out_of_range_or_upside_down_are_refused() {
        assert!(Bbox::parse("40,30,45,35").is_ok());
        assert!(Bbox::parse("40,30,45").is_err());
        assert!(Bbox::parse("40,30,45,95").is_err());
        assert!(Bbox::parse("-181,30,45,35").is_err());
        assert!(Bbox::parse("40,36,45,35").is_err());
        assert!(Bbox::parse("40,NaN,45,35").is_err());
        assert!(Bbox::parse("40,inf,45,35").is_err());
        assert!(Bbox::parse("a,b,c,d").is_err());
        assert!(Bbox::parse("40,30,0,45,35,0").is_ok());
        let long = format!("40,30,45,35{}", ",1".repeat(100_000));
        assert!(Bbox::parse(&long).unwrap_err().contains("100004 parts"));
    }

    #[test]
    fn a_box_across_the_antimeridian_is_two_rects() {
        assert_eq!(Bbox::parse("170,-10,-170,10").unwrap().rects().len(), 2);
    }
}
