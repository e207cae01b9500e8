// The dtmap web client: the displacement map (choropleth of an area layer, circles of a
// point layer), a round slider, search, feature panels with a chart across rounds, area
// queries with downloads, an English/Arabic switch and an embed/share dialog.
// Everything it loads comes from the dtmap server that served the page.
//
// The same module runs the full page (body[data-mode=full]) and the embed page
// (body[data-mode=embed], minimal chrome). Page parameters: ?round= &lang={a configured language}
// &metric={a count column} &layers={area layer},{point layer}; the view is in the hash
// (#zoom/lat/lon, MapLibre's `hash: true`).
//
// Nothing here knows the data: which layer holds areas and which sites, their name fields
// per language, the count columns and their labels, the word for an area ("province",
// "state"…) and the grouping field all come from the collections' metadata.

import { Draw } from './draw.js';
import { roundsChart } from './chart.js';
import { bounds } from './geo.js';
import {
  DEFAULT_LANG, currentLang, fillLanguageMenu, fold, formatChange, formatNumber, languageChain,
  languageOf, roundName, setLang, t, translatePage, isIllustrative, provenanceBadge,
} from './i18n.js';

const SOURCE = 'dtmap'; // the vector source of the server's style
const COLORS = ['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026']; // YlOrRd, as the style
const NO_DATA = '#d9d9d9';
const ASSETS = new URL('.', import.meta.url).href;

const embed = document.body.dataset.mode === 'embed';
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const url = (path) => new URL(path, document.baseURI).href;
const escape = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const state = {
  area: null, // the area layer (collection), e.g. provinces
  points: null, // the point layer (collection), e.g. sites
  rounds: [], // [{id, date, label}] of the area layer
  round: null,
  metric: null, // the count column shown
  metrics: [], // the count columns of the main layer
  layers: params.get('layers') ? params.get('layers').split(',').map((s) => s.trim()) : null,
  areaTable: new Map(), // area id -> {id, layer, ...name properties, geometry, rounds}
  breaks: {}, // metric -> class breaks over every round
  names: [], // search entries
  history: new Map(), // "layer/id" -> rounds response
  panel: null, // {layer, id}
  query: null, // the last area query
  queryIds: [],
  hover: null,
  timings: {},
};

async function getJSON(path, init) {
  const response = await fetch(url(path), init);
  if (!response.ok) {
    let message = `${response.status}`;
    try { message = (await response.json()).description || message; } catch { /* not JSON */ }
    throw new Error(message);
  }
  return response.json();
}

const postJSON = (path, body) => getJSON(path, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});

// ---------------------------------------------------------------- the data's vocabulary

/** The collection metadata of a layer id (or of a tile layer's `{id}_label`). */
function metaOf(layer) {
  const id = String(layer || '').replace(/_label$/, '');
  return [state.area, state.points].find((c) => c?.id === id) || null;
}

/** The properties holding a layer's names: its name field and one per language. */
function nameFields(meta) {
  return [...new Set([meta?.nameField, ...Object.values(meta?.names || {})].filter(Boolean))];
}

/** `&properties=` asking for a layer's names (nothing when it has none: every property). */
function nameProperties(meta) {
  const fields = nameFields(meta);
  return fields.length ? `&properties=${fields.map(encodeURIComponent).join(',')}` : '';
}

/** A feature's name in `lang` (or the language standing in for it), else its default name,
 * else its id. */
function nameIn(meta, props, lang = currentLang()) {
  for (const code of languageChain(lang)) {
    const field = meta?.names?.[code];
    if (field && props?.[field]) return props[field];
  }
  return (meta?.nameField && props?.[meta.nameField]) || props?.id || '';
}

/** A layer's word or label in the page's language (or the one standing in for it), else
 * English. */
function inLanguage(texts) {
  for (const code of [...languageChain(), 'en']) if (texts?.[code]) return texts[code];
  return null;
}

/** The name to show under the main one: the default name when the main one is in another
 * language, else the name in the page's other language. */
function secondName(meta, props, lang = currentLang()) {
  const first = nameIn(meta, props, lang);
  const others = [meta?.nameField && props?.[meta.nameField],
    ...Object.values(meta?.names || {}).map((f) => props?.[f])];
  return others.find((n) => n && n !== first) || '';
}

