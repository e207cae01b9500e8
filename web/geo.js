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

/** Whether a closed ring (first position repeated last, or not) crosses itself: two edges
 * that are not neighbours meet. */
export function selfCrossing(ring) {
  const pts = ring.length > 1 && ring[0][0] === ring[ring.length - 1][0] && ring[0][1] === ring[ring.length - 1][1]
    ? ring.slice(0, -1) : ring;
  const n = pts.length;
  const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const meet = (p1, p2, q1, q2) => {
    const d1 = cross(q1, q2, p1); const d2 = cross(q1, q2, p2);
    const d3 = cross(p1, p2, q1); const d4 = cross(p1, p2, q2);
    return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
  };
  for (let i = 0; i < n; i++) {
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue; // neighbours through the closing edge
      if (meet(pts[i], pts[(i + 1) % n], pts[j], pts[(j + 1) % n])) return true;
    }
  }
  return false;
}
