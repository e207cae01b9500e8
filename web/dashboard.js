// The dashboard page (/dashboard, and /dashboard?embed=1 for iframes): headline figures of a
// round with their change and provenance, the areas ranked, the trend across rounds and, when
// the data has them, the published figures by place of origin. Every figure comes from the
// /dashboard/* endpoints, whose JSON and CSV are linked next to each block; the words for the
// areas and the labels of the counts from the area layer's collection metadata. Charts are
// inline SVG. Page parameters: ?round= &area= &lang={a configured language} &embed=1

import {
  DEFAULT_LANG, addStrings, currentLang, fillLanguageMenu, formatChange, formatDate, formatNumber,
  formatPercent, inLanguage, isIllustrative, provenanceBadge,
  languageChain, languageOf, roundName, setLang, t as baseT, translatePage as baseTranslatePage,
} from './i18n.js';

// The dashboard's own strings (added to i18n.js's). `{admins}` is the area layer's plural
// word ("provinces", "states"…) from its collection metadata.
addStrings({
  en: {
    dashboard: 'Dashboard',
    mapLink: 'Map',
    datasets: 'Datasets',
    headlineTitle: 'Headline figures',
    rankingTitle: '{Admins} by {metric}',
    rankingHint: 'Click a row to show its figures.',
    rankingLabel: '{Admins} ranked by {metric}, {round}',
    trendTitle: 'Trend across rounds',
    trendNational: 'All {admins}',
    trendLabel: '{metric} across rounds: {name}',
    originsTitle: 'By place of origin',
    originsNote: 'These are the figures published by place of origin. The data has no complete origin × displacement matrix, so where the people of one place are displaced to cannot be shown.',
    originCol: 'Place of origin',
    allData: 'All the data',
    publishedFigures: 'Published figures',
    openFullDashboard: 'Open the full dashboard',
    data: 'data',
    showing: 'Showing',
    allAreas: 'all {admins}',
    showAll: 'Show all {admins}',
    sites: 'Sites',
    areasAffected: '{Admins} affected',
    returnee_individuals: 'Returnees (individuals)',
    locations: 'Locations with IDPs',
    share: '{pct} of the total',
    vsPrevious: 'vs {round}',
    noPrevious: 'No earlier round',
    noPreviousFigure: 'No figure for the previous round',
    computed: 'Computed: {what}',
    computedCount: 'Computed: number of {what} where {metric} is above zero',
    asOf: 'As of',
    value: 'Figure',
    notes: 'Notes',
    metricCol: 'Count',
    synthetic: 'illustrative',
    published: 'published',
    areas: 'areas',
  },
  ar: {
    dashboard: 'لوحة المعلومات',
    mapLink: 'الخريطة',
    datasets: 'مجموعات البيانات',
    headlineTitle: 'الأرقام الرئيسية',
    rankingTitle: '{Admins} حسب {metric}',
    rankingHint: 'انقر على صف لعرض أرقامه.',
    rankingLabel: 'ترتيب {admins} حسب {metric}، {round}',
    trendTitle: 'الاتجاه عبر الجولات',
    trendNational: 'جميع {admins}',
    trendLabel: '{metric} عبر الجولات: {name}',
    originsTitle: 'حسب مكان الأصل',
    originsNote: 'هذه هي الأرقام المنشورة حسب مكان الأصل. لا تتضمن البيانات مصفوفة كاملة للأصل × مكان النزوح، لذا لا يمكن عرض الأماكن التي نزح إليها سكان كل مكان.',
    originCol: 'مكان الأصل',
    allData: 'جميع البيانات',
    publishedFigures: 'الأرقام المنشورة',
    openFullDashboard: 'فتح لوحة المعلومات الكاملة',
    data: 'البيانات',
    showing: 'المعروض',
    allAreas: 'جميع {admins}',
    showAll: 'عرض جميع {admins}',
    sites: 'المواقع',
    areasAffected: '{Admins} المتأثرة',
    returnee_individuals: 'العائدون (أفراد)',
    locations: 'المواقع التي تضم نازحين',
    share: '{pct} من المجموع',
    vsPrevious: 'مقارنة بـ {round}',
    noPrevious: 'لا توجد جولة سابقة',
    noPreviousFigure: 'لا يوجد رقم للجولة السابقة',
    computed: 'محسوب: {what}',
    computedCount: 'محسوب: عدد {what} التي يزيد فيها {metric} على صفر',
    asOf: 'بتاريخ',
    value: 'الرقم',
    notes: 'ملاحظات',
    metricCol: 'العدد',
    synthetic: 'توضيحي',
    published: 'منشور',
    areas: 'المناطق',
  },
  ckb: {
    dashboard: 'داشبۆرد',
    mapLink: 'نەخشە',
    datasets: 'کۆمەڵە داتاکان',
    headlineTitle: 'ژمارە سەرەکییەکان',
    rankingTitle: '{Admins} بەپێی {metric}',
    rankingHint: 'کرتە لە ڕیزێک بکە بۆ پیشاندانی ژمارەکانی.',
    rankingLabel: 'ڕیزبەندی {admins} بەپێی {metric}، {round}',
    trendTitle: 'ئاراستە بە درێژایی خولەکان',
    trendNational: 'هەموو {admins}',
    trendLabel: '{metric} بە درێژایی خولەکان: {name}',
    originsTitle: 'بەپێی شوێنی بنەڕەت',
    originsNote: 'ئەمانە ئەو ژمارانەن کە بەپێی شوێنی بنەڕەت بڵاوکراونەتەوە. داتاکە خشتەیەکی تەواوی بنەڕەت × شوێنی ئاوارەبوونی تێدا نییە، بۆیە ناتوانرێت پیشان بدرێت خەڵکی هەر شوێنێک بۆ کوێ ئاوارە بوون.',
    originCol: 'شوێنی بنەڕەت',
    allData: 'هەموو داتاکان',
    publishedFigures: 'ژمارە بڵاوکراوەکان',
    openFullDashboard: 'کردنەوەی داشبۆردی تەواو',
    data: 'داتا',
    showing: 'پیشاندراو',
    allAreas: 'هەموو {admins}',
    showAll: 'پیشاندانی هەموو {admins}',
    sites: 'شوێنەکان',
    areasAffected: '{Admins}ی کاریگەربوو',
    returnee_individuals: 'گەڕاوەکان (تاک)',
    locations: 'شوێنەکانی ئاوارەکان',
    share: '{pct} لە کۆی گشتی',
    vsPrevious: 'بەراورد بە {round}',
    noPrevious: 'هیچ خولێکی پێشوو نییە',
    noPreviousFigure: 'هیچ ژمارەیەک بۆ خولی پێشوو نییە',
    computed: 'ژمێردراو: {what}',
    computedCount: 'ژمێردراو: ژمارەی {what} کە {metric} تێیاندا لە سفر زیاترە',
    asOf: 'لە بەرواری',
    value: 'ژمارە',
    notes: 'تێبینییەکان',
    metricCol: 'ژمارە',
    synthetic: 'نموونەیی',
    published: 'بڵاوکراوە',
    areas: 'ناوچەکان',
  },
});