/** What one feature of a layer is called in the page's language. */
function featureWord(meta) {
  if (meta && meta === state.points) return t('site');
  const word = inLanguage(meta?.adminWord);
  return word ? word.charAt(0).toLocaleUpperCase(currentLang()) + word.slice(1) : t('area');
}

/** The lower-case word for the area layer's features, for sentences. */
function adminWord() {
  return inLanguage(state.area?.adminWord) || t('area').toLocaleLowerCase(currentLang());
}

/** The label of a count column in the page's language. */
function countLabel(column) {
  return inLanguage(state.area?.countLabels?.[column])
    || inLanguage(state.points?.countLabels?.[column]) || column.replace(/_/g, ' ');
}

/** Every name of a feature, folded, for search. */
const searchKey = (meta, props) => fold(nameFields(meta).map((f) => props?.[f] || '').join(' '));

// ---------------------------------------------------------------- start

// MapLibre is imported dynamically so that the data requests start while it is parsed,
// and its worker is started as soon as it is.
const maplibreReady = import('./vendor/maplibre-gl.mjs').then((module) => {
  module.prewarm();
  return module;
});

setLang(params.get('lang'));
fillLanguageMenu($('lang'));
translatePage();

const ready = start();
window.dtmap = {
  ready, state, setRound, switchLanguage, openPanel, runQuery, clearQuery,
};

async function start() {
  state.timings.start = performance.now();
  const collections = (await getJSON('collections?f=json')).collections.filter((c) => !c.basemap);
  state.area = collections.find((c) => c.geometryType !== 'point' && c.countColumns.length);
  state.points = collections.find((c) => c.geometryType === 'point' && c.countColumns.length);
  const main = state.area || state.points;
  if (!main) throw new Error(t('noDataLayer'));
  state.rounds = main.rounds;
  state.metrics = main.countColumns;
  state.metric = state.metrics.includes(params.get('metric')) ? params.get('metric') : main.mainCount;
  const asked = params.get('round');
  state.round = state.rounds.some((r) => r.id === asked) ? asked : main.latestRound;

  const names = embed ? Promise.resolve() : loadNames();
  const [maplibregl, style] = await Promise.all([
    maplibreReady,
    getJSON(`styles/default.json?round=${encodeURIComponent(state.round)}`),
    loadAreaTable(),
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
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl(), 'bottom-left');
  const attribution = new maplibregl.AttributionControl({
    compact: true,
    customAttribution: `<a href="${ASSETS}vendor/MAPLIBRE-LICENSE.txt" target="_blank" rel="noopener">MapLibre GL JS</a>`,
  });
  map.addControl(attribution, 'bottom-right');
  Object.assign(window.dtmap, { map, maplibregl });

  await new Promise((resolve) => map.once('load', resolve));
  state.timings.load = performance.now();
  // Start with the attribution folded (the compact control opens itself at first).
  map.getContainer().querySelector('.maplibregl-compact-show')?.classList.remove('maplibregl-compact-show');
  setupMap(map);
  renderLegend();
  if (!embed) setupControls(map);
  await names;
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once('idle', resolve)));
  state.timings.idle = performance.now();
  return window.dtmap;
}

