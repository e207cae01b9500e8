// The dashboard page: its headline figures against /dashboard/summary, switching the round,
// filtering to a governorate from the ranking, Arabic right-to-left, the data links of each
// block, its framing headers and embeddable variant, and no request leaving 127.0.0.1.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  api, artifacts, external, launchBrowser, recordRequests, startServer,
} from './harness.js';

let server;
let browser;
let page;
let urls;
const errors = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  urls = recordRequests(browser.context);
  page = await browser.context.newPage();
  page.on('pageerror', (e) => { errors.push(e.message); console.error('page error:', e.message); });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Saves a full-page screenshot to artifacts/browser/dashboard-{name}.png. */
async function shot(name) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `dashboard-${name}.png`), fullPage: true });
}

/** Waits until the page shows `round` and `area` ('' for all). */
async function shown(round, area = '') {
  await page.waitForFunction(([r, a]) => {
    const main = document.getElementById('dashboard');
    return main.dataset.ready === 'true' && main.dataset.round === r && main.dataset.area === a;
  }, [round, area], { timeout: 30000 });
}

/** The headline figures as rendered: metric -> {value, change}. */
function figures() {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#figures [data-metric]')]
    .map((el) => [el.dataset.metric, {
      value: el.dataset.value === '' ? null : Number(el.dataset.value),
      change: el.querySelector('[data-change]') ? Number(el.querySelector('[data-change]').dataset.change) : null,
      text: el.querySelector('.value').textContent,
      badge: !!el.querySelector('.badge.synthetic'),
      provenance: el.querySelector('.source .badge')?.dataset.provenance ?? null,
      figureProvenance: el.dataset.provenance,
      changeProvenance: el.querySelector('[data-change]')?.dataset.provenance ?? null,
      unreal: !!el.querySelector('.change .unreal'),
      link: el.querySelector('.source a')?.href ?? null,
    }])));
}

/** Checks the rendered figures against a /dashboard/summary answer. */
async function sameAsSummary(summary) {
  const shownFigures = await figures();
  assert.deepEqual(Object.keys(shownFigures), summary.figures.map((f) => f.metric));
  for (const f of summary.figures) {
    const el = shownFigures[f.metric];
    assert.equal(el.value, f.value, `${f.metric} value`);
    assert.equal(el.change, f.change, `${f.metric} change`);
    if (f.value != null) {
      const digits = el.text.replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x0660));
      assert.equal(Number(digits.replace(/[^0-9]/g, '')), f.value, `${f.metric} as written`);
    }
    assert.equal(el.badge, f.synthetic, `${f.metric} illustrative badge`);
    // The server's provenance, shown as it is; a change is real only between real figures.
    assert.equal(el.provenance, f.provenance, `${f.metric} provenance badge`);
    assert.equal(el.figureProvenance, f.provenance, `${f.metric} provenance`);
    if (el.change != null) {
      assert.equal(el.changeProvenance, f.change_provenance, `${f.metric} change provenance`);
      assert.equal(el.unreal, f.change_provenance.endsWith('illustrative'), `${f.metric} change marked`);
    }
    const url = f.sources.find((s) => /^https?:/.test(s));
    if (!f.synthetic && url) assert.equal(el.link, url, `${f.metric} source link`);
  }
}

