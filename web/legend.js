// The legend: the classes of the choropleth (breaks from the server's collection metadata,
// the same the published style colours with), the site circles and the grouped-site
// circles, the total of the round and its change. It folds away behind a button (folded at
// first on small screens). Figures sit in left-to-right isolates so that their pieces keep
// their order in Arabic and Kurdish.

import {
  formatChange, formatNumber, formatSigned, isIllustrative, provenanceBadge, roundName, t,
} from './i18n.js';
import {
  $, COLORS, NO_DATA, adminWord, badge, countLabel, escape, ltr, roundIndex,
  shown, state,
} from './common.js';

const small = () => window.matchMedia('(max-width: 700px)').matches;
let folded = null; // null until the first render: folded on small screens

/** The area layer's total of the metric in a round, with its provenance, as the server
 * gives it in the collection metadata (the same answer the dashboard gives). */
function areaTotals(index) {
  const figure = state.area?.rounds?.[index]?.totals?.[state.metric];
  return { total: figure?.value ?? null, provenance: figure?.provenance, breakdown: figure?.breakdown };
}

/** The legend's classes: [{color, from, to}] with `from`/`to` null at the open ends. */
export function legendClasses() {
  const b = state.breaks[state.metric] || [];
  return Array.from({ length: b.length + 1 }, (_, i) => ({
    color: COLORS[i], from: i === 0 ? null : b[i - 1], to: i === b.length ? null : b[i],
  }));
}

export function classLabel({ from, to }) {
  if (from == null && to == null) return '';
  if (from == null) return `< ${formatSigned(to)}`;
  if (to == null) return `≥ ${formatSigned(from)}`;
  return `${formatSigned(from)} – ${formatSigned(to)}`;
}

export function legendTitle() {
  return t('legendTitle', { metric: countLabel(state.metric), admin: adminWord() });
}

export function renderLegend() {
  const el = $('legend');
  if (!el || !(state.area || state.points)) return;
  if (folded === null) folded = small();
  const areas = shown(state.area);
  const sites = shown(state.points);
  const classes = areas ? legendClasses().map((c, i) => {
    const value = (v) => (v == null ? '' : v);
    const label = c.from == null ? `< ${ltr(formatSigned(c.to))}`
      : c.to == null ? `≥ ${ltr(formatSigned(c.from))}`
        : `${ltr(formatSigned(c.from))} – ${ltr(formatSigned(c.to))}`;
    return `<li data-class="${i}" data-from="${value(c.from)}" data-to="${value(c.to)}"><span class="swatch" style="background:${c.color}"></span><span>${label}</span></li>`;
  }) : [];
  if (areas) classes.push(`<li><span class="swatch" style="background:${NO_DATA}"></span>${escape(t('noData'))}</li>`);
  const index = roundIndex();
  const now = areas ? areaTotals(index) : { total: null };
  const before = areas && index > 0 ? areaTotals(index - 1) : null;
  // A change is only real between two published figures (or sums of published ones).
  const unreal = isIllustrative(now.provenance) || isIllustrative(before?.provenance);
  const change = before?.total != null && now.total != null
    ? `<p class="change${unreal ? ' illustrative' : ''}" data-testid="legend-change">${escape(t('change', { round: roundName(state.rounds[index - 1]) }))}: ${ltr(formatChange(now.total, before.total), 'num figure')}${unreal ? ` <span class="unreal">(${escape(t('changeIllustrative'))})</span>` : ''}</p>`
    : '';
  const breakdown = now.provenance === 'published' && isIllustrative(now.breakdown)
    ? `<p class="muted">${escape(t('overBreakdown'))}</p>` : '';
  // Without areas, the sites' own figures say what they are.
  const sitesOnly = !areas && sites && state.points?.synthetic;
  const title = areas ? legendTitle() : t('sitesSized', { metric: countLabel(state.points.mainCount || state.metric) });
  el.innerHTML = `
    <div class="legend-head">
      <h2 id="legend-title">${escape(title)}</h2>
      <button type="button" class="legend-toggle" aria-expanded="${!folded}" aria-controls="legend-body"
        aria-label="${escape(t(folded ? 'showLegend' : 'hideLegend'))}" title="${escape(t(folded ? 'showLegend' : 'hideLegend'))}">${folded ? '▴' : '▾'}</button>
    </div>
    <div id="legend-body" ${folded ? 'hidden' : ''}>
    <p class="legend-round">${escape(roundName(state.rounds[index]))}</p>
    ${areas ? `<ul class="classes">${classes.join('')}</ul>` : ''}
    ${sites ? `<p class="sites-key"><span class="dot"></span>${escape(t('sitesSized', { metric: countLabel(state.points.mainCount || state.metric) }))}</p>
    <p class="sites-key cluster-key"><span class="dot cluster"></span>${escape(t('cluster'))}</p>` : ''}
    ${areas ? `<p class="total">${escape(t('nationalTotal'))}: <strong data-value="${now.total ?? ''}">${ltr(formatNumber(now.total))}</strong>
      ${provenanceBadge(now.provenance)}</p>` : ''}
    ${breakdown}
    ${change}
    ${sitesOnly ? `<p>${badge()}</p>` : ''}
    <p class="as-of">${escape(t('dataAsOf', { date: roundName(state.rounds[index]) }))}</p>
    <p class="disclaimer">${escape(t('disclaimer'))}</p>
    </div>`;
  el.dataset.folded = String(folded);
  el.querySelector('.legend-toggle').addEventListener('click', () => {
    folded = !folded;
    renderLegend();
    el.querySelector('.legend-toggle').focus();
  });
}