/** Names, bounds and every round's counts of the area layer (for classes, legend, panels). */
async function loadAreaTable() {
  if (!state.area) return;
  const id = state.area.id;
  const items = await getJSON(`collections/${id}/items?limit=10000${nameProperties(state.area)}`);
  if (items.features.length <= 40) {
    // Few areas: each one's series, which the panels reuse.
    await Promise.all(items.features.map(async (f) => {
      const history = await getJSON(`collections/${id}/items/${encodeURIComponent(f.id)}/rounds`);
      state.history.set(`${id}/${f.id}`, history);
      state.areaTable.set(String(f.id), {
        id: String(f.id), layer: id, ...f.properties, geometry: f.geometry, rounds: history.rounds,
      });
    }));
  } else {
    // Many areas: one request per round instead of one per area.
    const columns = state.area.countColumns.join(',');
    const rounds = await Promise.all(state.rounds.map((r) => getJSON(
      `collections/${id}/items?round=${encodeURIComponent(r.id)}&properties=${columns},synthetic,source&limit=10000`,
    )));
    for (const f of items.features) {
      state.areaTable.set(String(f.id), {
        id: String(f.id), layer: id, ...f.properties, geometry: f.geometry, rounds: [],
      });
    }
    rounds.forEach((page, i) => {
      for (const f of page.features) {
        const row = state.areaTable.get(String(f.id));
        if (!row) continue;
        const counts = Object.fromEntries(state.area.countColumns.map((c) => [c, f.properties[c] ?? null]));
        row.rounds[i] = {
          round: state.rounds[i].id, counts, synthetic: f.properties.synthetic, source: f.properties.source,
        };
      }
    });
  }
  for (const metric of state.metrics) {
    const values = [];
    for (const row of state.areaTable.values()) {
      for (const r of row.rounds) if (r.counts?.[metric] > 0) values.push(r.counts[metric]);
    }
    state.breaks[metric] = breaks(values.sort((a, b) => a - b));
  }
  for (const row of state.areaTable.values()) {
    state.names.push({
      layer: id, id: row.id, props: row, key: searchKey(state.area, row), bounds: bounds(row.geometry),
    });
  }
}

/** Names and positions of the point layer, for search. */
async function loadNames() {
  if (!state.points) return;
  const id = state.points.id;
  const items = await getJSON(`collections/${id}/items?limit=10000${nameProperties(state.points)}`);
  for (const f of items.features) {
    state.names.push({
      layer: id, id: String(f.id), props: { id: String(f.id), ...f.properties },
      key: searchKey(state.points, f.properties), center: f.geometry.coordinates,
    });
  }
}

/** Four class breaks at the quintiles, rounded to two significant figures (as the style). */
function breaks(sorted) {
  const out = [];
  for (let q = 1; q < 5; q++) {
    const v = sorted[Math.floor((sorted.length * q) / 5)];
    if (v == null) continue;
    const scale = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(1, v))) - 1);
    const rounded = Math.floor(v / scale) * scale;
    if (!out.length || rounded > out[out.length - 1]) out.push(rounded);
  }
  return out;
}

// ---------------------------------------------------------------- the map

const layerId = (layer, suffix) => `${layer}-${suffix}`;

/** The server's style with hover and selection states, this client's classes, the labels
 * of the page's language and the layers asked for; applied before the first render. */
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

function setupMap(map) {
  map.on('mousemove', (e) => hover(map, e));
  map.on('mouseout', () => hover(map, null));
  map.on('click', (e) => click(map, e));
  map.on('moveend', () => updateUrl());
}

/** The features under a point, the points layer first. */
function featuresAt(map, point) {
  const layers = [layerId(state.points?.id, 'circle'), layerId(state.area?.id, 'fill')]
    .filter((id) => map.getLayer(id) && map.getLayoutProperty(id, 'visibility') !== 'none');
  return layers.length ? map.queryRenderedFeatures(point, { layers }) : [];
}

function hover(map, e) {
  if (draw?.mode) return;
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
}

function click(map, e) {
  if (draw?.mode) return;
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
  const slider = $('round');
  if (slider) {
    slider.value = String(state.rounds.findIndex((r) => r.id === round));
    $('round-label').textContent = roundName(state.rounds[Number(slider.value)]);
  }
  renderLegend();
  if (state.panel) renderPanel();
  if (state.query) runQuery(state.query);
  updateUrl();
}

function updateUrl() {
  const query = new URLSearchParams(location.search);
  query.set('round', state.round);
  if (currentLang() === DEFAULT_LANG) query.delete('lang'); else query.set('lang', currentLang());
  const main = state.area || state.points;
  if (state.metric === main?.mainCount) query.delete('metric'); else query.set('metric', state.metric);
  history.replaceState(history.state, '', `${location.pathname}?${query}${location.hash}`);
  const full = $('open-full');
  if (full) full.href = `./?${query}${location.hash}`;
  const lang = currentLang() === DEFAULT_LANG ? '' : `&lang=${currentLang()}`;
  if ($('dashboard-link')) $('dashboard-link').href = `dashboard?round=${encodeURIComponent(state.round)}${lang}`;
}

