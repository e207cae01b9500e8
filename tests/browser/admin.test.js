// The admin page end to end, on a copy of the built-in Iraq data: log in, upload an XLSX
// master list of a new round made here (two broken rows, one location moved across a
// governorate border), read the report and the diff with the expected numbers, check the
// preview map holds the draft's figures, publish, see the public map and dashboard show the
// new round, roll back, see the old one — with a loopback load running throughout that must
// see no failed request. Arabic and Kurdish leave no English string on the page.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync, copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  idle, launchBrowser, openMap, root, screenshot, startServer,
} from './harness.js';
import { workbook } from './xlsx.js';

const PASSWORD = 'a long passphrase for the test';
const NEW_ROUND = '2019-12-31';
const OLD_ROUND = '2019-10-31';

let server;
let browser;
let page;
let dir;
const errors = [];

// The master list: every site of the last round, except that one site's only row is broken
// (its figure is "n/a", so it is gone from the new round), one row has no site code, one
// site grew by 6,000 people, and one is counted in another governorate than the map's.
const geodata = join(root, 'geodata', 'iraq');
const governorateOf = Object.fromEntries(JSON.parse(readFileSync(join(geodata, 'sites.geojson'), 'utf8'))
  .features.map((f) => [f.properties.site_id, f.properties.governorate]));
const last = readFileSync(join(geodata, 'site_counts.csv'), 'utf8').trim().split('\n').slice(1)
  .map((line) => line.split(',')).filter((cells) => cells[1] === OLD_ROUND)
  .map(([id, , families, individuals]) => ({ id, families: Number(families), individuals: Number(individuals) }));
const byGovernorate = (rows) => rows.reduce((sums, r) => {
  const g = r.area || governorateOf[r.id];
  sums[g] = (sums[g] || 0) + r.individuals;
  return sums;
}, {});
const sorted = [...last].sort((a, b) => b.individuals - a.individuals);
const moved = sorted.find((r) => governorateOf[r.id] === 'IQG01');
const grown = sorted.find((r) => governorateOf[r.id] === 'IQG08');
const broken = sorted.find((r) => governorateOf[r.id] === 'IQG15');
const MOVED_TO = 'IQG07';
const newRows = last.filter((r) => r !== broken).map((r) => ({
  ...r,
  individuals: r === grown ? r.individuals + 6000 : r.individuals,
  area: r === moved ? MOVED_TO : governorateOf[r.id],
}));
const sheetRows = [
  ['site_id', 'governorate', 'idp_families', 'idp_individuals'],
  ...newRows.map((r) => [r.id, r.area, r.families, r.individuals]),
];
// The broken rows: rows 3 and 7 of the sheet (the header is row 1).
sheetRows.splice(2, 0, ['', 'IQG02', 10, 60]);
sheetRows.splice(6, 0, [broken.id, governorateOf[broken.id], broken.families, 'n/a']);
const BROKEN_ROWS = [3, 7];
const totalBefore = last.reduce((s, r) => s + r.individuals, 0);
const totalAfter = newRows.reduce((s, r) => s + r.individuals, 0);
const areasBefore = byGovernorate(last.map((r) => ({ ...r, area: null })));
const areasAfter = byGovernorate(newRows);

// A loopback load on the public endpoints for the whole test: four clients, each request
// waited for, stopped by the test (and by itself after ten minutes at most).
const load = { requests: 0, failures: [], stop: false };
const PUBLIC = [
  '/health', '/dashboard/summary', '/collections/sites/items?limit=20', '/collections/governorates/items?limit=5',
  '/tiles/governorates/5/20/12', '/tiles/sites/6/40/25', '/collections/governorates', '/',
];
function startLoad(base) {
  const started = Date.now();
  const client = async (n) => {
    for (let i = n; !load.stop && Date.now() - started < 600000; i += 1) {
      const path = PUBLIC[i % PUBLIC.length];
      try {
        const response = await fetch(base + path);
        await response.arrayBuffer();
        if (!response.ok && response.status !== 204) load.failures.push(`${path}: ${response.status}`);
      } catch (e) {
        load.failures.push(`${path}: ${e.message}`);
      }
      load.requests += 1;
    }
  };
  load.done = Promise.all([0, 1, 2, 3].map(client));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dtmap-admin-'));
  for (const name of readdirSync(geodata)) copyFileSync(join(geodata, name), join(dir, name));
  const binary = process.env.DTMAP_BINARY || join(root, 'target', 'release', 'dtmap');
  const hashed = spawnSync(binary, ['admin', 'hash-password'], { input: `${PASSWORD}\n`, encoding: 'utf8' });
  assert.equal(hashed.status, 0, hashed.stderr);
  appendFileSync(join(dir, 'dtmap.toml'), `\n[admin]\ndata_dir = "published"\n\n[[admin.user]]\nname = "amina"\npassword_hash = "${hashed.stdout.trim()}"\n`);
  server = await startServer(['--config', join(dir, 'dtmap.toml')]);
  startLoad(server.base);
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => { errors.push(e.message); console.error('page error:', e.message); });
});