describe('the dashboard page', () => {
  it('shows the latest round\'s headline figures as /dashboard/summary gives them', async () => {
    await page.goto(`${server.base}/dashboard`, { waitUntil: 'load' });
    const summary = await api(server.base, '/dashboard/summary');
    await shown(summary.round);
    await sameAsSummary(summary);
    const metrics = summary.figures.map((f) => f.metric);
    for (const m of ['idp_individuals', 'idp_families', 'sites', 'governorates_affected']) {
      assert.ok(metrics.includes(m), m);
    }
    // The ranking: one bar per governorate, in the API's order, with its share.
    const ranking = await api(server.base, `/dashboard/ranking?round=${summary.round}`);
    const bars = await page.$$eval('#ranking-chart g.rank', (gs) => gs.map((g) => [g.dataset.id, Number(g.dataset.value), Number(g.dataset.share)]));
    assert.deepEqual(bars, ranking.ranking.map((r) => [r.id, r.value, r.share]));
    assert.ok(await page.locator('#ranking-chart svg').count() === 1, 'the ranking is SVG');
    // The trend: one point per round with a national figure.
    const trend = await api(server.base, '/dashboard/trend');
    const points = await page.$$eval('.trend-figure.national g.point', (gs) => gs.map((g) => [g.dataset.round, Number(g.dataset.value)]));
    assert.deepEqual(points, trend.trend.filter((p) => p.national != null).map((p) => [p.round, p.national]));
    // The origins table and the note that there is no full matrix.
    const origins = await api(server.base, '/dashboard/origins');
    const rows = await page.$$eval('table.origins tbody tr', (trs) => trs.map((tr) => [tr.dataset.area, Number(tr.dataset.value)]));
    assert.deepEqual(rows, origins.origins.map((o) => [o.area, o.value]));
    assert.match(await page.textContent('#origins .note'), /no complete origin × displacement matrix/);
    // Every block links its JSON and CSV, and they answer.
    const links = await page.$$eval('.data-links a', (as) => as.map((a) => a.href));
    assert.equal(links.length, 8);
    for (const link of links) {
      const response = await fetch(link);
      assert.equal(response.status, 200, link);
      assert.match(response.headers.get('content-type'), link.endsWith('f=csv') ? /text\/csv/ : /json/, link);
    }
    assert.ok(await page.locator('a[href="datasets"]').count() >= 1, 'a link to the datasets');
    await shot('1-loaded');
  });

  it('switches the round and shows that round\'s figures', async () => {
    const trend = await api(server.base, '/dashboard/trend');
    // The round with returnees (a published figure), else the third.
    let round = trend.trend[2].round;
    for (const p of trend.trend) {
      const s = await api(server.base, `/dashboard/summary?round=${p.round}`);
      if (s.figures.some((f) => f.metric === 'returnee_individuals')) { round = p.round; break; }
    }
    await page.selectOption('#round', round);
    await shown(round);
    const summary = await api(server.base, `/dashboard/summary?round=${round}`);
    assert.equal(summary.round, round);
    await sameAsSummary(summary);
    assert.equal(new URL(page.url()).searchParams.get('round'), round, 'the round is kept in the URL');
    const current = await page.$$eval('.trend-figure.national g.point.current', (gs) => gs.map((g) => g.dataset.round));
    assert.deepEqual(current, [round]);
    await shot('2-round');
  });

  it('filters the whole page to a governorate clicked in the ranking', async () => {
    const round = await page.inputValue('#round');
    const ranking = await api(server.base, `/dashboard/ranking?round=${round}`);
    const pick = ranking.ranking[1];
    await page.click(`#ranking-chart g.rank[data-id="${pick.id}"]`);
    await shown(round, pick.id);
    const summary = await api(server.base, `/dashboard/summary?round=${round}&area=${pick.id}`);
    await sameAsSummary(summary);
    assert.equal((await figures()).idp_individuals.value, pick.value, 'the figure of the bar clicked');
    assert.equal(await page.getAttribute(`#ranking-chart g.rank[data-id="${pick.id}"]`, 'aria-pressed'), 'true');
    const trend = await api(server.base, `/dashboard/trend?area=${pick.id}`);
    const points = await page.$$eval('.trend-figure.area g.point', (gs) => gs.map((g) => [g.dataset.round, Number(g.dataset.value)]));
    assert.deepEqual(points, trend.trend.filter((p) => p.area != null).map((p) => [p.round, p.area]));
    const links = await page.$$eval('.data-links[data-block="summary"] a', (as) => as.map((a) => new URL(a.href).searchParams.get('area')));
    assert.deepEqual(links, [pick.id, pick.id], 'the data links follow the filter');
    assert.equal(new URL(page.url()).searchParams.get('area'), pick.id);
    await shot('3-governorate');
    // A reload keeps the round and the governorate.
    await page.reload({ waitUntil: 'load' });
    await shown(round, pick.id);
    await sameAsSummary(summary);
    // "Show all" goes back to every governorate.
    await page.click('#show-all');
    await shown(round, '');
    await sameAsSummary(await api(server.base, `/dashboard/summary?round=${round}`));
  });

  it('shows every round\'s figures with the provenance the server gives them', async () => {
    const { trend } = await api(server.base, '/dashboard/trend');
    for (const point of trend) {
      await page.selectOption('#round', point.round);
      await shown(point.round);
      await sameAsSummary(await api(server.base, `/dashboard/summary?round=${point.round}`));
      const dot = page.locator(`.trend-figure.national g.point[data-round="${point.round}"]`);
      if (point.national != null) assert.equal(await dot.getAttribute('data-provenance'), point.national_provenance);
    }
  });

  it('switches to Arabic, right to left, with translated headings and the same figures', async () => {
    const round = await page.inputValue('#round');
    await page.selectOption('#lang', 'ar');
    await page.waitForFunction(() => document.documentElement.dir === 'rtl');
    assert.equal(await page.getAttribute('html', 'lang'), 'ar');
    assert.equal(await page.textContent('#headline-title'), 'الأرقام الرئيسية');
    assert.equal(await page.textContent('#ranking-title'), 'المحافظات حسب الأفراد النازحون');
    assert.equal(await page.textContent('#trend-title'), 'الاتجاه عبر الجولات');
    assert.equal(await page.textContent('#origins-title'), 'حسب مكان الأصل');
    assert.equal(new URL(page.url()).searchParams.get('lang'), 'ar');
    await sameAsSummary(await api(server.base, `/dashboard/summary?round=${round}`));
    // Numbers in Arabic-Indic digits; the ranking uses the Arabic names.
    assert.match(await page.textContent('#figures [data-metric="idp_individuals"] .value'), /[٠-٩]/);
    const ranking = await api(server.base, `/dashboard/ranking?round=${round}`);
    const first = await page.textContent('#ranking-chart g.rank .label');
    assert.equal(first, ranking.ranking[0].names.ar || ranking.ranking[0].name);
    // The ranking is mirrored: bars grow from the right.
    const box = await page.locator('#ranking-chart g.rank .bar-fill').first().boundingBox();
    const svg = await page.locator('#ranking-chart svg').boundingBox();
    assert.ok(box.x + box.width > svg.x + svg.width * 0.6, 'the longest bar ends on the right side');
    await shot('4-arabic');
    // Opening the page with ?lang=ar gives the same.
    await page.goto(`${server.base}/dashboard?lang=ar&round=${round}`, { waitUntil: 'load' });
    await shown(round);
    assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  });

  it('is linked from the map page, is framed only by its origin, and has an embeddable variant', async () => {
    const response = await fetch(`${server.base}/dashboard`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-frame-options'), 'SAMEORIGIN');
    assert.equal(response.headers.get('content-security-policy'), "frame-ancestors 'self'");
    const embedded = await fetch(`${server.base}/dashboard?embed=1`);
    assert.equal(embedded.headers.get('content-security-policy'), 'frame-ancestors *');
    assert.equal(embedded.headers.get('x-frame-options'), null);
    assert.match(await embedded.text(), /data-mode="embed"/);
    await page.setViewportSize({ width: 800, height: 600 });
    await page.goto(`${server.base}/dashboard?embed=1`, { waitUntil: 'load' });
    const summary = await api(server.base, '/dashboard/summary');
    await shown(summary.round);
    await sameAsSummary(summary);
    assert.equal(await page.isVisible('#open-full'), true);
    assert.equal(await page.isVisible('#datasets-link'), false, 'minimal chrome');
    await shot('5-embed');
    await page.setViewportSize({ width: 1280, height: 800 });
    // The map page's header links here and to the datasets.
    await page.goto(`${server.base}/`, { waitUntil: 'load' });
    await page.waitForFunction(() => window.dtmap && window.dtmap.map, null, { timeout: 60000 });
    await page.evaluate(() => window.dtmap.ready.then(() => true));
    assert.match(await page.getAttribute('#dashboard-link', 'href'), /^dashboard/);
    assert.equal(await page.getAttribute('#datasets-link', 'href'), 'datasets');
    await page.click('#dashboard-link');
    await page.waitForURL(/\/dashboard/);
    await shown(summary.round);
  });

  it('made no request outside 127.0.0.1 and raised no error', () => {
    assert.ok(urls.length > 0);
    assert.deepEqual(external(urls), []);
    assert.deepEqual(errors, []);
  });
});