// ---------------------------------------------------------------- legend

function roundIndex(round = state.round) {
  return state.rounds.findIndex((r) => r.id === round);
}

/** The area layer's total of the metric in a round, with its provenance, as the server
 * gives it in the collection metadata (the same answer the dashboard gives). */
function areaTotals(index) {
  const figure = state.area?.rounds?.[index]?.totals?.[state.metric];
  return { total: figure?.value ?? null, provenance: figure?.provenance, breakdown: figure?.breakdown };
}

function renderLegend() {
  const el = $('legend');
  if (!el || !state.area) return;
  const b = state.breaks[state.metric] || [];
  const classes = [];
  for (let i = 0; i <= b.length; i++) {
    const label = i === 0 ? `< ${formatNumber(b[0])}`
      : i === b.length ? `≥ ${formatNumber(b[i - 1])}`
        : `${formatNumber(b[i - 1])} – ${formatNumber(b[i])}`;
    classes.push(`<li><span class="swatch" style="background:${COLORS[i]}"></span>${escape(label)}</li>`);
  }
  classes.push(`<li><span class="swatch" style="background:${NO_DATA}"></span>${escape(t('noData'))}</li>`);
  const index = roundIndex();
  const now = areaTotals(index);
  const before = index > 0 ? areaTotals(index - 1) : null;
  // A change is only real between two published figures (or sums of published ones).
  const unreal = isIllustrative(now.provenance) || isIllustrative(before?.provenance);
  const change = before?.total != null && now.total != null
    ? `<p class="change${unreal ? ' illustrative' : ''}" data-testid="legend-change">${escape(t('change', { round: roundName(state.rounds[index - 1]) }))}: <bdi dir="ltr">${escape(formatChange(now.total, before.total))}</bdi>${unreal ? ` <span class="unreal">(${escape(t('changeIllustrative'))})</span>` : ''}</p>`
    : '';
  const breakdown = now.provenance === 'published' && isIllustrative(now.breakdown)
    ? `<p class="muted">${escape(t('overBreakdown'))}</p>` : '';
  const round = state.rounds[index];
  el.innerHTML = `
    <h2>${escape(t('legendTitle', { metric: countLabel(state.metric), admin: adminWord() }))}</h2>
    <p class="legend-round">${escape(roundName(state.rounds[index]))}</p>
    <ul class="classes">${classes.join('')}</ul>
    ${state.points ? `<p class="sites-key"><span class="dot"></span>${escape(t('sitesSized', { metric: countLabel(state.points.mainCount || state.metric) }))}</p>` : ''}
    <p class="total">${escape(t('nationalTotal'))}: <strong data-value="${now.total ?? ''}">${escape(formatNumber(now.total))}</strong>
      ${provenanceBadge(now.provenance)}</p>
    ${breakdown}
    ${change}
    <p class="as-of">${escape(t('dataAsOf', { date: roundName(round) }))}</p>
    <p class="disclaimer">${escape(t('disclaimer'))}</p>`;
}

// ---------------------------------------------------------------- panel

async function openPanel(layer, id) {
  state.panel = { layer, id };
  const map = window.dtmap.map;
  if (state.area && layer === state.area.id) {
    map.removeFeatureState({ source: SOURCE, sourceLayer: layer });
    map.setFeatureState({ source: SOURCE, sourceLayer: layer, id }, { selected: true });
  } else if (state.area) {
    map.removeFeatureState({ source: SOURCE, sourceLayer: state.area.id });
  }
  const panel = $('panel');
  panel.hidden = false;
  panel.dataset.layer = layer;
  panel.dataset.id = id;
  panel.innerHTML = `<p>${escape(t('loading'))}</p>`;
  const key = `${layer}/${id}`;
  try {
    if (!state.history.has(key)) {
      state.history.set(key, await getJSON(`collections/${layer}/items/${encodeURIComponent(id)}/rounds`));
    }
    if (!state.panel || state.panel.id !== id) return;
    const data = state.history.get(key);
    if (!data.properties) {
      const row = layer === state.area?.id ? state.areaTable.get(id) : null;
      const item = row ? { properties: row, geometry: row.geometry }
        : await getJSON(`collections/${layer}/items/${encodeURIComponent(id)}`);
      data.properties = item.properties;
      data.geometry = item.geometry;
    }
    if (!state.panel || state.panel.id !== id) return;
    renderPanel();
  } catch (error) {
    panel.innerHTML = `<p class="error">${escape(t('error', { message: error.message }))}</p>`;
  }
}

