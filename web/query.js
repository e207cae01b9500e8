// Area queries: the sites within a drawn shape, a circle or an area, their totals and list
// (with GeoJSON and CSV downloads). Every site found is ringed on the map from a source of
// its own, so that sites drawn grouped at overview zoom are shown too. Areas can be chosen
// without a mouse: from a list of the areas, or by typing a longitude, latitude and radius.
// An error (e.g. a polygon crossing itself) is said in the page's language and goes with
// Escape, Cancel or a click on the map.

import { circlePolygon } from './geo.js';
import {
  formatNumber, provenanceBadge, roundName, t,
} from './i18n.js';
import {
  $, SOURCE, countLabel, errorText, escape, getJSON, hooks, ltr, nameIn, postJSON,
  roundIndex, secondName, state, url,
} from './common.js';
import { front } from './panel.js';

const FOUND = 'query-sites';
const EMPTY = { type: 'FeatureCollection', features: [] };

/** The source and layer ringing the sites a query found (above the site circles, below the
 * marked site and the drawn shape), added at the first query: an empty source costs the
 * map's first load a round of work in its worker. */
function installFound(map) {
  if (map.getSource(FOUND)) return;
  map.addSource(FOUND, { type: 'geojson', data: EMPTY });
  map.addLayer({
    id: FOUND, type: 'circle', source: FOUND,
    paint: {
      'circle-radius': 5, 'circle-color': '#e31a1c', 'circle-opacity': 0.9,
      'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.5,
    },
  }, ['marked-site', 'draw-fill'].find((id) => map.getLayer(id)));
}

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

function openResults() {
  const el = $('results');
  el.hidden = false;
  front('results');
  return el;
}

export async function runQuery(q) {
  if (!state.points) return;
  state.query = q;
  state.error = null;
  const el = openResults();
  el.innerHTML = `<p>${escape(t('loading'))}</p>`;
  try {
    const requests = queryRequests(q);
    const [list, totals] = await Promise.all([request(requests.list), request(requests.totals)]);
    if (state.query !== q) return;
    state.lastResults = { q, list, totals };
    highlight(list.features);
    renderResults(state.lastResults);
  } catch (error) {
    if (state.query === q) showError(error);
  }
}

/** Shows an error (an Error, or a string key) in the results sheet, until dismissed. */
export function showError(error) {
  const key = typeof error === 'string' ? error : null;
  state.error = key ? { key } : error;
  const el = openResults();
  el.innerHTML = `<header><p class="error" role="alert">${escape(key ? t(key) : errorText(error))}</p>
    <button type="button" class="close" aria-label="${escape(t('close'))}" title="${escape(t('close'))}">×</button></header>`;
  el.querySelector('.close').addEventListener('click', clearQuery);
  $('draw-cancel')?.removeAttribute('hidden');
}

function highlight(features) {
  const map = window.dtmap.map;
  const sourceLayer = state.points.id;
  for (const id of state.queryIds || []) map.setFeatureState({ source: SOURCE, sourceLayer, id }, { selected: false });
  state.queryIds = features.map((f) => String(f.id));
  for (const id of state.queryIds) map.setFeatureState({ source: SOURCE, sourceLayer, id }, { selected: true });
  if (!features.length && !map.getSource(FOUND)) return;
  installFound(map);
  map.getSource(FOUND).setData({
    type: 'FeatureCollection',
    features: features.filter((f) => f.geometry).map((f) => ({
      type: 'Feature', id: f.id, properties: { id: String(f.id) }, geometry: f.geometry,
    })),
  });
}