/** A string with the area layer's words filled in: `{admins}` and `{Admins}` (capitalised). */
function t(key, vars = {}) {
  const admins = pluralWord();
  const capital = admins.charAt(0).toLocaleUpperCase(currentLang()) + admins.slice(1);
  return baseT(key, { admins, Admins: capital, ...vars });
}

/** translatePage of i18n.js, with the area words filled in. */
function translatePage() {
  baseTranslatePage();
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
}


/** The area layer's plural word ("provinces"), else "areas". */
function pluralWord() {
  return inLanguage(state.meta?.adminWords) || baseT('areas');
}

const params = new URLSearchParams(location.search);
const embed = document.body.dataset.mode === 'embed' || params.get('embed') === '1';
const $ = (id) => document.getElementById(id);
const url = (path) => new URL(path, document.baseURI).href;
const escape = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const isUrl = (s) => /^https?:\/\//i.test(s || '');

const state = {
  rounds: [], // [{round, date, label}] from /dashboard/trend
  round: null,
  area: params.get('area') || null,
  names: new Map(), // area id -> {name, names: {lang: name}}
  meta: null, // the area layer's collection metadata (words, labels)
  mainCount: null, // the count column of the ranking and trend
  summary: null,
  ranking: null,
  trend: null,
  origins: null,
  seq: 0,
};

async function getJSON(path) {
  const response = await fetch(url(path));
  if (!response.ok) {
    let message = `${response.status}`;
    try { message = (await response.json()).description || message; } catch { /* not JSON */ }
    throw new Error(message);
  }
  return response.json();
}

const query = (values) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v != null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
};