function closePanel() {
  state.panel = null;
  const panel = $('panel');
  panel.hidden = true;
  panel.innerHTML = '';
  if (state.area) window.dtmap.map.removeFeatureState({ source: SOURCE, sourceLayer: state.area.id });
}

function renderPanel() {
  const { layer, id } = state.panel;
  const data = state.history.get(`${layer}/${id}`);
  if (!data?.properties) return;
  const props = data.properties;
  const isArea = layer === state.area?.id;
  const index = data.rounds.findIndex((r) => r.round === state.round);
  const now = data.rounds[index];
  const before = index > 0 ? data.rounds[index - 1] : null;
  const rtl = languageOf().dir === 'rtl';
  const meta = metaOf(layer);
  const primary = nameIn(meta, props);
  const secondary = secondName(meta, props);
  const unrealChange = before && (isIllustrative(now?.provenance) || isIllustrative(before.provenance));
  const rows = (data.countColumns || state.metrics).map((column) => {
    const v = now?.counts?.[column];
    const b = before?.counts?.[column];
    const change = v != null && b != null ? formatChange(v, b) : '';
    return `<tr data-field="${escape(column)}"><th scope="row">${escape(countLabel(column))}</th>
      <td class="value" data-value="${v ?? ''}">${escape(formatNumber(v))}</td>
      <td class="delta"><bdi dir="ltr">${escape(change)}</bdi></td></tr>`;
  }).join('');
  const source = now?.source === 'synthetic' ? t('provenance_illustrative') : now?.source || '';
  const sourceHtml = /^https?:\/\//.test(source)
    ? `<a href="${escape(source)}" target="_blank" rel="noopener noreferrer">${escape(new URL(source).hostname)}</a>`
    : escape(source);
  const groupField = meta?.groupLayer === state.area?.id ? meta?.groupBy : null;
  const group = !isArea && groupField && props[groupField] ? state.areaTable.get(String(props[groupField])) : null;
  const groupName = group ? nameIn(state.area, group) : '';
  $('panel').innerHTML = `
    <header>
      <div>
        <p class="kind">${escape(featureWord(meta))}${groupName ? ` · ${escape(groupName)}` : ''}</p>
        <h2 class="name" dir="auto">${escape(primary)}</h2>
        ${secondary ? `<p class="alt-name" dir="auto"><bdi>${escape(secondary)}</bdi></p>` : ''}
      </div>
      <button type="button" class="close" aria-label="${escape(t('close'))}" title="${escape(t('close'))}">×</button>
    </header>
    <p class="panel-round" data-round="${escape(state.round)}">${escape(roundName(state.rounds[roundIndex()]))}
      ${provenanceBadge(now?.provenance)}</p>
    <table class="counts"><tbody>${rows}</tbody></table>
    <p class="delta-note${unrealChange ? ' illustrative' : ''}">${before ? escape(t('change', { round: roundName(state.rounds[index - 1]) })) : escape(t('firstRound'))}${unrealChange ? ` <span class="unreal">(${escape(t('changeIllustrative'))})</span>` : ''}</p>
    <p class="source">${escape(t('source'))}: ${sourceHtml || '–'}</p>
    <figure>
      ${roundsChart(data.rounds, state.metric, state.round, rtl)}
      <figcaption>${escape(t('acrossRounds', { metric: countLabel(state.metric) }))}</figcaption>
    </figure>
    ${isArea && state.points && !embed ? `<button type="button" class="area-query">${escape(t('sitesInName', { name: primary }))}</button>` : ''}`;
  $('panel').querySelector('.close').addEventListener('click', closePanel);
  $('panel').querySelector('.area-query')?.addEventListener('click', () => {
    draw?.show(data.geometry);
    runQuery({ kind: 'area', area: `${layer}/${id}`, name: primary, geometry: data.geometry });
  });
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

let draw = null;

function setupControls(map) {
  const slider = $('round');
  slider.max = String(state.rounds.length - 1);
  slider.value = String(roundIndex());
  $('round-label').textContent = roundName(state.rounds[roundIndex()]);
  slider.addEventListener('input', () => {
    $('round-label').textContent = roundName(state.rounds[Number(slider.value)]);
  });
  slider.addEventListener('change', () => setRound(state.rounds[Number(slider.value)].id));

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
  setupSearch(map);

  draw = new Draw(map, (shape) => runQuery(shape), (mode) => {
    for (const b of document.querySelectorAll('[data-draw]')) b.setAttribute('aria-pressed', String(b.dataset.draw === mode));
    $('draw-cancel').hidden = !mode;
    $('draw-finish').hidden = mode !== 'polygon';
    const hints = { rectangle: 'hintRectangle', polygon: 'hintPolygon', circle: 'hintCircle' };
    $('draw-hint').textContent = mode ? t(hints[mode]) : '';
  });
  draw.install();
  window.dtmap.draw = draw;
  for (const button of document.querySelectorAll('[data-draw]')) {
    button.addEventListener('click', () => { closePanel(); draw.start(button.dataset.draw); });
  }
  $('draw-cancel').addEventListener('click', () => draw.cancel());
  $('draw-finish').addEventListener('click', () => draw.finish());
}

function switchLanguage(lang) {
  setLang(lang);
  translatePage();
  for (const button of document.querySelectorAll('[data-metric]')) {
    button.textContent = countLabel(button.dataset.metric);
  }
  applyLabels();
  renderLegend();
  if ($('round-label')) $('round-label').textContent = roundName(state.rounds[roundIndex()]);
  if (state.panel) renderPanel();
  if (state.lastResults) renderResults(state.lastResults);
  updateUrl();
}

function setupSearch(map) {
  const input = $('search');
  const list = $('search-results');
  let matches = [];
  let active = -1;
  const show = () => {
    const q = fold(input.value);
    matches = q ? state.names.filter((n) => n.key.includes(q))
      .sort((a, b) => (a.layer === b.layer ? 0 : a.layer === state.area?.id ? -1 : 1)).slice(0, 8) : [];
    active = matches.length ? 0 : -1;
    list.hidden = !q;
    list.innerHTML = matches.length ? matches.map((m, i) => `<li role="option" id="search-${i}" data-index="${i}" aria-selected="${i === active}">
        <span class="primary" dir="auto">${escape(nameIn(metaOf(m.layer), m.props))}</span>
        <span class="secondary" dir="auto">${escape(secondName(metaOf(m.layer), m.props))}</span>
        <span class="kind">${escape(featureWord(metaOf(m.layer)))}</span></li>`).join('')
      : `<li class="none">${escape(t('noMatches'))}</li>`;
  };
  const choose = (m) => {
    if (!m) return;
    list.hidden = true;
    input.value = nameIn(metaOf(m.layer), m.props);
    if (m.bounds) map.fitBounds(m.bounds, { padding: 40, maxZoom: 8 });
    else map.flyTo({ center: m.center, zoom: Math.max(map.getZoom(), 10) });
    openPanel(m.layer, m.id);
  };
  input.addEventListener('input', show);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!matches.length) return;
      active = (active + (e.key === 'ArrowDown' ? 1 : matches.length - 1)) % matches.length;
      list.querySelectorAll('li').forEach((li, i) => li.setAttribute('aria-selected', String(i === active)));
    } else if (e.key === 'Enter') {
      choose(matches[active]);
    } else if (e.key === 'Escape') {
      list.hidden = true;
    }
  });
  list.addEventListener('click', (e) => {
    const li = e.target.closest('li[data-index]');
    if (li) choose(matches[Number(li.dataset.index)]);
  });
  document.addEventListener('click', (e) => { if (!e.target.closest('.search')) list.hidden = true; });
}