export function renderResults({ q, list, totals }) {
  const title = q.kind === 'area' ? t('resultsArea', { name: q.name })
    : q.kind === 'circle' ? t('resultsCircle', { km: formatNumber(Math.round(q.radius / 100) / 10) })
      : t('results');
  const columns = state.points.countColumns;
  const features = [...list.features].sort((a, b) => (b.properties[state.metric] ?? -1) - (a.properties[state.metric] ?? -1));
  const rows = features.map((f) => `<tr data-id="${escape(f.id)}">
      <td><button type="button" class="link" data-id="${escape(f.id)}" dir="auto">${escape(nameIn(state.points, { id: f.id, ...f.properties }))}</button>
        <span class="secondary" dir="auto">${escape(secondName(state.points, f.properties))}</span></td>
      ${columns.map((c) => `<td class="num" data-field="${c}" data-value="${f.properties[c] ?? ''}">${ltr(formatNumber(f.properties[c]))}</td>`).join('')}
    </tr>`).join('');
  const total = (c) => totals.totals?.[c];
  const el = $('results');
  el.innerHTML = `
    <header>
      <h2>${escape(title)}</h2>
      <button type="button" class="close" aria-label="${escape(t('close'))}" title="${escape(t('close'))}">×</button>
    </header>
    <p class="panel-round">${escape(roundName(state.rounds[roundIndex()]))} ${provenanceBadge(totals.provenance)}</p>
    <dl class="totals" data-testid="totals">
      <div><dt>${escape(t('sites'))}</dt><dd data-field="sites" data-value="${totals.sites}">${ltr(formatNumber(totals.sites))}</dd></div>
      ${columns.map((c) => `<div><dt>${escape(countLabel(c))}</dt><dd data-field="${c}" data-value="${total(c) ?? ''}">${ltr(formatNumber(total(c)))}</dd></div>`).join('')}
    </dl>
    <div class="downloads">
      <button type="button" data-download="json">${escape(t('downloadGeoJSON'))}</button>
      <button type="button" data-download="csv">${escape(t('downloadCSV'))}</button>
      <button type="button" class="clear">${escape(t('clear'))}</button>
    </div>
    ${features.length ? `<div class="table-wrap"><table class="sites">
      <thead><tr><th scope="col">${escape(t('name'))}</th>${columns.map((c) => `<th scope="col" class="num">${escape(countLabel(c))}</th>`).join('')}</tr></thead>
      <tbody>${rows}</tbody></table></div>` : `<p>${escape(t('noSites'))}</p>`}`;
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
    hooks.openPanel(state.points.id, button.dataset.id);
  });
}

export function clearQuery() {
  state.query = null;
  state.lastResults = null;
  state.error = null;
  if (window.dtmap.map) highlight([]);
  hooks.draw?.clear();
  if (!hooks.draw?.mode) $('draw-cancel')?.setAttribute('hidden', '');
  $('results').hidden = true;
  $('results').innerHTML = '';
  if (state.panel) front('panel');
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

/** The list of areas to query by keyboard, in the page's language and its alphabetical order. */
export function fillAreaPicker() {
  const select = $('area-pick');
  if (!select) return;
  select.hidden = !state.area || !state.points;
  const rows = [...state.areaTable.values()]
    .map((row) => ({ id: row.id, name: nameIn(state.area, row) }))
    .sort((a, b) => a.name.localeCompare(b.name, document.documentElement.lang));
  select.innerHTML = `<option value="">${escape(t('pickArea'))}</option>${rows
    .map((r) => `<option value="${escape(r.id)}">${escape(r.name)}</option>`).join('')}`;
}

/** The keyboard ways to choose an area: the list of areas and the coordinates form. */
export function setupAreaChoice() {
  const select = $('area-pick');
  fillAreaPicker();
  select?.addEventListener('change', () => {
    const row = state.areaTable.get(select.value);
    if (!row) return;
    hooks.draw?.cancel();
    hooks.draw?.show(row.geometry);
    runQuery({ kind: 'area', area: `${state.area.id}/${row.id}`, name: nameIn(state.area, row), geometry: row.geometry });
    select.value = '';
  });
  const dialog = $('coords-dialog');
  $('coords-open')?.addEventListener('click', () => {
    const c = window.dtmap.map.getCenter();
    const form = dialog.querySelector('form');
    if (!form.lon.value) form.lon.value = c.lng.toFixed(4);
    if (!form.lat.value) form.lat.value = c.lat.toFixed(4);
    dialog.querySelector('.error').textContent = '';
    dialog.showModal();
    form.lon.focus();
  });
  for (const button of dialog?.querySelectorAll('.close, .cancel') || []) {
    button.addEventListener('click', () => dialog.close());
  }
  dialog?.querySelector('form').addEventListener('submit', (e) => {
    const form = e.target;
    const read = (input) => Number(String(input.value).replace(/[٠-٩]/g, (d) => '٠١٢٣٤٥٦٧٨٩'.indexOf(d)).replace(/[٫,]/g, '.').replace('−', '-'));
    const [lon, lat, km] = [read(form.lon), read(form.lat), read(form.radius)];
    if (![lon, lat, km].every(Number.isFinite) || Math.abs(lon) > 180 || Math.abs(lat) > 90 || !(km > 0)) {
      e.preventDefault();
      dialog.querySelector('.error').textContent = t('badCoordinates');
      return;
    }
    const center = [lon, lat];
    const radius = km * 1000;
    const geometry = circlePolygon(center, radius);
    hooks.draw?.cancel();
    hooks.draw?.show(geometry);
    window.dtmap.map.fitBounds([[lon - km / 80, lat - km / 110], [lon + km / 80, lat + km / 110]], { padding: 40, maxZoom: 12 });
    runQuery({ kind: 'circle', center, radius, geometry });
  });
}
