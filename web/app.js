// The dtmap web client: the displacement map (choropleth of an area layer, circles of a
// point layer), a round slider with a play button, search, feature panels with a chart
// across rounds, area queries with downloads, the languages of the config, an embed/share
// dialog, image export and printing. Everything it loads comes from the dtmap server that
// served the page.
//
// The same module runs the full page (body[data-mode=full]) and the embed page
// (body[data-mode=embed], minimal chrome). Page parameters: ?round= &lang={a configured language}
// &metric={a count column} &layers={area layer},{point layer}; the view is in the hash
// (#zoom/lat/lon, MapLibre's `hash: true`).
//
// Nothing here knows the data: which layer holds areas and which sites, their name fields
// per language, the count columns and their labels, the class breaks, the word for an area
// ("province", "state"…) and the grouping field all come from the collections' metadata.
// The concerns live in modules of their own: common.js (state and the data's words),
// legend.js, panel.js, search.js, query.js (area queries), share.js, export.js, draw.js.

import { maplibreReady } from './boot.js';
import { Draw } from './draw.js';
import { bounds } from './geo.js';
import {
  PAGE_COLLECTIONS, fillLanguageMenu, formatNumber, languageChain, roundName, setLang, t, translatePage,
} from './i18n.js';
import {
  $, SOURCE, COLORS, NO_DATA, countLabel, embed, escape, getJSON, hooks, ltr, metaOf, nameIn,
  nameProperties, params, roundIndex, state,
} from './common.js';
import { renderLegend } from './legend.js';
import {
  closePanel, openPanel, renderPanel,
} from './panel.js';
import { searchEntry, setupSearch } from './search.js';
import {
  clearQuery, fillAreaPicker, renderResults, runQuery, setupAreaChoice, showError,
} from './query.js';
import { openShare, viewQuery } from './share.js';
import { downloadImage, exportImage } from './export.js';

const ASSETS = new URL('.', import.meta.url).href;
const PLAY_STEP_MS = 1500;


setLang(params.get('lang'));
fillLanguageMenu($('lang'));
translatePage();

Object.assign(hooks, { openPanel, runQuery });
const ready = start();
window.dtmap = {
  ready, state, setRound, switchLanguage, openPanel, runQuery, clearQuery, exportImage,
};

/** MapLibre's own interface strings in the page's language. */
const mapLocale = () => ({
  'NavigationControl.ZoomIn': t('zoomInMap'),
  'NavigationControl.ZoomOut': t('zoomOutMap'),
  'ScaleControl.Kilometers': t('km'),
  'ScaleControl.Meters': t('m'),
  'AttributionControl.ToggleAttribution': t('attribution'),
  'Map.Title': t('map'),
});

async function start() {
  state.timings.start = performance.now();
  // The page comes with the collections' metadata; ask for it only when it does not.
  const all = PAGE_COLLECTIONS || (await getJSON('collections?f=json')).collections;
  const collections = all.filter((c) => !c.basemap);
  state.area = collections.find((c) => c.geometryType !== 'point' && c.countColumns.length);
  state.points = collections.find((c) => c.geometryType === 'point' && c.countColumns.length);
  const main = state.area || state.points;
  if (!main) throw new Error(t('noDataLayer'));
  state.rounds = main.rounds;
  state.metrics = main.countColumns;
  state.metric = state.metrics.includes(params.get('metric')) ? params.get('metric') : main.mainCount;
  state.breaks = main.classBreaks || {};
  const asked = params.get('round');
  state.round = state.rounds.some((r) => r.id === asked) ? asked : main.latestRound;

  const names = embed ? Promise.resolve() : loadNames();
  // The map needs only MapLibre and the style; the area table comes in meanwhile.
  const areaTable = loadAreaTable();
  const [maplibregl, style] = await Promise.all([
    maplibreReady,
    getJSON(`styles/default.json?round=${encodeURIComponent(state.round)}`),
  ]);
  state.timings.data = performance.now();
  const map = new maplibregl.Map({
    container: 'map',
    style: customizeStyle(style),
    hash: true,
    bounds: location.hash.length > 1 ? undefined : main.extent.spatial.bbox[0],
    fitBoundsOptions: { padding: 20 },
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    fadeDuration: 0,
    locale: mapLocale(),
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  state.scale = new maplibregl.ScaleControl();
  map.addControl(state.scale, 'bottom-left');
  const attribution = new maplibregl.AttributionControl({
    compact: true,
    customAttribution: `<a href="${ASSETS}vendor/MAPLIBRE-LICENSE.txt" target="_blank" rel="noopener">MapLibre GL JS</a>`,
  });
  map.addControl(attribution, 'bottom-right');
  Object.assign(window.dtmap, { map, maplibregl });

  const loaded = new Promise((resolve) => map.once('load', resolve));
  await Promise.all([areaTable, loaded]);
  state.timings.load = performance.now();
  // Start with the attribution folded (the compact control opens itself at first).
  map.getContainer().querySelector('.maplibregl-compact-show')?.classList.remove('maplibregl-compact-show');
  setupMap(map);
  renderLegend();
  if (!embed) setupControls(map);
  updateUrl();
  await names;
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once('idle', resolve)));
  state.timings.idle = performance.now();
  return window.dtmap;
}