// ---------------------------------------------------------------- area queries

/** The list and totals requests of a query, for the current round. */
function queryRequests(q, format = 'json') {
  const points = state.points.id;
  const round = `round=${encodeURIComponent(state.round)}`;
  const f = format === 'json' ? '' : `&f=${format}`;
  if (q.kind === 'circle') {
    const [lon, lat] = q.center;
    return {
      list: [`collections/${points}/near?lon=${lon}&lat=${lat}&radius=${q.radius}&limit=10000&${round}${f}`],
      totals: [`collections/${points}/totals?${round}`, { lon, lat, radius: q.radius }],
    };
  }
  if (q.kind === 'area') {
    const area = encodeURIComponent(q.area);
    return {
      list: [`collections/${points}/search?area=${area}&limit=10000&${round}${f}`],
      totals: [`collections/${points}/totals?area=${area}&${round}`],
    };
  }
  return {
    list: [`collections/${points}/search?limit=10000&${round}${f}`, { geometry: q.geometry }],
    totals: [`collections/${points}/totals?${round}`, { geometry: q.geometry }],
  };
}

const request = ([path, body]) => (body ? postJSON(path, body) : getJSON(path));

async function runQuery(q) {
  if (!state.points) return;
  state.query = q;
  const el = $('results');
  el.hidden = false;
  el.innerHTML = `<p>${escape(t('loading'))}</p>`;
  try {
    const requests = queryRequests(q);
    const [list, totals] = await Promise.all([request(requests.list), request(requests.totals)]);
    if (state.query !== q) return;
    state.lastResults = { q, list, totals };
    highlight(list.features.map((f) => String(f.id)));
    renderResults(state.lastResults);
  } catch (error) {
    el.innerHTML = `<p class="error">${escape(t('error', { message: error.message }))}</p>`;
  }
}