// The request paths of each block; the page and its "data: JSON · CSV" links use the same ones.
const paths = {
  summary: () => `dashboard/summary${query({ round: state.round, area: state.area })}`,
  ranking: () => `dashboard/ranking${query({ round: state.round })}`,
  trend: () => `dashboard/trend${query({ area: state.area })}`,
  origins: () => 'dashboard/origins',
};

function withFormat(path, f) {
  return `${path}${path.includes('?') ? '&' : '?'}f=${f}`;
}

// ---------------------------------------------------------------- start

setLang(params.get('lang'));
fillLanguageMenu($('lang'));
translatePage();
if (embed) document.body.dataset.mode = 'embed';

const ready = start();
window.dtmapDashboard = { state, ready, reload: () => load() };

async function start() {
  try {
    $('round').addEventListener('change', (e) => setRound(e.target.value));
    $('lang').addEventListener('change', (e) => switchLanguage(e.target.value));
    const [trend, origins, collections] = await Promise.all([
      getJSON('dashboard/trend'),
      getJSON(paths.origins()).catch(() => ({ origins: [] })),
      getJSON('collections?f=json'),
    ]);
    state.meta = collections.collections.find((c) => c.id === trend.areasLayer) || null;
    state.mainCount = trend.mainCount;
    translatePage();
    state.rounds = trend.trend.map(({ round, date, label }) => ({ round, id: round, date, label }));
    state.origins = origins;
    const wanted = params.get('round');
    state.round = state.rounds.some((r) => r.round === wanted)
      ? wanted : state.rounds[state.rounds.length - 1]?.round ?? null;
    renderRoundSelect();
    await load();
  } catch (e) {
    showError(e);
  }
  return window.dtmapDashboard;
}

/** Loads every block for the current round and area, then renders; stale answers are dropped. */
async function load() {
  const seq = ++state.seq;
  const main = $('dashboard');
  main.setAttribute('aria-busy', 'true');
  delete main.dataset.ready;
  try {
    const [summary, ranking, trend] = await Promise.all([
      getJSON(paths.summary()), getJSON(paths.ranking()), getJSON(paths.trend()),
    ]);
    if (seq !== state.seq) return;
    Object.assign(state, { summary, ranking, trend });
    for (const r of ranking.ranking) state.names.set(r.id, { name: r.name, names: r.names || {} });
    $('error').hidden = true;
    render();
    updateUrl();
    main.dataset.round = state.round ?? '';
    main.dataset.area = state.area ?? '';
    main.dataset.ready = 'true';
    main.setAttribute('aria-busy', 'false');
  } catch (e) {
    if (seq === state.seq) showError(e);
  }
}

function showError(e) {
  const el = $('error');
  el.textContent = t('error', { message: e.message });
  el.hidden = false;
  $('dashboard').setAttribute('aria-busy', 'false');
}

function setRound(round) {
  state.round = round;
  load();
}

function setArea(area) {
  state.area = area || null;
  load();
}

function switchLanguage(lang) {
  setLang(lang);
  translatePage();
  renderRoundSelect();
  if (state.summary) render();
  updateUrl();
}

function updateUrl() {
  const q = new URLSearchParams(location.search);
  if (state.round) q.set('round', state.round);
  if (state.area) q.set('area', state.area); else q.delete('area');
  if (currentLang() === DEFAULT_LANG) q.delete('lang'); else q.set('lang', currentLang());
  history.replaceState(history.state, '', `${location.pathname}?${q}`);
  const full = new URLSearchParams(q);
  full.delete('embed');
  $('open-full').href = `dashboard?${full}`;
  $('map-link').href = `./?${query({ round: state.round, lang: currentLang() === DEFAULT_LANG ? null : currentLang() }).slice(1)}`;
}

// ---------------------------------------------------------------- render

function render() {
  $('ranking-title').textContent = t('rankingTitle', { metric: metricName(state.mainCount) });
  renderFilter();
  renderDataLinks();
  renderFigures();
  renderRanking();
  renderTrend();
  renderOrigins();
}

function renderRoundSelect() {
  const select = $('round');
  select.innerHTML = state.rounds
    .map((r) => `<option value="${escape(r.round)}">${escape(roundName(r))}</option>`)
    .join('');
  if (state.round) select.value = state.round;
}

function areaName(id) {
  const n = state.names.get(id);
  if (!n) return id;
  for (const code of languageChain()) if (n.names[code]) return n.names[code];
  return n.name || id;
}

