// Small geometry helpers on WGS84 lon/lat: distances, circles, boxes and bounds.

const EARTH_RADIUS = 6371008.8; // metres (mean radius)
const rad = (d) => (d * Math.PI) / 180;
const deg = (r) => (r * 180) / Math.PI;

/** Great-circle distance in metres between two [lon, lat] positions. */
export function distance([lon1, lat1], [lon2, lat2]) {
  const dLat = rad(lat2 - lat1);
  const dLon = rad(lon2 - lon1);
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** The position `metres` from `center` on `bearing` (degrees from north). */
export function destination([lon, lat], metres, bearing) {
  const d = metres / EARTH_RADIUS;
  const b = rad(bearing);
  const lat1 = rad(lat);
  const lat2 = Math.asin(Math.sin(lat1) * Math.cos(d) + Math.cos(lat1) * Math.sin(d) * Math.cos(b));
  const lon2 = rad(lon) + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(lat1), Math.cos(d) - Math.sin(lat1) * Math.sin(lat2));
  return [((deg(lon2) + 540) % 360) - 180, deg(lat2)];
}

/** A polygon approximating the circle (for drawing it; queries use the exact circle). */
export function circlePolygon(center, metres, steps = 64) {
  const ring = [];
  for (let i = 0; i < steps; i++) ring.push(destination(center, metres, (360 * i) / steps));
  ring.push(ring[0]);
  return { type: 'Polygon', coordinates: [ring] };
}

/** The polygon of the box with corners `a` and `b`. */
export function boxPolygon([x1, y1], [x2, y2]) {
  const [w, e] = [Math.min(x1, x2), Math.max(x1, x2)];
  const [s, n] = [Math.min(y1, y2), Math.max(y1, y2)];
  return { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] };
}

/** [[west, south], [east, north]] of any GeoJSON geometry. */
export function bounds(geometry) {
  let w = Infinity; let s = Infinity; let e = -Infinity; let n = -Infinity;
  const visit = (c) => {
    if (typeof c[0] === 'number') {
      w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]);
    } else c.forEach(visit);
  };
  if (geometry.type === 'GeometryCollection') geometry.geometries.forEach((g) => visit(g.coordinates));
  else visit(geometry.coordinates);
  return [[w, s], [e, n]];
}