function highlight(ids) {
  const map = window.dtmap.map;
  const sourceLayer = state.points.id;
  for (const id of state.queryIds) map.setFeatureState({ source: SOURCE, sourceLayer, id }, { selected: false });
  state.queryIds = ids;
  for (const id of ids) map.setFeatureState({ source: SOURCE, sourceLayer, id }, { selected: true });
}

function renderResults({ q, list, totals }) {
  const title = q.kind === 'area' ? t('resultsArea', { name: q.name })
    : q.kind === 'circle' ? t('resultsCircle', { km: formatNumber(Math.round(q.radius / 100) / 10) })
      : t('results');
  const columns = state.points.countColumns;
  const features = [...list.features].sort((a, b) => (b.properties[state.metric] ?? -1) - (a.properties[state.metric] ?? -1));
  const rows = features.map((f) => `<tr data-id="${escape(f.id)}">
      <td><button type="button" class="link" data-id="${escape(f.id)}" dir="auto">${escape(nameIn(state.points, { id: f.id, ...f.properties }))}</button>
        <span class="secondary" dir="auto">${escape(secondName(state.points, f.properties))}</span></td>
      ${columns.map((c) => `<td class="num" data-field="${c}" data-value="${f.properties[c] ?? ''}">${escape(formatNumber(f.properties[c]))}</td>`).join('')}
    </tr>`).join('');
  const total = (c) => totals.totals?.[c];
  $('results').innerHTML = `
    <header>
      <h2>${escape(title)}</h2>
      <button type="button" class="close" aria-label="${escape(t('close'))}" title="${escape(t('close'))}">×</button>
    </header>
    <p class="panel-round">${escape(roundName(state.rounds[roundIndex()]))} ${provenanceBadge(totals.provenance)}</p>
    <dl class="totals" data-testid="totals">
      <div><dt>${escape(t('sites'))}</dt><dd data-field="sites" data-value="${totals.sites}">${escape(formatNumber(totals.sites))}</dd></div>
      ${columns.map((c) => `<div><dt>${escape(countLabel(c))}</dt><dd data-field="${c}" data-value="${total(c) ?? ''}">${escape(formatNumber(total(c)))}</dd></div>`).join('')}
    </dl>
    <div class="downloads">
      <button type="button" data-download="json">${escape(t('downloadGeoJSON'))}</button>
      <button type="button" data-download="csv">${escape(t('downloadCSV'))}</button>
      <button type="button" class="clear">${escape(t('clear'))}</button>
    </div>
    ${features.length ? `<div class="table-wrap"><table class="sites">
      <thead><tr><th scope="col">${escape(t('name'))}</th>${columns.map((c) => `<th scope="col" class="num">${escape(t(c))}</th>`).join('')}</tr></thead>
      <tbody>${rows}</tbody></table></div>` : `<p>${escape(t('noSites'))}</p>`}`;
  const el = $('results');
  el.querySelector('.close').addEventListener('click', clearQuery);
  el.querySelector('.clear').addEventListener('click', clearQuery);
  for (const button of el.querySelectorAll('[data-download]')) {
    button.addEventListener('click', () => download(q, button.dataset.download));
  }
  el.querySelector('tbody')?.addEventListener('click', (e) => {
    const button = e.target.closest('button[data-id]');
    if (!button) return;
    const f = list.features.find((x) => String(x.id) === button.dataset.id);
    if (f) window.dtmap.map.flyTo({ center: f.geometry.coordinates, zoom: Math.max(window.dtmap.map.getZoom(), 10) });
    openPanel(state.points.id, button.dataset.id);
  });
}

