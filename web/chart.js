// A small bar chart of one count across rounds, as inline SVG (no charting library).
// Synthetic rounds are drawn hatched, the current round is outlined, missing rounds are gaps.

import {
  formatNumber, localDigits, roundName, t,
} from './i18n.js';

const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/**
 * @param {Array<{round: string, date?: string, label?: string, counts: object|null, synthetic?: boolean}>} rounds
 * @param {string} column count column to draw
 * @param {string} current the round shown on the map
 * @param {boolean} rtl draw the first round on the right
 * @param {string} label the count's label in the page's language
 */
export function roundsChart(rounds, column, current, rtl = false, label = column) {
  const width = 280;
  const height = 120;
  const pad = { top: 8, bottom: 22, side: 6 };
  const values = rounds.map((r) => (r.counts ? r.counts[column] ?? null : null));
  const max = Math.max(1, ...values.filter((v) => v != null));
  const slot = (width - 2 * pad.side) / Math.max(1, rounds.length);
  const barWidth = Math.max(3, slot * 0.7);
  const plotHeight = height - pad.top - pad.bottom;
  const bars = rounds.map((r, i) => {
    const v = values[i];
    const index = rtl ? rounds.length - 1 - i : i;
    const x = pad.side + index * slot + (slot - barWidth) / 2;
    const title = `<title>${escape(roundName(r))}: ${v == null ? t('noData') : formatNumber(v)}${r.synthetic ? ` (${escape(t('illustrative'))})` : ''}</title>`;
    if (v == null) {
      return `<g class="bar missing" data-round="${escape(r.round)}">${title}<rect x="${x.toFixed(1)}" y="${(height - pad.bottom - 1).toFixed(1)}" width="${barWidth.toFixed(1)}" height="1"/></g>`;
    }
    const h = Math.max(1, (v / max) * plotHeight);
    const y = height - pad.bottom - h;
    const classes = ['bar', r.synthetic ? 'synthetic' : 'published', r.round === current ? 'current' : ''].join(' ').trim();
    return `<g class="${classes}" data-round="${escape(r.round)}" data-value="${v}">${title}<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}"/></g>`;
  });
  const first = rounds[0];
  const last = rounds[rounds.length - 1];
  const year = (r) => escape(localDigits((r?.date || r?.round || '').slice(0, 4)));
  const [leftLabel, rightLabel] = rtl ? [year(last), year(first)] : [year(first), year(last)];
  return `<svg class="chart" direction="ltr" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escape(t('acrossRounds', { metric: label }))}">
<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="4" height="4" fill="#c6dbef"/><line x1="0" y1="0" x2="0" y2="4" stroke="#6baed6" stroke-width="2"/></pattern></defs>
<line class="axis" x1="${pad.side}" x2="${width - pad.side}" y1="${height - pad.bottom}" y2="${height - pad.bottom}"/>
${bars.join('\n')}
<text class="tick" x="${pad.side}" y="${height - 6}" text-anchor="start">${leftLabel}</text>
<text class="tick" x="${width - pad.side}" y="${height - 6}" text-anchor="end">${rightLabel}</text>
<text class="tick max" x="${rtl ? width - pad.side : pad.side}" y="${pad.top + 2}" text-anchor="${rtl ? 'end' : 'start'}" dominant-baseline="hanging">${escape(formatNumber(max))}</text>
</svg>`;
}
