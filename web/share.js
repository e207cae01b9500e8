// The embed / share dialog: iframe code and a link keeping the view, round, language, count
// and layers; the URLs other map libraries need; and the downloads of every round of each
// layer as one time series (CSV or XLSX).

import { DEFAULT_LANG, currentLang, t } from './i18n.js';
import { $, escape, inLanguage, state } from './common.js';

/** The page parameters of the current view (round, language, count, layers). */
export function viewQuery({ layers = true } = {}) {
  const query = new URLSearchParams();
  if (layers && state.layers) query.set('layers', state.layers.join(','));
  query.set('round', state.round);
  if (currentLang() !== DEFAULT_LANG) query.set('lang', currentLang());
  const main = state.area || state.points;
  if (state.metric && state.metric !== main?.mainCount) query.set('metric', state.metric);
  return query;
}

export function openShare() {
  const dialog = $('share-dialog');
  const base = new URL('.', document.baseURI).href;
  const lang = currentLang();
  const round = encodeURIComponent(state.round);
  const layers = state.layers ? state.layers.join(',') : [state.area?.id, state.points?.id].filter(Boolean).join(',');
  const main = state.area || state.points;
  const query = `layers=${layers}&round=${round}${lang === DEFAULT_LANG ? '' : `&lang=${encodeURIComponent(lang)}`}${state.metric !== main?.mainCount ? `&metric=${state.metric}` : ''}`;
  const embedUrl = `${base}embed?${query}${location.hash}`;
  const iframe = `<iframe src="${embedUrl}" width="640" height="480" style="border:0" loading="lazy" title="${escape(document.title)}"></iframe>`;
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
  const series = [state.area, state.points].filter((c) => c?.rounds?.length).map((c) => `<li>
      <a href="${base}datasets/${encodeURIComponent(c.id)}/all.csv" download data-all-rounds="${escape(c.id)}">${escape(t('allRoundsCsv'))}</a> ·
      <a href="${base}datasets/${encodeURIComponent(c.id)}/all.xlsx" download>${escape(t('allRoundsXlsx'))}</a>
      <span class="muted" dir="auto">${escape(c === state.points ? t('sites') : inLanguage(c.adminWords) || c.title)}</span></li>`).join('');
  dialog.innerHTML = `<form method="dialog">
      <header><h2>${escape(t('shareTitle'))}</h2><button class="close" value="close" aria-label="${escape(t('close'))}">×</button></header>
      <p>${escape(t('shareIntro'))}</p>
      ${field('iframeCode', iframe, 3)}
      ${field(...links[0])}
      <h3>${escape(t('forOtherMaps'))}</h3>
      ${links.slice(1).map(([k, v]) => field(k, v)).join('')}
      ${series ? `<h3>${escape(t('downloads'))}</h3><ul class="all-rounds">${series}</ul>` : ''}
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
