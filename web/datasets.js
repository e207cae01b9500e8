// The datasets page in the page's language (`?lang=`): the server writes the list in
// English and Arabic, readable without scripts; this rewrites it from `/datasets?f=json`
// with the interface strings of the page's language, its digits and direction, and the
// round names the map uses. Titles, descriptions, sources and licences are the data's own.

import {
  DEFAULT_LANG, currentLang, fillLanguageMenu, formatDate, languageOf, localDigits, setLang, t,
} from './i18n.js';

const params = new URLSearchParams(location.search);
const FORMATS = { geojson: 'GeoJSON', csv: 'CSV', xlsx: 'XLSX' };
const escape = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
})[c]);

function roundText(round) {
  if (round.round === 'latest') return t('latestRound');
  if (round.round === 'all') return t('allData');
  const date = formatDate(round.round) || round.round;
  return round.label ? `${date} · ${t('roundOf', { label: localDigits(round.label) })}` : date;
}

function render(listing) {
  const lang = currentLang() === DEFAULT_LANG ? '' : `?lang=${encodeURIComponent(currentLang())}`;
  const main = document.getElementById('datasets');
  main.innerHTML = `
    <header class="datasets-head">
      <h1>${escape(t('datasets'))}</h1>
      <p><a href="./${lang}">${escape(t('map'))}</a> · <a href="dashboard${lang}">${escape(t('dashboard'))}</a>
        <select id="lang" aria-label="${escape(t('language'))}"></select></p>
    </header>
    ${listing.datasets.map((d) => `<section data-layer="${escape(d.layer)}">
      <h2 class="data" dir="auto">${escape(d.title)}</h2>
      <p class="data" dir="auto">${escape(d.description)}</p>
      <p class="meta"><b>${escape(t('source'))}:</b> <span class="data" dir="auto">${escape(d.attribution)}</span><br>
        <b>${escape(t('licence'))}:</b> <span class="data" dir="auto">${escape(d.licence || '–')}</span></p>
      ${d.synthetic ? `<p class="badge">${escape(t('illustrativeTitle'))}</p>` : ''}
      ${d.allRounds ? `<p class="all-rounds"><a href="${escape(d.allRounds.csv)}" download>${escape(t('allRoundsCsv'))}</a> ·
        <a href="${escape(d.allRounds.xlsx)}" download>${escape(t('allRoundsXlsx'))}</a></p>` : ''}
      <table><thead><tr><th scope="col">${escape(t('round'))}</th><th scope="col">GeoJSON</th><th scope="col">CSV</th><th scope="col">XLSX</th></tr></thead>
      <tbody>${d.rounds.map((r) => `<tr data-round="${escape(r.round)}"><td>${escape(roundText(r))}</td>
        ${Object.entries(FORMATS).map(([ext, name]) => `<td><a href="${escape(r.files[ext])}">${name}</a></td>`).join('')}</tr>`).join('')}</tbody></table>
    </section>`).join('')}`;
  const menu = document.getElementById('lang');
  fillLanguageMenu(menu);
  menu.addEventListener('change', () => {
    setLang(menu.value);
    const query = new URLSearchParams(location.search);
    if (currentLang() === DEFAULT_LANG) query.delete('lang'); else query.set('lang', currentLang());
    history.replaceState(null, '', `${location.pathname}${query.size ? `?${query}` : ''}`);
    render(listing);
  });
  document.documentElement.dir = languageOf().dir === 'rtl' ? 'rtl' : 'ltr';
  main.dataset.ready = 'true';
}

setLang(params.get('lang'));
fetch('datasets?f=json').then((r) => r.json()).then(render).catch(() => {
  document.getElementById('datasets').dataset.ready = 'error';
});