/** A count column's label from the area layer's metadata; a published metric's name; else
 * the column as written. */
function metricName(metric) {
  if (!metric) return '';
  if (metric === `${state.meta?.id}_affected`) return t('areasAffected');
  const label = inLanguage(state.meta?.countLabels?.[metric]);
  if (label) return label;
  const known = baseT(metric);
  return known !== metric ? known : metric.replace(/_/g, ' ');
}

const roundById = (id) => state.rounds.find((r) => r.round === id);

function renderFilter() {
  const el = $('filter');
  if (state.area) {
    el.innerHTML = `${escape(t('showing'))}: <strong data-area="${escape(state.area)}"><bdi>${escape(areaName(state.area))}</bdi></strong>
      <button type="button" id="show-all" class="link">${escape(t('showAll'))}</button>`;
    $('show-all').addEventListener('click', () => setArea(null));
  } else {
    el.innerHTML = `${escape(t('showing'))}: <strong>${escape(t('allAreas'))}</strong>`;
  }
}

function renderDataLinks() {
  for (const el of document.querySelectorAll('.data-links')) {
    const path = paths[el.dataset.block]();
    el.innerHTML = `${escape(t('data'))}: <a href="${escape(withFormat(path, 'json'))}" data-format="json">JSON</a> · <a href="${escape(withFormat(path, 'csv'))}" data-format="csv">CSV</a>`;
  }
}

/** Where a figure comes from: the server's provenance as a badge, the published source as
 * a link, what a computed figure counts, and, for a published total over an illustrative
 * breakdown, that. */
function sourceOf(figure) {
  const links = (figure.sources || []).filter((s) => s !== 'synthetic').map((s) => (isUrl(s)
    ? `<a href="${escape(s)}" target="_blank" rel="noopener noreferrer">${escape(t('source'))}: ${escape(new URL(s).hostname)}</a>`
    : `<span title="${escape(s)}">${escape(computedText(figure.metric, s))}</span>`));
  const breakdown = figure.provenance === 'published' && isIllustrative(figure.breakdown)
    ? `<span class="muted">${escape(t('overBreakdown'))}</span>` : '';
  return `<p class="source">${provenanceBadge(figure.provenance)} ${links.join(' · ')} ${breakdown}</p>`;
}

/** The server's "count of {layer} with {column} > 0", in the page's language. */
function computedText(metric, source) {
  const m = /^count of (\S+) with \S+ > 0$/.exec(source);
  if (!m) return t('computed', { what: source });
  const what = metric === 'sites' ? t('sites') : metric.endsWith('_affected') ? pluralWord() : m[1];
  return t('computedCount', {
    what: what.toLocaleLowerCase(currentLang()), metric: metricName(state.mainCount),
  });
}

function renderFigures() {
  const s = state.summary;
  const previous = s.previous_round ? roundById(s.previous_round) : null;
  $('headline-round').textContent = roundName(roundById(s.round));
  $('as-of').textContent = t('dataAsOf', { date: roundName(roundById(s.round)) });
  $('figures').innerHTML = s.figures.map((f) => {
    // A change is only presented as real between two real figures.
    const unreal = isIllustrative(f.change_provenance);
    const change = f.change != null && f.previous != null
      ? `<p class="change${unreal ? ' illustrative' : ''}" data-change="${f.change}" data-provenance="${escape(f.change_provenance || '')}"><bdi dir="ltr">${escape(formatChange(f.value, f.previous))}</bdi> <span class="muted">${escape(t('vsPrevious', { round: previous ? formatDate(previous.date) || previous.round : '' }))}</span>${unreal ? ` <span class="unreal">(${escape(t('changeIllustrative'))})</span>` : ''}</p>`
      : `<p class="change muted">${escape(previous ? t('noPreviousFigure') : t('noPrevious'))}</p>`;
    return `<article class="figure${isIllustrative(f.provenance) ? ' synthetic' : ''}" data-metric="${escape(f.metric)}" data-value="${f.value ?? ''}" data-provenance="${escape(f.provenance)}">
      <h3>${escape(metricName(f.metric))}</h3>
      <p class="value">${escape(formatNumber(f.value))}</p>
      ${change}
      ${sourceOf(f)}
    </article>`;
  }).join('');
}

// ---------------------------------------------------------------- ranking (SVG bars)

