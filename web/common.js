// What the modules of the web client share: the page's state, the server's words for the
// data (layer names, name fields per language, count labels, area words) and small helpers
// for requests and HTML. Nothing here knows the data: it all comes from the collections'
// metadata.

import {
  currentLang, formatNumber, inLanguage, languageChain, t,
} from './i18n.js';

export const SOURCE = 'dtmap'; // the vector source of the server's style
export const COLORS = ['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026']; // YlOrRd, as the style
export const NO_DATA = '#d9d9d9';
export const CLUSTER = '#6a51a3';
export const SITE = '#2171b5';

export const embed = document.body.dataset.mode === 'embed';
export const params = new URLSearchParams(location.search);
export const $ = (id) => document.getElementById(id);
export const url = (path) => new URL(path, document.baseURI).href;
export const escape = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
})[c]);
/** A figure in a left-to-right isolate, so its pieces keep their order in any language. */
export const ltr = (text, cls = 'num') => `<bdi dir="ltr" class="${cls}">${escape(text)}</bdi>`;

export const state = {
  area: null, // the area layer (collection), e.g. provinces
  points: null, // the point layer (collection), e.g. sites
  rounds: [], // [{id, date, label}] of the area layer
  round: null,
  metric: null, // the count column shown
  metrics: [], // the count columns of the main layer
  layers: params.get('layers') ? params.get('layers').split(',').map((s) => s.trim()) : null,
  areaTable: new Map(), // area id -> {id, layer, ...name properties, geometry, rounds}
  breaks: {}, // metric -> class breaks over every round (from the server)
  names: [], // search entries
  history: new Map(), // "layer/id" -> rounds response
  panel: null, // {layer, id}
  query: null, // the last area query
  hover: null,
  timings: {},
};

/** Whether a layer is shown (all are unless the page asks for some with `layers=`). */
export const shown = (meta) => !!meta && (!state.layers || state.layers.includes(meta.id));

/** An error the client can say in the page's language: an HTTP status or no connection. */
export class RequestError extends Error {
  constructor(status, detail) {
    super(detail || String(status));
    this.status = status;
    this.detail = detail;
  }
}

/** The translated message of an error (the server's own text stays in `detail`). */
export function errorText(error) {
  if (error?.key) return t(error.key);
  if (error?.status) return t('errorStatus', { status: formatNumber(error.status) });
  return t('errorNetwork');
}

export async function getJSON(path, init) {
  let response;
  try {
    response = await fetch(url(path), init);
  } catch (e) {
    throw new RequestError(0, e.message);
  }
  if (!response.ok) {
    let detail = '';
    try { detail = (await response.json()).description || ''; } catch { /* not JSON */ }
    throw new RequestError(response.status, detail);
  }
  return response.json();
}

export const postJSON = (path, body) => getJSON(path, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});

/** The collection metadata of a layer id (or of a tile layer's `{id}_label`). */
export function metaOf(layer) {
  const id = String(layer || '').replace(/_label$/, '');
  return [state.area, state.points].find((c) => c?.id === id) || null;
}

/** The properties holding a layer's names: its name field and one per language. */
export function nameFields(meta) {
  return [...new Set([meta?.nameField, ...Object.values(meta?.names || {})].filter(Boolean))];
}

/** The properties search reads: the names and the property of other names. */
export function searchFields(meta) {
  return [...new Set([...nameFields(meta), meta?.altNames].filter(Boolean))];
}

/** `&properties=` asking for a layer's names (nothing when it has none: every property). */
export function nameProperties(meta) {
  const fields = searchFields(meta);
  return fields.length ? `&properties=${fields.map(encodeURIComponent).join(',')}` : '';
}

/** A feature's name in `lang` (or the language standing in for it), else its default name,
 * else its id. */
export function nameIn(meta, props, lang = currentLang()) {
  for (const code of languageChain(lang)) {
    const field = meta?.names?.[code];
    if (field && props?.[field]) return props[field];
  }
  return (meta?.nameField && props?.[meta.nameField]) || props?.id || '';
}

export { inLanguage };

/** The name to show under the main one: the default name when the main one is in another
 * language, else the name in the page's other language. */
export function secondName(meta, props, lang = currentLang()) {
  const first = nameIn(meta, props, lang);
  const others = [meta?.nameField && props?.[meta.nameField],
    ...Object.values(meta?.names || {}).map((f) => props?.[f])];
  return others.find((n) => n && n !== first) || '';
}

/** What one feature of a layer is called in the page's language. */
export function featureWord(meta) {
  if (meta && meta === state.points) return t('site');
  const word = inLanguage(meta?.adminWord);
  return word ? word.charAt(0).toLocaleUpperCase(currentLang()) + word.slice(1) : t('area');
}

/** The lower-case word for the area layer's features, for sentences. */
export function adminWord() {
  return inLanguage(state.area?.adminWord) || t('area').toLocaleLowerCase(currentLang());
}

/** The label of a count column in the page's language. */
export function countLabel(column) {
  return inLanguage(state.area?.countLabels?.[column])
    || inLanguage(state.points?.countLabels?.[column]) || column.replace(/_/g, ' ');
}

export function roundIndex(round = state.round) {
  return state.rounds.findIndex((r) => r.id === round);
}

export function badge() {
  return `<span class="badge synthetic" title="${escape(t('illustrativeTitle'))}">${escape(t('illustrative'))}</span>`;
}

/** A record's source as HTML: a link for a URL, the translated word for synthetic figures. */
export function sourceHtml(source, synthetic) {
  if (!source) return synthetic ? escape(t('illustrative')) : '–';
  if (/^https?:\/\//.test(source)) {
    return `<a href="${escape(source)}" target="_blank" rel="noopener noreferrer">${escape(new URL(source).hostname)}</a>`;
  }
  if (source === 'synthetic') return escape(t('illustrative'));
  return `<bdi>${escape(source)}</bdi>`;
}

/** Hooks set by the page's modules, so that they can call each other without import cycles. */
export const hooks = {};
