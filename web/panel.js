// The panel of one feature: its names, its counts in the round shown with the change since
// the round before, the source, a chart across rounds and, for an area, the query of the
// sites in it. A site shown in the panel is marked on the map with a ring. On a phone the
// panel and the query results are bottom sheets; the one opened last is in front.

import { roundsChart } from './chart.js';
import {
  formatChange, formatNumber, isIllustrative, languageOf, provenanceBadge, roundName, t,
} from './i18n.js';
import {
  $, SOURCE, countLabel, embed, errorText, escape, featureWord, getJSON, hooks, ltr,
  metaOf, nameIn, roundIndex, secondName, sourceHtml, state,
} from './common.js';

const MARK = 'marked-site';
const EMPTY = { type: 'FeatureCollection', features: [] };

/** The source and layer of the ring round the site shown in the panel (below the drawn
 * shape), added when a site is first marked. */
function installMark(map) {
  if (map.getSource(MARK)) return;
  map.addSource(MARK, { type: 'geojson', data: EMPTY });
  map.addLayer({
    id: MARK, type: 'circle', source: MARK,
    paint: {
      'circle-radius': 14, 'circle-color': 'rgba(0,0,0,0)',
      'circle-stroke-color': '#000000', 'circle-stroke-width': 3,
    },
  }, map.getLayer('draw-fill') ? 'draw-fill' : undefined);
}

function mark(geometry) {
  const { map } = window.dtmap;
  const point = geometry?.type === 'Point';
  if (!point && !map.getSource(MARK)) return;
  installMark(map);
  map.getSource(MARK).setData(point ? { type: 'Feature', properties: {}, geometry } : EMPTY);
}

/** Which bottom sheet is in front on a phone: 'panel' or 'results'. */
export function front(sheet) {
  document.querySelector('.main')?.setAttribute('data-front', sheet);
}

export async function openPanel(layer, id) {
  state.panel = { layer, id };
  const map = window.dtmap.map;
  if (state.area && layer === state.area.id) {
    map.removeFeatureState({ source: SOURCE, sourceLayer: layer });
    map.setFeatureState({ source: SOURCE, sourceLayer: layer, id }, { selected: true });
  } else if (state.area) {
    map.removeFeatureState({ source: SOURCE, sourceLayer: state.area.id });
  }
  mark(null);
  const panel = $('panel');
  panel.hidden = false;
  front('panel');
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
    panel.innerHTML = `<p class="error">${escape(errorText(error))}</p>`;
  }
}

export function closePanel() {
  state.panel = null;
  const panel = $('panel');
  panel.hidden = true;
  panel.innerHTML = '';
  if (!$('results')?.hidden) front('results');
  mark(null);
  if (state.area) window.dtmap.map.removeFeatureState({ source: SOURCE, sourceLayer: state.area.id });
}

export function renderPanel() {
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
  if (!isArea) mark(data.geometry);
  const unrealChange = before && (isIllustrative(now?.provenance) || isIllustrative(before.provenance));
  const rows = (data.countColumns || state.metrics).map((column) => {
    const v = now?.counts?.[column];
    const b = before?.counts?.[column];
    const change = v != null && b != null ? formatChange(v, b) : '';
    return `<tr data-field="${escape(column)}"><th scope="row">${escape(countLabel(column))}</th>
      <td class="value" data-value="${v ?? ''}">${ltr(formatNumber(v))}</td>
      <td class="delta">${change ? ltr(change, 'num figure') : ''}</td></tr>`;
  }).join('');
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
    <p class="source">${escape(t('source'))}: ${sourceHtml(now?.source, now?.synthetic)}</p>
    <figure>
      ${roundsChart(data.rounds, state.metric, state.round, rtl, countLabel(state.metric))}
      <figcaption>${escape(t('acrossRounds', { metric: countLabel(state.metric) }))}</figcaption>
    </figure>
    ${isArea && state.points && !embed ? `<button type="button" class="area-query">${escape(t('sitesInName', { name: primary }))}</button>` : ''}`;
  $('panel').querySelector('.close').addEventListener('click', closePanel);
  $('panel').querySelector('.area-query')?.addEventListener('click', () => {
    hooks.draw?.show(data.geometry);
    hooks.runQuery({ kind: 'area', area: `${layer}/${id}`, name: primary, geometry: data.geometry });
  });
}