function renderRanking() {
  const rows = state.ranking.ranking;
  const rtl = languageOf().dir === 'rtl';
  const width = 520;
  const rowHeight = 24;
  const labelWidth = 150;
  const valueWidth = 120;
  const height = rows.length * rowHeight + 4;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const plot = width - labelWidth - valueWidth;
  const bars = rows.map((r, i) => {
    const y = i * rowHeight + 2;
    const w = Math.max(1, (r.value / max) * plot);
    const name = areaName(r.id);
    const selected = r.id === state.area;
    // Left to right: label | bar | value; mirrored in Arabic.
    const labelX = rtl ? width - 4 : labelWidth - 6;
    const labelAnchor = rtl ? 'start' : 'end';
    const barX = rtl ? width - labelWidth - w : labelWidth;
    const valueX = rtl ? width - labelWidth - w - 6 : labelWidth + w + 6;
    const valueAnchor = rtl ? 'end' : 'start';
    const share = formatPercent(r.share);
    const title = `${name}: ${formatNumber(r.value)} (${t('share', { pct: share })}) — ${t(`provenance_${r.provenance}`)}`;
    return `<g class="rank${selected ? ' selected' : ''}${isIllustrative(r.provenance) ? ' synthetic' : ''}" data-id="${escape(r.id)}" data-value="${r.value}" data-share="${r.share}" data-provenance="${escape(r.provenance)}" role="button" tabindex="0" aria-pressed="${selected}" aria-label="${escape(title)}">
<title>${escape(title)}</title>
<rect class="hit" x="0" y="${y}" width="${width}" height="${rowHeight - 2}"/>
<text class="label" x="${labelX}" y="${y + rowHeight / 2}" text-anchor="${labelAnchor}" direction="${rtl ? 'rtl' : 'ltr'}" dominant-baseline="middle">${escape(name)}</text>
<rect class="bar-fill" x="${barX.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowHeight - 8}"/>
<text class="num" x="${valueX.toFixed(1)}" y="${y + rowHeight / 2}" text-anchor="${valueAnchor}" direction="ltr" dominant-baseline="middle">${escape(formatNumber(r.value))} · ${escape(share)}</text>
</g>`;
  });
  const label = t('rankingLabel', { metric: metricName(state.mainCount), round: roundName(roundById(state.ranking.round)) });
  $('ranking-chart').innerHTML = rows.length
    ? `<svg class="dash-chart ranking-chart" direction="ltr" viewBox="0 0 ${width} ${height}" width="100%" role="group" aria-label="${escape(label)}">
<defs><pattern id="dash-hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="4" height="4" fill="#c6dbef"/><line x1="0" y1="0" x2="0" y2="4" stroke="#6baed6" stroke-width="2"/></pattern></defs>
${bars.join('\n')}</svg>
${rows.some((r) => isIllustrative(r.provenance)) ? `<p class="muted">${provenanceBadge('illustrative')} ${escape(t('provenanceTitle_illustrative'))}</p>` : ''}`
    : `<p class="muted">${escape(t('noData'))}</p>`;
  for (const g of $('ranking-chart').querySelectorAll('g.rank')) {
    const pick = () => setArea(g.dataset.id === state.area ? null : g.dataset.id);
    g.addEventListener('click', pick);
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(); }
    });
  }
}

// ---------------------------------------------------------------- trend (SVG lines)

