// Search that forgives: every name of a feature (the name fields of each language and the
// layer's other names, `altNames` in its metadata, separated by `;` or `|`) and its id
// (e.g. a p-code) are folded (case, accents, Arabic diacritics and letter variants, ʿ ‘ ’)
// and matched against the query, best first: the whole name, a name's start, a word's start,
// anywhere in a name, then words within a small edit distance (so "Kiev" finds "Kyiv" and
// "Tal Fort" "Tall ‘Fort"). The input is an ARIA combobox over a listbox of options.

import { fold, formatNumber, t } from './i18n.js';
import {
  $, escape, featureWord, hooks, metaOf, nameIn, searchFields, secondName, state,
} from './common.js';

/** The search entry of a feature: its folded names, and where to show it. */
export function searchEntry(meta, id, props, place) {
  const names = [];
  for (const field of searchFields(meta)) {
    const value = props?.[field];
    if (value == null || value === '') continue;
    const parts = field === meta?.altNames ? String(value).split(/[;|]/) : [String(value)];
    for (const part of parts) if (part.trim()) names.push(fold(part));
  }
  names.push(fold(id));
  const unique = [...new Set(names.filter(Boolean))];
  return {
    layer: meta.id, id: String(id), props, names: unique,
    tokens: [...new Set(unique.flatMap((n) => n.split(' ')))], ...place,
  };
}

/** Levenshtein distance, stopping early above `max`. */
function editDistance(a, b, max) {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      best = Math.min(best, row[j]);
    }
    if (best > max) return max + 1;
    previous = row;
  }
  return previous[b.length];
}

/** How far a query word may be from a name's word. */
const allowance = (word) => (word.length >= 7 ? 2 : word.length >= 4 ? 1 : 0);

/** The rank of an entry for a folded query (lower is better), or null when it does not match. */
export function rank(entry, q) {
  if (entry.names.includes(q)) return 0;
  if (entry.names.some((n) => n.startsWith(q))) return 1;
  if (entry.names.some((n) => n.includes(` ${q}`))) return 2;
  if (entry.names.some((n) => n.includes(q))) return 3;
  // Word by word: each query word starts a word of the name or is close to one.
  let total = 0;
  for (const word of q.split(' ')) {
    const max = allowance(word);
    let best = max + 1;
    for (const token of entry.tokens) {
      if (token.startsWith(word)) { best = 0; break; }
      best = Math.min(best, editDistance(word, token, max));
      if (token.length > word.length) best = Math.min(best, editDistance(word, token.slice(0, word.length), max) + 0.5);
    }
    if (best > max) return null;
    total += best;
  }
  return 4 + total;
}

/** The best matches of a query, areas before sites among equals. */
export function findMatches(query, limit = 8) {
  const q = fold(query);
  if (!q) return [];
  const scored = [];
  for (const entry of state.names) {
    const r = rank(entry, q);
    if (r != null) scored.push({ entry, r });
  }
  const areaFirst = (e) => (e.layer === state.area?.id ? 0 : 1);
  scored.sort((a, b) => a.r - b.r || areaFirst(a.entry) - areaFirst(b.entry)
    || a.entry.names[0].length - b.entry.names[0].length);
  return scored.slice(0, limit).map((s) => s.entry);
}

export function setupSearch(map) {
  const input = $('search');
  const list = $('search-results');
  const status = $('search-status');
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-controls', list.id);
  input.setAttribute('aria-expanded', 'false');
  let matches = [];
  let active = -1;
  const setOpen = (open) => {
    list.hidden = !open;
    input.setAttribute('aria-expanded', String(open));
    if (!open) input.removeAttribute('aria-activedescendant');
  };
  const setActive = (index) => {
    active = index;
    list.querySelectorAll('li[data-index]').forEach((li, i) => li.setAttribute('aria-selected', String(i === active)));
    if (active >= 0) input.setAttribute('aria-activedescendant', `search-${active}`);
    else input.removeAttribute('aria-activedescendant');
  };
  const show = () => {
    const q = fold(input.value);
    matches = findMatches(input.value);
    list.innerHTML = matches.length ? matches.map((m, i) => `<li role="option" id="search-${i}" data-index="${i}" data-layer="${escape(m.layer)}" data-id="${escape(m.id)}" aria-selected="false">
        <span class="primary" dir="auto">${escape(nameIn(metaOf(m.layer), m.props))}</span>
        <span class="secondary" dir="auto">${escape(secondName(metaOf(m.layer), m.props))}</span>
        <span class="kind">${escape(featureWord(metaOf(m.layer)))}</span></li>`).join('')
      : `<li class="none" role="option" aria-disabled="true">${escape(t('noMatches'))}</li>`;
    setOpen(!!q);
    setActive(matches.length ? 0 : -1);
    if (status) status.textContent = q ? (matches.length ? t('resultsCount', { n: formatNumber(matches.length) }) : t('noMatches')) : '';
  };
  const choose = (m) => {
    if (!m) return;
    setOpen(false);
    input.value = nameIn(metaOf(m.layer), m.props);
    if (m.bounds) map.fitBounds(m.bounds, { padding: 40, maxZoom: 8 });
    else map.flyTo({ center: m.center, zoom: Math.max(map.getZoom(), 10) });
    hooks.openPanel(m.layer, m.id);
  };
  input.addEventListener('input', show);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (list.hidden && input.value) show();
      if (!matches.length) return;
      setActive((active + (e.key === 'ArrowDown' ? 1 : matches.length - 1)) % matches.length);
      list.querySelector(`#search-${active}`)?.scrollIntoView({ block: 'nearest' });
    } else if (e.key === 'Enter') {
      e.preventDefault();
      choose(matches[active]);
    } else if (e.key === 'Escape') {
      setOpen(false);
    }
  });
  list.addEventListener('click', (e) => {
    const li = e.target.closest('li[data-index]');
    if (li) choose(matches[Number(li.dataset.index)]);
  });
  document.addEventListener('click', (e) => { if (!e.target.closest('.search')) setOpen(false); });
}