function clearQuery() {
  state.query = null;
  state.lastResults = null;
  highlight([]);
  draw?.clear();
  $('results').hidden = true;
  $('results').innerHTML = '';
}

async function download(q, format) {
  const requests = queryRequests(q, format);
  const [path, body] = requests.list;
  const response = await fetch(url(path), body ? {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  } : undefined);
  const blob = await response.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${state.points.id}-${state.round}.${format === 'csv' ? 'csv' : 'geojson'}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

// ---------------------------------------------------------------- embed / share

function openShare() {
  const dialog = $('share-dialog');
  const base = new URL('.', document.baseURI).href;
  const lang = currentLang();
  const round = encodeURIComponent(state.round);
  const layers = state.layers ? state.layers.join(',') : [state.area?.id, state.points?.id].filter(Boolean).join(',');
  const main = state.area || state.points;
  const query = `layers=${layers}&round=${round}${lang === DEFAULT_LANG ? '' : `&lang=${encodeURIComponent(lang)}`}${state.metric !== main?.mainCount ? `&metric=${state.metric}` : ''}`;
  const embedUrl = `${base}embed?${query}${location.hash}`;
  const iframe = `<iframe src="${embedUrl}" width="640" height="480" style="border:0" loading="lazy" title="${document.title}"></iframe>`;
  const links = [
    ['pageLink', `${base}?${query}${location.hash}`],
    ['styleUrl', `${base}styles/default.json?round=${round}`],
    ['tileJSON', `${base}tiles/${layers}/tilejson.json?round=${round}`],
    state.area && ['geojsonAreas', `${base}collections/${state.area.id}/items?round=${round}&limit=10000`],
    state.points && ['geojsonSites', `${base}collections/${state.points.id}/items?round=${round}&limit=10000`],
  ].filter(Boolean);
  const field = (key, value, rows = 1) => `<label class="share-field"><span>${escape(t(key))}</span>
      <span class="copy-row">${rows > 1 ? `<textarea readonly rows="${rows}" dir="ltr" data-share="${key}">${escape(value)}</textarea>` : `<input readonly dir="ltr" data-share="${key}" value="${escape(value)}">`}
      <button type="button" class="copy">${escape(t('copy'))}</button></span></label>`;
  dialog.innerHTML = `<form method="dialog">
      <header><h2>${escape(t('shareTitle'))}</h2><button class="close" value="close" aria-label="${escape(t('close'))}">×</button></header>
      <p>${escape(t('shareIntro'))}</p>
      ${field('iframeCode', iframe, 3)}
      ${field(...links[0])}
      <h3>${escape(t('forOtherMaps'))}</h3>
      ${links.slice(1).map(([k, v]) => field(k, v)).join('')}
    </form>`;
  for (const button of dialog.querySelectorAll('.copy')) {
    button.addEventListener('click', async (e) => {
      e.preventDefault();
      const input = button.parentElement.querySelector('input, textarea');
      input.select();
      try { await navigator.clipboard.writeText(input.value); } catch { document.execCommand?.('copy'); }
      button.textContent = t('copied');
    });
  }
  dialog.showModal();
}
