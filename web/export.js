// The current view as an image for a report: the map at twice its size on screen, with the
// title, the round, the legend, the sources and a disclaimer drawn over it in the page's
// language and direction, as a PNG. Printing uses the print stylesheet (style.css).

import { currentLang, languageOf, roundName, t } from './i18n.js';
import {
  CLUSTER, NO_DATA, SITE, countLabel, roundIndex, shown, state,
} from './common.js';
import { classLabel, legendClasses, legendTitle } from './legend.js';

const SCALE = 2;
const strip = (s) => String(s).replace(/[\u200e\u200f\u061c]/g, '');

/** The map canvas, drawn at `SCALE` device pixels per CSS pixel, as an image. */
async function mapImage(map) {
  const before = map.getPixelRatio();
  if (before !== SCALE) {
    map.setPixelRatio(SCALE);
    await new Promise((resolve) => map.once('idle', resolve));
  }
  // Read the canvas in the frame that drew it (the drawing buffer is not kept).
  const canvas = document.createElement('canvas');
  await new Promise((resolve) => {
    map.once('render', () => {
      const source = map.getCanvas();
      canvas.width = source.width;
      canvas.height = source.height;
      canvas.getContext('2d').drawImage(source, 0, 0);
      resolve();
    });
    map.triggerRepaint();
  });
  if (before !== SCALE) map.setPixelRatio(before);
  return canvas;
}

/** Lines of text wrapped to `width` pixels. */
function wrap(ctx, text, width) {
  const lines = [];
  let line = '';
  for (const word of String(text).split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (line && ctx.measureText(next).width > width) { lines.push(line); line = word; } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

/** Draws the image; resolves to {blob, width, height, legend: {x, y, w, h}} (image pixels). */
export async function exportImage() {
  const map = window.dtmap.map;
  const shot = await mapImage(map);
  const { width, height } = shot;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(shot, 0, 0);
  const rtl = languageOf().dir === 'rtl';
  ctx.direction = rtl ? 'rtl' : 'ltr';
  ctx.textAlign = 'start';
  ctx.textBaseline = 'top';
  const font = (px, bold = false) => `${bold ? '600 ' : ''}${px * SCALE}px system-ui, "Noto Sans", "Noto Sans Arabic", sans-serif`;
  const pad = 8 * SCALE;
  const x = (left, w = 0) => (rtl ? width - left - w : left); // a box's left edge, mirrored
  const tx = (left, w) => (rtl ? x(left, w) + w - pad : left + pad); // where its text starts
  const box = (left, top, w, h) => {
    ctx.fillStyle = 'rgba(255,255,255,0.92)';
    ctx.fillRect(x(left, w), top, w, h);
    ctx.strokeStyle = '#5f6368';
    ctx.lineWidth = SCALE;
    ctx.strokeRect(x(left, w), top, w, h);
  };

  // Title and round.
  const title = document.querySelector('.title')?.textContent?.trim() || document.title;
  const titleW = Math.min(width - 2 * pad, 520 * SCALE);
  ctx.font = font(16, true);
  const titleLines = wrap(ctx, title, titleW - 2 * pad);
  const roundText = `${strip(roundName(state.rounds[roundIndex()]))} · ${countLabel(state.metric)}`;
  const titleH = pad * 2 + titleLines.length * 20 * SCALE + 18 * SCALE;
  box(pad, pad, titleW, titleH);
  ctx.fillStyle = '#222222';
  titleLines.forEach((line, i) => ctx.fillText(line, tx(pad, titleW), pad * 2 + i * 20 * SCALE));
  ctx.font = font(13);
  ctx.fillStyle = '#3c4043';
  ctx.fillText(roundText, tx(pad, titleW), pad * 2 + titleLines.length * 20 * SCALE);

  // Sources and disclaimer, at the bottom.
  const sources = [state.area, state.points].filter(shown).map((c) => c.attribution).filter(Boolean);
  const synthetic = state.area?.synthetic || state.points?.synthetic;
  const foot = [
    `${t('source')}: ${sources.join(' ')}`,
    synthetic ? `${t('illustrative')}: ${t('illustrativeTitle')}` : '',
    t('disclaimer'),
  ].filter(Boolean);
  ctx.font = font(10);
  const footLines = foot.flatMap((p) => wrap(ctx, p, width - 4 * pad));
  const footH = pad * 2 + footLines.length * 13 * SCALE;
  box(0, height - footH, width, footH);
  ctx.fillStyle = '#3c4043';
  footLines.forEach((line, i) => ctx.fillText(line, tx(0, width), height - footH + pad + i * 13 * SCALE));

  // The legend, above the foot at the start side.
  const rows = [];
  if (shown(state.area)) {
    for (const c of legendClasses()) rows.push({ color: c.color, text: strip(classLabel(c)) });
    rows.push({ color: NO_DATA, text: t('noData') });
  }
  if (shown(state.points)) {
    rows.push({ dot: SITE, text: t('sitesSized', { metric: countLabel(state.points.mainCount || state.metric) }) });
    rows.push({ dot: CLUSTER, text: t('cluster') });
  }
  ctx.font = font(13, true);
  const legendHead = shown(state.area) ? legendTitle() : '';
  const legendW = Math.min(width / 2, 300 * SCALE);
  const headLines = legendHead ? wrap(ctx, legendHead, legendW - 2 * pad) : [];
  const rowH = 18 * SCALE;
  const legendH = pad * 2 + headLines.length * 17 * SCALE + rows.length * rowH;
  const legend = { x: x(pad, legendW), y: height - footH - pad - legendH, w: legendW, h: legendH };
  box(pad, legend.y, legendW, legendH);
  ctx.fillStyle = '#222222';
  headLines.forEach((line, i) => ctx.fillText(line, tx(pad, legendW), legend.y + pad + i * 17 * SCALE));
  ctx.font = font(12);
  rows.forEach((row, i) => {
    const top = legend.y + pad + headLines.length * 17 * SCALE + i * rowH;
    const swatchLeft = rtl ? legend.x + legendW - pad - 18 * SCALE : legend.x + pad;
    if (row.color) {
      ctx.fillStyle = row.color;
      ctx.fillRect(swatchLeft, top + 2 * SCALE, 18 * SCALE, 12 * SCALE);
      ctx.strokeStyle = '#5f6368';
      ctx.strokeRect(swatchLeft, top + 2 * SCALE, 18 * SCALE, 12 * SCALE);
    } else {
      ctx.fillStyle = row.dot;
      ctx.beginPath();
      ctx.arc(swatchLeft + 9 * SCALE, top + 8 * SCALE, 6 * SCALE, 0, Math.PI * 2);
      ctx.fill();
    }
    ctx.fillStyle = '#222222';
    ctx.fillText(row.text, rtl ? swatchLeft - 6 * SCALE : swatchLeft + 24 * SCALE, top);
  });
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  return { blob, width, height, legend };
}

/** Saves the image of the view as a PNG file. */
export async function downloadImage() {
  const { blob } = await exportImage();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `dtmap-${state.round}-${state.metric}-${currentLang()}.png`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}
