// Drawing a query area on the map with MapLibre's own events: a rectangle (two clicks), a
// polygon (a click per corner; the first corner, a double-click or finish() closes it) or a
// circle (the centre, then a point on the edge). Clicks work the same with a mouse and with
// taps on a touch screen. The shape is drawn in a GeoJSON source of its own, its outline as
// a line too, so that a polygon that crosses itself (which has no fill) stays visible; such a
// polygon is not queried: `onInvalid` is told why, and the shape stays until cleared.

import {
  boxPolygon, circlePolygon, distance, selfCrossing,
} from './geo.js';

const SOURCE = 'draw';
const EMPTY = { type: 'FeatureCollection', features: [] };
/** Pixels within which a click on the first corner closes a polygon. */
const CLOSE_PIXELS = 10;

export class Draw {
  /**
   * @param {import('./vendor/maplibre-gl.mjs').Map} map
   * @param {(shape: {kind: string, geometry: object, center?: number[], radius?: number}) => void} onDone
   * @param {(mode: string|null) => void} onModeChange
   */
  constructor(map, onDone, onModeChange = () => {}, onInvalid = () => {}) {
    this.map = map;
    this.onInvalid = onInvalid;
    this.onDone = onDone;
    this.onModeChange = onModeChange;
    this.mode = null;
    this.points = [];
    this.cursor = null;
    this.handlers = {
      click: (e) => this.click(e),
      mousemove: (e) => this.move(e),
      dblclick: (e) => this.dblclick(e),
    };
    this.onKey = (e) => { if (e.key === 'Escape') this.cancel(); };
  }

  /** Adds the source and layers of the drawn shape (on top), at the first drawing. */
  install() {
    const map = this.map;
    if (map.getSource(SOURCE)) return;
    map.addSource(SOURCE, { type: 'geojson', data: EMPTY });
    map.addLayer({
      id: 'draw-fill', type: 'fill', source: SOURCE,
      filter: ['==', ['geometry-type'], 'Polygon'],
      paint: { 'fill-color': '#08519c', 'fill-opacity': 0.12 },
    });
    map.addLayer({
      id: 'draw-line', type: 'line', source: SOURCE,
      filter: ['!=', ['geometry-type'], 'Point'],
      paint: {
        'line-color': ['case', ['boolean', ['get', 'invalid'], false], '#b00020', '#08519c'],
        'line-width': 2,
        'line-dasharray': [2, 1],
      },
    });
    map.addLayer({
      id: 'draw-vertex', type: 'circle', source: SOURCE,
      filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-radius': 4, 'circle-color': '#ffffff', 'circle-stroke-color': '#08519c', 'circle-stroke-width': 2 },
    });
  }

  /** Starts drawing a `rectangle`, `polygon` or `circle`; ends any drawing in progress. */
  start(mode) {
    this.stop();
    this.install();
    this.mode = mode;
    this.points = [];
    this.cursor = null;
    this.render();
    for (const [name, fn] of Object.entries(this.handlers)) this.map.on(name, fn);
    this.map.doubleClickZoom.disable();
    this.map.getCanvas().style.cursor = 'crosshair';
    document.addEventListener('keydown', this.onKey);
    this.onModeChange(mode);
  }

  /** Stops listening; the shape stays drawn. */
  stop() {
    if (!this.mode) return;
    for (const [name, fn] of Object.entries(this.handlers)) this.map.off(name, fn);
    document.removeEventListener('keydown', this.onKey);
    this.map.getCanvas().style.cursor = '';
    setTimeout(() => this.map.doubleClickZoom.enable(), 0);
    this.mode = null;
    this.onModeChange(null);
  }

  /** Ends drawing and removes the shape. */
  cancel() {
    this.stop();
    this.clear();
  }

  /** Removes the shape. */
  clear() {
    this.points = [];
    this.cursor = null;
    this.map.getSource(SOURCE)?.setData(EMPTY);
  }

  /** Shows a finished shape (e.g. an area's outline or a shared query). */
  show(geometry) {
    this.install();
    this.map.getSource(SOURCE).setData({ type: 'Feature', properties: {}, geometry });
  }

  click(e) {
    const p = [e.lngLat.lng, e.lngLat.lat];
    if (this.mode === 'polygon') {
      if (this.points.length >= 3 && this.nearFirst(e.point)) {
        this.finish();
        return;
      }
      const last = this.points[this.points.length - 1];
      if (!last || last[0] !== p[0] || last[1] !== p[1]) this.points.push(p);
      this.render();
      return;
    }
    this.points.push(p);
    if (this.points.length === 2) this.finish();
    else this.render();
  }

  dblclick(e) {
    e.preventDefault();
    if (this.mode === 'polygon') this.finish();
  }

  move(e) {
    this.cursor = [e.lngLat.lng, e.lngLat.lat];
    if (this.points.length) this.render();
  }

  nearFirst(point) {
    const first = this.map.project(this.points[0]);
    return Math.hypot(first.x - point.x, first.y - point.y) <= CLOSE_PIXELS;
  }

  /** The shape so far, with the cursor as its moving point; null when there is none. */
  shape(points) {
    if (this.mode === 'rectangle' && points.length === 2) {
      return { kind: 'rectangle', geometry: boxPolygon(points[0], points[1]) };
    }
    if (this.mode === 'circle' && points.length === 2) {
      const radius = distance(points[0], points[1]);
      if (!(radius > 0)) return null;
      return { kind: 'circle', center: points[0], radius, geometry: circlePolygon(points[0], radius) };
    }
    if (this.mode === 'polygon' && points.length >= 3) {
      return { kind: 'polygon', geometry: { type: 'Polygon', coordinates: [[...points, points[0]]] } };
    }
    return null;
  }

  render() {
    const moving = this.cursor ? [...this.points, this.cursor] : this.points;
    const features = this.points.map((p) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: p } }));
    const shape = this.shape(moving);
    if (shape) {
      features.push({ type: 'Feature', properties: {}, geometry: shape.geometry });
      if (this.mode === 'polygon') {
        features.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: shape.geometry.coordinates[0] } });
      }
    } else if (moving.length >= 2) {
      features.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: moving } });
    }
    this.map.getSource(SOURCE)?.setData({ type: 'FeatureCollection', features });
  }

  /** Closes the shape from the points clicked (not the cursor) and reports it. */
  finish() {
    const shape = this.shape(this.points);
    if (!shape) return;
    this.stop();
    if (shape.kind === 'polygon' && selfCrossing(shape.geometry.coordinates[0])) {
      this.map.getSource(SOURCE)?.setData({
        type: 'FeatureCollection',
        features: [{ type: 'Feature', properties: { invalid: true }, geometry: { type: 'LineString', coordinates: shape.geometry.coordinates[0] } }],
      });
      this.onInvalid('selfCrossing', shape);
      return;
    }
    this.show(shape.geometry);
    this.onDone(shape);
  }
}