after(async () => {
  load.stop = true;
  await load.done;
  await browser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The cells of the table row `selector` as numbers (digits only, sign kept). */
async function rowNumbers(selector) {
  return page.$$eval(`${selector} td`, (cells) => cells.slice(1).map((c) => {
    const text = c.textContent.replace(/[^\d+−-]/g, '').replace('−', '-');
    return text === '' ? null : Number(text);
  }));
}

/** The texts on the page in Latin letters, outside data (ids, names, file names, the
 * server's report) and the language menu. */
function english() {
  return page.evaluate(() => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!el || el.closest('.title, .data, select, script, style, noscript, .maplibregl-ctrl-attrib') || !el.checkVisibility()) continue;
      if (/[A-Za-z]{2,}/.test(node.data)) out.push(node.data.trim());
    }
    for (const el of document.querySelectorAll('[aria-label], [placeholder], [title]')) {
      for (const a of ['aria-label', 'placeholder', 'title']) {
        const v = el.getAttribute(a);
        if (v && /[A-Za-z]{2,}/.test(v) && el.checkVisibility() && !el.closest('.maplibregl-ctrl-attrib')) out.push(v);
      }
    }
    return out;
  });
}

describe('the admin page', () => {
  it('refuses a wrong password, then logs in', async () => {
    await page.goto(`${server.base}/admin`, { waitUntil: 'load' });
    await page.locator('#login-form').waitFor();
    await page.fill('#user', 'amina');
    await page.fill('#password', 'wrong');
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction(() => !document.getElementById('error').hidden);
    assert.match(await page.textContent('#error'), /Wrong user name or password/);
    await page.fill('#password', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.locator('#work').waitFor();
    assert.match(await page.textContent('#who'), /amina/);
  });

  it('uploads a master list and shows its report and its diff with the expected numbers', async () => {
    await page.setInputFiles('#file', {
      name: 'master-list-round-113.xlsx',
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer: workbook('Master list', sheetRows),
    });
    await page.fill('#round-id', NEW_ROUND);
    await page.fill('#round-label', '113');
    await page.fill('#round-date', NEW_ROUND);
    await page.fill('#source', 'DTM Iraq master list');
    await page.check('#illustrative');
    await page.check('#skip-bad-rows');
    await page.click('#upload-button');
    await page.locator('#draft').waitFor({ timeout: 60000 });
    const draft = await page.evaluate(() => window.dtmapAdmin.draft);
    assert.equal(draft.errors, 0);
    assert.equal(draft.publishable, true);
    // The report: both broken rows, by sheet and row, in plain words.
    const report = await page.textContent('#report');
    assert.match(report, /master-list-round-113\.xlsx/);
    assert.match(report, /Master list/);
    const rows = draft.report.problems.filter((p) => p.row).map((p) => p.row).sort((a, b) => a - b);
    assert.deepEqual(rows, BROKEN_ROWS);
    assert.match(report, /not a number/);
    assert.match(report, /code is empty/);
    // The national totals before and after.
    assert.deepEqual(await rowNumbers('#diff-totals tr[data-column="idp_individuals"]'),
      [totalBefore, totalAfter, totalAfter - totalBefore]);
    assert.equal(totalAfter - totalBefore, 6000 - broken.individuals);
    // One location gone (the broken row's), none added, one moved across a border.
    assert.match(await page.textContent('#diff-gone'), new RegExp(`: 1\\b`));
    assert.match(await page.textContent('#diff-added'), /: 0\b/);
    assert.deepEqual(draft.diff.gone.map((g) => g.id), [broken.id]);
    assert.deepEqual(draft.diff.moved, [{ id: moved.id, from: 'IQG01', to: MOVED_TO }]);
    assert.equal(await page.locator(`#diff-moved li[data-id="${moved.id}"]`).count(), 1);
    // Per area: the governorate the site left, the one it joined, the one that grew.
    for (const [code, note] of [['IQG01', 'left'], [MOVED_TO, 'joined'], ['IQG08', 'grew'], ['IQG15', 'lost the broken row']]) {
      assert.deepEqual(await rowNumbers(`#diff-areas tr[data-id="${code}"]`),
        [areasBefore[code], areasAfter[code], areasAfter[code] - areasBefore[code]], `${code} (${note})`);
    }
    assert.equal(areasAfter[MOVED_TO] - areasBefore[MOVED_TO], moved.individuals);
    // The largest increase is the site that grew; the largest decrease the one gone.
    assert.equal(draft.diff.increases[0].id, grown.id);
    assert.equal(await page.locator(`#diff-increases tr[data-id="${grown.id}"]`).count(), 1);
    // The preview map shows the draft's figures, not the public ones.
    await page.waitForFunction(() => window.dtmapAdmin.map?.loaded(), null, { timeout: 60000 });
    const previewed = await page.evaluate(([id]) => {
      const f = window.dtmapAdmin.figures.features.find((x) => x.id === id);
      return { count: window.dtmapAdmin.figures.features.length, value: f.properties.idp_individuals };
    }, [grown.id]);
    assert.equal(previewed.count, newRows.length + 18);
    assert.equal(previewed.value, grown.individuals + 6000);
    const drawn = await page.evaluate(() => new Promise((resolve) => {
      const { map } = window.dtmapAdmin;
      const count = () => map.queryRenderedFeatures({ layers: ['draft-sites', 'draft-areas'] }).length;
      if (map.loaded() && count() > 0) resolve(count()); else map.once('idle', () => resolve(count()));
    }));
    assert.ok(drawn > 0, 'the preview draws the draft');
    await screenshot(page, 'admin-draft');
  });

  it('leaves no English string on the page in Arabic and Kurdish', async () => {
    try {
      for (const code of ['ar', 'ckb']) {
        await page.selectOption('#lang', code);
        assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
        const left = await english();
        if (left.length) await screenshot(page, `admin-english-${code}`);
        assert.deepEqual(left, [], `English in ${code} mode`);
      }
    } finally {
      await page.selectOption('#lang', 'en');
    }
  });

  it('publishes: the public map and dashboard show the new round', async () => {
    await page.click('#publish');
    await page.locator('#versions-list tr[data-version="2"] .current').waitFor({ timeout: 60000 })
      .catch(async (e) => { throw new Error(`${e.message}: ${await page.textContent('#error')}`); });
    assert.match(await page.textContent('#error'), /Version 2 is published/);
    assert.equal(await page.locator('#versions-list tr[data-version="2"] .current').count(), 1);
    // A new visitor (data answers may be kept by a browser for server.cache_max_age).
    const visitor = await launchBrowser();
    const publicPage = await visitor.context.newPage();
    await openMap(publicPage, server.base, '/');
    assert.equal(await publicPage.evaluate(() => window.dtmap.state.round), NEW_ROUND);
    await publicPage.goto(`${server.base}/dashboard`, { waitUntil: 'load' });
    await publicPage.waitForFunction((r) => document.getElementById('dashboard').dataset.round === r
      && document.getElementById('dashboard').dataset.ready === 'true', NEW_ROUND, { timeout: 30000 });
    const figure = await publicPage.$eval('#figures [data-metric="idp_individuals"]', (el) => Number(el.dataset.value));
    assert.equal(figure, totalAfter);
    await screenshot(publicPage, 'admin-published-dashboard');
    await visitor.close();
  });

  it('rolls back: the public map and dashboard show the old round again', async () => {
    await page.click('#versions-list button[data-rollback="1"]');
    await page.locator('#versions-list tr[data-version="1"] .current').waitFor({ timeout: 60000 });
    assert.match(await page.textContent('#error'), /Version 1 is served again/);
    const visitor = await launchBrowser();
    const publicPage = await visitor.context.newPage();
    await openMap(publicPage, server.base, '/');
    assert.equal(await publicPage.evaluate(() => window.dtmap.state.round), OLD_ROUND);
    await idle(publicPage);
    await publicPage.goto(`${server.base}/dashboard`, { waitUntil: 'load' });
    await publicPage.waitForFunction((r) => document.getElementById('dashboard').dataset.round === r
      && document.getElementById('dashboard').dataset.ready === 'true', OLD_ROUND, { timeout: 30000 });
    const figure = await publicPage.$eval('#figures [data-metric="idp_individuals"]', (el) => Number(el.dataset.value));
    assert.equal(figure, totalBefore);
    await visitor.close();
    // The audit log on the page: upload, publish, rollback, the failed login.
    const actions = await page.$$eval('#audit-list tbody tr td:nth-child(3)', (cells) => cells.map((c) => c.textContent));
    for (const action of ['upload', 'publish', 'rollback', 'failed login']) assert.ok(actions.includes(action), `${action} in ${actions}`);
  });

  it('saw no failed request under the load, and no page error', async () => {
    load.stop = true;
    await load.done;
    console.log(`loopback load: ${load.requests} requests, ${load.failures.length} failed`);
    assert.ok(load.requests > 100, `${load.requests} requests`);
    assert.deepEqual(load.failures, []);
    assert.deepEqual(errors, []);
  });
});