/** Names, bounds and every round's counts of the area layer (for the legend, panels and
 * search): the features and the series of all of them, two requests. */
async function loadAreaTable() {
  if (!state.area) return;
  const id = state.area.id;
  const [items, series] = await Promise.all([
    getJSON(`collections/${id}/items?limit=10000${nameProperties(state.area)}`),
    getJSON(`collections/${id}/series`),
  ]);
  const byId = new Map(series.features.map((f) => [String(f.id), f.rounds]));
  for (const f of items.features) {
    const rounds = byId.get(String(f.id)) || [];
    state.history.set(`${id}/${f.id}`, { collection: id, id: f.id, countColumns: series.countColumns, rounds });
    state.areaTable.set(String(f.id), {
      id: String(f.id), layer: id, ...f.properties, geometry: f.geometry, rounds,
    });
  }
  for (const row of state.areaTable.values()) {
    state.names.push(searchEntry(state.area, row.id, row, { bounds: bounds(row.geometry) }));
  }
}

/** Names and positions of the point layer, for search. */
async function loadNames() {
  if (!state.points) return;
  const id = state.points.id;
  const items = await getJSON(`collections/${id}/items?limit=10000${nameProperties(state.points)}`);
  for (const f of items.features) {
    state.names.push(searchEntry(state.points, String(f.id), { id: String(f.id), ...f.properties },
      { center: f.geometry.coordinates }));
  }
}

// ---------------------------------------------------------------- the map

const layerId = (layer, suffix) => `${layer}-${suffix}`;

/** The server's style with hover and selection states, the labels of the page's language
 * and the layers asked for; applied before the first render. */
function customizeStyle(style) {
  const area = state.area?.id;
  const points = state.points?.id;
  const find = (id) => style.layers.find((l) => l.id === id);
  const hover = ['boolean', ['feature-state', 'hover'], false];
  const selected = ['boolean', ['feature-state', 'selected'], false];
  const fill = find(layerId(area, 'fill'));
  if (fill) {
    fill.paint['fill-opacity'] = ['case', hover, 0.95, 0.8];
    fill.paint['fill-color'] = choropleth();
    const line = style.layers.indexOf(find(layerId(area, 'line')));
    style.layers.splice(line < 0 ? style.layers.length : line + 1, 0, {
      id: layerId(area, 'outline'), type: 'line', source: SOURCE, 'source-layer': area,
      paint: {
        'line-color': ['case', selected, '#08519c', '#252525'],
        'line-width': ['case', selected, 3, hover, 2, 0],
      },
    });
  }
  const circle = find(layerId(points, 'circle'));
  if (circle) {
    circle.paint['circle-stroke-color'] = ['case', hover, '#000000', selected, '#e31a1c', '#ffffff'];
    circle.paint['circle-stroke-width'] = ['case', hover, 2.5, selected, 3, 1];
    circle.paint['circle-color'] = ['case', ['has', 'point_count'], '#6a51a3', selected, '#e31a1c', '#2171b5'];
  }
  state.labelFields = {};
  for (const layer of style.layers) {
    if (layer.type !== 'symbol') continue;
    state.labelFields[layer.id] = { original: layer.layout['text-field'], meta: metaOf(layer['source-layer']) };
    layer.layout['text-field'] = labelField(state.labelFields[layer.id]);
  }
  if (state.layers) {
    for (const layer of [area, points].filter(Boolean)) {
      if (state.layers.includes(layer)) continue;
      for (const l of style.layers) {
        if (l.id.startsWith(`${layer}-`)) l.layout = { ...l.layout, visibility: 'none' };
      }
    }
  }
  return style;
}

