//! A feature's geometry as it is kept: a point inline, anything else boxed.
//!
//! A million sites are a million points; kept as a `geo::Geometry` each took 56 bytes
//! (the size of its largest variant), as a [`Shape`] 24.

use std::borrow::Cow;

use geo::{Geometry, Point};

/// A feature's lon/lat geometry.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A point, the usual site.
    Point(Point<f64>),
    /// Anything else (areas, lines, several points).
    Other(Box<Geometry<f64>>),
}

impl Shape {
    /// The geometry, made whole for a point (no allocation) and borrowed otherwise.
    pub fn geometry(&self) -> Cow<'_, Geometry<f64>> {
        match self {
            Shape::Point(p) => Cow::Owned(Geometry::Point(*p)),
            Shape::Other(geometry) => Cow::Borrowed(geometry),
        }
    }

    /// The point, when the geometry is one.
    pub fn point(&self) -> Option<Point<f64>> {
        match self {
            Shape::Point(p) => Some(*p),
            Shape::Other(geometry) => match **geometry {
                Geometry::Point(p) => Some(p),
                _ => None,
            },
        }
    }
}

impl From<Geometry<f64>> for Shape {
    fn from(geometry: Geometry<f64>) -> Shape {
        match geometry {
            Geometry::Point(p) => Shape::Point(p),
            geometry => Shape::Other(Box::new(geometry)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shape_gives_back_the_geometry_it_was_made_of() {
        let polygon: Geometry<f64> = geo::wkt!(POLYGON((0.0 0.0,1.0 0.0,0.0 1.0,0.0 0.0))).into();
        for geometry in [
            Geometry::Point(Point::new(44.4, 33.3)),
            Geometry::MultiPoint(vec![Point::new(1.0, 2.0)].into()),
            polygon,
        ] {
            let shape = Shape::from(geometry.clone());
            assert_eq!(*shape.geometry(), geometry);
            let point = match geometry {
                Geometry::Point(p) => Some(p),
                _ => None,
            };
            assert_eq!(shape.point(), point);
        }
        assert_eq!(std::mem::size_of::<Shape>(), 24);
    }
}