function lineChart(points, key, name, cls) {
  const rtl = languageOf().dir === 'rtl';
  const width = 520;
  const height = 180;
  const pad = { top: 16, bottom: 24, start: 12, end: 12 };
  const values = points.map((p) => p[key]);
  const max = Math.max(1, ...values.filter((v) => v != null));
  const n = points.length;
  const xOf = (i) => {
    const index = rtl ? n - 1 - i : i;
    return pad.start + (n > 1 ? (index / (n - 1)) * (width - pad.start - pad.end) : (width - pad.start - pad.end) / 2);
  };
  const yOf = (v) => pad.top + (1 - v / max) * (height - pad.top - pad.bottom);
  // A path with gaps where a round has no figure.
  let d = '';
  let pen = false;
  points.forEach((p, i) => {
    const v = values[i];
    if (v == null) { pen = false; return; }
    d += `${pen ? 'L' : 'M'}${xOf(i).toFixed(1)},${yOf(v).toFixed(1)}`;
    pen = true;
  });
  const dots = points.map((p, i) => {
    const v = values[i];
    if (v == null) return '';
    const current = p.round === state.round;
    const provenance = key === 'national' ? p.national_provenance : p.area_provenance;
    const title = `${roundName(p)}: ${formatNumber(v)} (${t(`provenance_${provenance}`)})`;
    return `<g class="point${current ? ' current' : ''}${isIllustrative(provenance) ? ' synthetic' : ''}" data-round="${escape(p.round)}" data-value="${v}" data-provenance="${escape(provenance)}"><title>${escape(title)}</title><circle cx="${xOf(i).toFixed(1)}" cy="${yOf(v).toFixed(1)}" r="${current ? 5 : 3.5}"/></g>`;
  }).join('');
  const currentIndex = points.findIndex((p) => p.round === state.round);
  const marker = currentIndex >= 0
    ? `<line class="current-line" x1="${xOf(currentIndex).toFixed(1)}" x2="${xOf(currentIndex).toFixed(1)}" y1="${pad.top - 6}" y2="${height - pad.bottom}"/>` : '';
  const year = (p) => escape((p?.date || p?.round || '').slice(0, 4));
  const [leftLabel, rightLabel] = rtl ? [year(points[n - 1]), year(points[0])] : [year(points[0]), year(points[n - 1])];
  const label = t('trendLabel', { metric: metricName(state.mainCount), name });
  return `<figure class="trend-figure ${cls}" data-series="${escape(key)}">
<figcaption>${escape(name)}</figcaption>
<svg class="dash-chart line-chart" direction="ltr" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escape(label)}">
<line class="axis" x1="${pad.start}" x2="${width - pad.end}" y1="${height - pad.bottom}" y2="${height - pad.bottom}"/>
<line class="grid" x1="${pad.start}" x2="${width - pad.end}" y1="${pad.top}" y2="${pad.top}"/>
${marker}
<path class="line" d="${d}"/>
${dots}
<text class="tick" x="${pad.start}" y="${height - 6}" text-anchor="start">${leftLabel}</text>
<text class="tick" x="${width - pad.end}" y="${height - 6}" text-anchor="end">${rightLabel}</text>
<text class="tick max" x="${rtl ? width - pad.end : pad.start}" y="${pad.top - 4}" text-anchor="${rtl ? 'end' : 'start'}">${escape(formatNumber(max))}</text>
</svg></figure>`;
}

function renderTrend() {
  const points = state.trend.trend.map((p) => ({ ...p, id: p.round }));
  let html = lineChart(points, 'national', t('trendNational'), 'national');
  if (state.area) html += lineChart(points, 'area', areaName(state.area), 'area');
  if (points.some((p) => p.synthetic)) html += `<p class="muted">${provenanceBadge('illustrative')} ${escape(t('provenanceTitle_illustrative'))}</p>`;
  $('trend-chart').innerHTML = html;
}

// ---------------------------------------------------------------- origins

/** An area named in the published table (by id or default name), in the page's language. */
function originName(name) {
  if (state.names.has(name)) return areaName(name);
  for (const [id, n] of state.names) if (n.name === name) return areaName(id);
  return name;
}

function renderOrigins() {
  const rows = state.origins?.origins ?? [];
  const el = $('origins-table');
  $('origins').hidden = !rows.length;
  if (!rows.length) {
    el.innerHTML = '';
    return;
  }
  const body = rows.map((r) => {
    const src = isUrl(r.source) ? r.source : isUrl(r.source_url) ? r.source_url : null;
    return `<tr data-area="${escape(r.area)}" data-value="${r.value}">
      <td><bdi>${escape(originName(r.area))}</bdi></td>
      <td>${escape(metricName(r.metric))}</td>
      <td class="num">${escape(formatNumber(r.value))}</td>
      <td>${escape(formatDate(r.as_of))}</td>
      <td>${escape(r.notes || '')}</td>
      <td>${src ? `<a href="${escape(src)}" target="_blank" rel="noopener noreferrer">${escape(new URL(src).hostname)}</a>` : escape(r.source || '')}</td>
    </tr>`;
  }).join('');
  el.innerHTML = `<div class="table-wrap"><table class="sites origins">
    <thead><tr><th>${escape(t('originCol'))}</th><th>${escape(t('metricCol'))}</th><th class="num">${escape(t('value'))}</th><th>${escape(t('asOf'))}</th><th>${escape(t('notes'))}</th><th>${escape(t('source'))}</th></tr></thead>
    <tbody>${body}</tbody></table></div>`;
}