/** Labels in the language of the page first, the default name below, when the layer has
 * names in that language; the style's own labels otherwise. */
function labelField({ original, meta }) {
  const fallback = meta?.nameField;
  const local = languageChain().map((code) => meta?.names?.[code])
    .filter((field) => field && field !== fallback);
  if (!local.length || !fallback) return original;
  return ['format', ['coalesce', ...local.map((field) => ['get', field]), ['get', fallback], ''], {}, '\n', {},
    ['coalesce', ['get', fallback], ''], { 'font-scale': 0.85 }];
}

function applyLabels() {
  const map = window.dtmap.map;
  for (const [id, label] of Object.entries(state.labelFields || {})) {
    if (map.getLayer(id)) map.setLayoutProperty(id, 'text-field', labelField(label));
  }
}

function setupMap(map) {
  const hoverable = window.matchMedia('(hover: hover)').matches;
  if (hoverable) {
    map.on('mousemove', (e) => hover(map, e));
    map.on('mouseout', () => hover(map, null));
  }
  map.on('click', (e) => click(map, e));
  map.on('moveend', () => updateUrl());
}

/** The features under a point, the points layer first. */
function featuresAt(map, point) {
  const layers = [layerId(state.points?.id, 'circle'), layerId(state.area?.id, 'fill')]
    .filter((id) => map.getLayer(id) && map.getLayoutProperty(id, 'visibility') !== 'none');
  return layers.length ? map.queryRenderedFeatures(point, { layers }) : [];
}

/** The hover state and the tooltip: the feature's name and the count shown. */
function hover(map, e) {
  const tip = $('tooltip');
  if (hooks.draw?.mode) { if (tip) tip.hidden = true; return; }
  const feature = e ? featuresAt(map, e.point)[0] : null;
  const key = feature ? `${feature.sourceLayer}/${feature.id}` : null;
  if (state.hover && state.hover.key !== key) {
    map.setFeatureState(state.hover.target, { hover: false });
    state.hover = null;
  }
  if (feature && feature.id != null && !state.hover) {
    const target = { source: SOURCE, sourceLayer: feature.sourceLayer, id: feature.id };
    map.setFeatureState(target, { hover: true });
    state.hover = { key, target };
  }
  map.getCanvas().style.cursor = feature ? 'pointer' : '';
  if (!tip) return;
  if (!feature) { tip.hidden = true; return; }
  const p = feature.properties;
  const meta = metaOf(feature.sourceLayer);
  const column = meta && meta.countColumns.includes(state.metric) ? state.metric : meta?.mainCount;
  const cluster = p.point_count != null;
  const name = cluster ? t('cluster') : nameIn(meta, p);
  const figure = cluster ? `<span>${escape(t('sites'))}: ${ltr(formatNumber(p.point_count))}</span>`
    : column ? `<span>${escape(countLabel(column))}: ${ltr(formatNumber(p[column]))}</span>` : '';
  tip.innerHTML = `<strong dir="auto">${escape(name)}</strong> ${figure}`;
  tip.hidden = false;
  tip.dataset.layer = feature.sourceLayer;
  tip.dataset.id = String(p.id ?? feature.id ?? '');
  const box = map.getContainer().getBoundingClientRect();
  const x = Math.min(e.point.x + 14, box.width - tip.offsetWidth - 4);
  const y = Math.min(e.point.y + 14, box.height - tip.offsetHeight - 4);
  tip.style.left = `${Math.max(4, x)}px`;
  tip.style.top = `${Math.max(4, y)}px`;
}

