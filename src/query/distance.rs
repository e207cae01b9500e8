//! Geodesic distances for the radius and nearest queries: the exact test (Karney's
//! geodesic on WGS84 via `geo`), a cheap spherical pre-test that only decides the clear
//! cases, and a lon/lat box that surely holds a circle, for the R-tree.

use geo::{Distance, Geodesic, Haversine, Point, Rect, VincentyDistance};

/// Haversine (sphere) and geodesic (ellipsoid) distances differ by less than 0.6 %; outside
/// this band the cheap one decides, inside it the exact one does.
const SPHERE_MARGIN: f64 = 0.01;
/// Smallest radius of curvature-related bound used for the box (polar radius, metres).
const POLAR_RADIUS_M: f64 = 6_356_752.3;

/// Whether `point` is within `metres` (geodesic) of `center`.
pub fn within_radius(center: Point<f64>, point: Point<f64>, metres: f64) -> bool {
    let rough = Haversine.distance(center, point);
    if rough <= metres * (1.0 - SPHERE_MARGIN) {
        true
    } else if rough > metres * (1.0 + SPHERE_MARGIN) {
        false
    } else {
        metres_between(center, point) <= metres
    }
}

/// Geodesic metres between two points on WGS84: Vincenty's inverse formula (sub-millimetre
/// and several times cheaper than Karney's), falling back to Karney's algorithm for the
/// nearly antipodal pairs where Vincenty's iteration does not converge.
pub fn metres_between(a: Point<f64>, b: Point<f64>) -> f64 {
    // Vincenty's formula is not bit-for-bit symmetric; a fixed argument order makes the
    // distance a radius query tests the same as the distance it reports.
    let (a, b) = if (a.x(), a.y()) <= (b.x(), b.y()) {
        (a, b)
    } else {
        (b, a)
    };
    a.vincenty_distance(&b)
        .unwrap_or_else(|_| Geodesic.distance(a, b))
}

/// A lon/lat box holding every point within `metres` of `center` (generous: a sphere of
/// the polar radius, plus 1 %). Covers all longitudes when the circle nears a pole; clamps
/// at the antimeridian (callers that care split the search themselves).
pub fn circle_bounds(center: Point<f64>, metres: f64) -> Rect<f64> {
    let angle = (metres / POLAR_RADIUS_M) * (1.0 + SPHERE_MARGIN);
    let dlat = angle.to_degrees();
    let south = (center.y() - dlat).max(-90.0);
    let north = (center.y() + dlat).min(90.0);
    let cos_lat = center.y().to_radians().cos();
    let sin_ratio = angle.sin() / cos_lat.max(1e-12);
    let (west, east) = if angle >= std::f64::consts::FRAC_PI_2
        || sin_ratio >= 1.0
        || north >= 90.0
        || south <= -90.0
    {
        (-180.0, 180.0)
    } else {
        let dlon = sin_ratio.asin().to_degrees();
        if center.x() - dlon < -180.0 || center.x() + dlon > 180.0 {
            (-180.0, 180.0)
        } else {
            (center.x() - dlon, center.x() + dlon)
        }
    };
    Rect::new((west, south), (east, north))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Destination;

    #[test]
    fn points_on_a_geodesic_circle_fall_inside_its_bounds() {
        for (lon, lat) in [(44.0, 33.0), (0.0, 0.0), (10.0, 80.0), (-70.0, -50.0)] {
            let center = Point::new(lon, lat);
            for metres in [10.0, 1_000.0, 50_000.0, 1_500_000.0] {
                let bounds = circle_bounds(center, metres);
                for bearing in (0..360).step_by(5) {
                    let p = Geodesic.destination(center, bearing as f64, metres);
                    assert!(
                        bounds.min().x <= p.x()
                            && p.x() <= bounds.max().x
                            && bounds.min().y <= p.y()
                            && p.y() <= bounds.max().y,
                        "{p:?} outside {bounds:?} ({metres} m from {center:?})"
                    );
                }
            }
        }
    }

    #[test]
    fn the_radius_test_agrees_with_the_geodesic_distance() {
        let center = Point::new(44.4, 33.3);
        for bearing in (0..360).step_by(7) {
            for metres in [100.0, 25_000.0, 400_000.0] {
                let inside = Geodesic.destination(center, bearing as f64, metres * 0.9999);
                let outside = Geodesic.destination(center, bearing as f64, metres * 1.0001);
                assert!(within_radius(center, inside, metres));
                assert!(!within_radius(center, outside, metres));
            }
        }
    }
}