function click(map, e) {
  if (hooks.draw?.mode) return;
  if (state.error) { clearQuery(); return; }
  const feature = featuresAt(map, e.point)[0];
  if (!feature) { closePanel(); return; }
  if (feature.properties.point_count != null) {
    map.easeTo({ center: e.lngLat, zoom: Math.min(map.getZoom() + 2, 14) });
    return;
  }
  openPanel(feature.sourceLayer, String(feature.properties.id ?? feature.id));
}

/** The fill colour of the area layer: classes of the metric shown. */
function choropleth() {
  const step = ['step', ['coalesce', ['get', state.metric], 0], COLORS[0]];
  (state.breaks[state.metric] || []).forEach((b, i) => step.push(b, COLORS[i + 1]));
  return ['case', ['has', state.metric], step, NO_DATA];
}

function applyMetric() {
  const map = window.dtmap.map;
  const fill = layerId(state.area?.id, 'fill');
  if (map.getLayer(fill)) map.setPaintProperty(fill, 'fill-color', choropleth());
  for (const button of document.querySelectorAll('[data-metric]')) {
    button.setAttribute('aria-pressed', String(button.dataset.metric === state.metric));
  }
}

// ---------------------------------------------------------------- round, URL

/** Shows `round` everywhere: tiles, legend, panel, query results, URL. */
async function setRound(round) {
  if (!state.rounds.some((r) => r.id === round)) return;
  state.round = round;
  const map = window.dtmap.map;
  const source = map.getSource(SOURCE);
  const withRound = (u) => {
    const parsed = new URL(u.replace(/\{/g, '%7B').replace(/\}/g, '%7D'));
    parsed.searchParams.set('round', round);
    return parsed.href.replace(/%7B/g, '{').replace(/%7D/g, '}');
  };
  if (source.tiles?.length) source.setTiles(source.tiles.map(withRound));
  else source.setUrl(withRound(source.url));
  showRoundLabel();
  renderLegend();
  if (state.panel) renderPanel();
  if (state.query) runQuery(state.query);
  updateUrl();
}

function showRoundLabel() {
  const slider = $('round');
  if (!slider) return;
  const index = roundIndex();
  slider.value = String(index);
  const name = roundName(state.rounds[index]);
  $('round-label').textContent = name;
  slider.setAttribute('aria-valuetext', name);
}

/** The page's URL, the embed's "Open the full map" and the dashboard link keep the round,
 * the language, the count shown and the view. */
function updateUrl() {
  const query = new URLSearchParams(location.search);
  for (const key of ['round', 'lang', 'metric']) query.delete(key);
  for (const [key, value] of viewQuery({ layers: false })) query.set(key, value);
  history.replaceState(history.state, '', `${location.pathname}?${query}${location.hash}`);
  const full = $('open-full');
  if (full) full.href = `./?${query}${location.hash}`;
  const datasets = $('datasets-link');
  if (datasets) datasets.href = `datasets${query.get('lang') ? `?lang=${encodeURIComponent(query.get('lang'))}` : ''}`;
  const dashboard = $('dashboard-link');
  if (dashboard) {
    const q = viewQuery({ layers: false });
    q.delete('metric');
    dashboard.href = `dashboard?${q}${location.hash}`;
  }
}

// ---------------------------------------------------------------- controls

/** One button per count column of the main layer, in the header's metric group. */
function renderMetricButtons() {
  const group = document.querySelector('.segmented');
  if (!group) return;
  group.innerHTML = state.metrics.map((column) => `<button type="button" id="metric-${escape(column)}"
      data-metric="${escape(column)}" aria-pressed="${column === state.metric}">${escape(countLabel(column))}</button>`).join('');
  group.hidden = state.metrics.length < 2;
}

let playing = null;

function play(on) {
  const button = $('play');
  clearInterval(playing);
  playing = null;
  if (on) {
    if (roundIndex() >= state.rounds.length - 1) setRound(state.rounds[0].id);
    playing = setInterval(() => {
      const next = roundIndex() + 1;
      if (next >= state.rounds.length) { play(false); return; }
      setRound(state.rounds[next].id);
    }, PLAY_STEP_MS);
  }
  playLabel();
}

function playLabel() {
  const button = $('play');
  if (!button) return;
  button.setAttribute('aria-pressed', String(!!playing));
  button.textContent = playing ? '❚❚' : '▶';
  button.setAttribute('aria-label', t(playing ? 'pause' : 'play'));
  button.title = t(playing ? 'pause' : 'play');
}

function setupControls(map) {
  const slider = $('round');
  slider.max = String(state.rounds.length - 1);
  showRoundLabel();
  slider.addEventListener('input', () => {
    const name = roundName(state.rounds[Number(slider.value)]);
    $('round-label').textContent = name;
    slider.setAttribute('aria-valuetext', name);
  });
  slider.addEventListener('change', () => setRound(state.rounds[Number(slider.value)].id));
  $('play')?.addEventListener('click', () => play(!playing));
  $('play').hidden = state.rounds.length < 2;
  play(false);

  renderMetricButtons();
  for (const button of document.querySelectorAll('[data-metric]')) {
    button.addEventListener('click', () => {
      state.metric = button.dataset.metric;
      applyMetric();
      renderLegend();
      if (state.panel) renderPanel();
      updateUrl();
    });
  }
  $('lang').addEventListener('change', (e) => switchLanguage(e.target.value));
  $('share').addEventListener('click', openShare);
  $('export-image')?.addEventListener('click', downloadImage);
  $('print')?.addEventListener('click', () => window.print());
  setupSearch(map);

  const draw = new Draw(map, (shape) => runQuery(shape), (mode) => {
    for (const b of document.querySelectorAll('[data-draw]')) b.setAttribute('aria-pressed', String(b.dataset.draw === mode));
    $('draw-cancel').hidden = !mode && !state.error;
    $('draw-finish').hidden = mode !== 'polygon';
    const hints = { rectangle: 'hintRectangle', polygon: 'hintPolygon', circle: 'hintCircle' };
    $('draw-hint').textContent = mode ? t(hints[mode]) : '';
  }, (key) => showError(key));
  hooks.draw = draw;
  window.dtmap.draw = draw;
  for (const button of document.querySelectorAll('[data-draw]')) {
    button.addEventListener('click', () => { closePanel(); clearQuery(); draw.start(button.dataset.draw); });
  }
  $('draw-cancel').addEventListener('click', () => { draw.cancel(); if (state.error) clearQuery(); $('draw-cancel').hidden = true; });
  $('draw-finish').addEventListener('click', () => draw.finish());
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.error && !draw.mode) clearQuery();
  });
  setupAreaChoice();
}

function switchLanguage(lang) {
  setLang(lang);
  translatePage();
  for (const button of document.querySelectorAll('[data-metric]')) {
    button.textContent = countLabel(button.dataset.metric);
  }
  const map = window.dtmap.map;
  if (map) {
    map._locale = { ...map._locale, ...mapLocale() };
    const label = (selector, text) => {
      const el = map.getContainer().querySelector(selector);
      if (el) { el.title = text; el.setAttribute('aria-label', text); }
    };
    label('.maplibregl-ctrl-zoom-in', t('zoomInMap'));
    label('.maplibregl-ctrl-zoom-out', t('zoomOutMap'));
    label('.maplibregl-ctrl-attrib-button', t('attribution'));
    map.getCanvas().setAttribute('aria-label', t('map'));
    state.scale?._onMove?.();
  }
  applyLabels();
  renderLegend();
  fillAreaPicker();
  showRoundLabel();
  playLabel();
  if (state.panel) renderPanel();
  if (state.lastResults) renderResults(state.lastResults);
  else if (state.error) showError(state.error.key || state.error);
  updateUrl();
}
