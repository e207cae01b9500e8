// The map page: offline loading, rendering of the choropleth and the sites, panels, the
// round slider, search, Arabic right-to-left mode and the embed/share dialog.

import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  api, artifacts, external, idle, launchBrowser, mapReady, openMap, recordRequests, rendered,
  screenshot, startServer, toPage,
} from './harness.js';

let server;
let browser;
let page;
let urls;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  urls = recordRequests(browser.context);
  page = await browser.context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Properties of rendered features by feature id (features repeat across tiles). */
const byId = (features) => new Map(features.map((f) => [String(f.id), f.properties]));

describe('the map page', () => {
  it('loads in Chromium with no request leaving 127.0.0.1, and logs its load time', async (t) => {
    const cold = await openMap(page, server.base);
    assert.deepEqual(external(urls), [], 'requests to other hosts');
    const paths = urls.map((u) => new URL(u).pathname);
    assert.ok(paths.some((p) => p.endsWith('/vendor/maplibre-gl.mjs')), 'MapLibre from the server');
    assert.ok(paths.some((p) => p.endsWith('/vendor/maplibre-gl-worker.mjs')), 'its worker from the server');
    // The page prefetches the worker at the very URL MapLibre then asks for it.
    const prefetched = await page.evaluate(() => document.querySelector('link[rel=prefetch]').href);
    assert.match(prefetched, /maplibre-gl-worker\.mjs\?v=/);
    assert.ok(urls.filter((u) => u === prefetched).length >= 2, `the worker at ${prefetched}, prefetched and started`);
    assert.ok(paths.some((p) => p.startsWith('/tiles/')), 'vector tiles');
    assert.ok(paths.some((p) => p.startsWith('/fonts/')), 'glyphs');
    // A second load, with the browser's cache warm, as a returning user sees it.
    await page.reload({ waitUntil: 'load' });
    await mapReady(page);
    const warm = await page.evaluate(() => window.dtmap.state.timings);
    assert.deepEqual(external(urls), []);
    const figures = {
      cold_load_ms: Math.round(cold.load),
      cold_idle_ms: Math.round(cold.idle),
      warm_load_ms: Math.round(warm.load),
      warm_idle_ms: Math.round(warm.idle),
      requests_first_load: urls.length,
    };
    t.diagnostic(`page load on loopback (ms from navigation): map 'load' ${figures.cold_load_ms} cold / ${figures.warm_load_ms} warm; map 'idle' ${figures.cold_idle_ms} cold / ${figures.warm_idle_ms} warm`);
    console.log('page load figures:', JSON.stringify(figures));
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'timings.json'), `${JSON.stringify(figures, null, 2)}\n`);
    await screenshot(page, '01-loaded');
  });

  it('renders the governorate choropleth and the sites from the tiles, with the API counts', async () => {
    const { round, features } = await api(server.base, '/collections/governorates/items?properties=idp_individuals,idp_families&limit=100');
    const governorates = byId(await rendered(page, 'governorates-fill'));
    assert.deepEqual([...governorates.keys()].sort(), features.map((f) => f.id).sort(), 'every governorate drawn');
    for (const f of features) {
      assert.equal(governorates.get(f.id).idp_individuals, f.properties.idp_individuals, f.id);
    }
    const sites = await rendered(page, 'sites-circle');
    assert.ok(sites.length > 20, `sites drawn: ${sites.length}`);
    const single = sites.filter((s) => s.properties.point_count == null);
    assert.ok(single.length > 0, 'some sites drawn on their own');
    const items = await api(server.base, `/collections/sites/items?round=${round}&limit=10000`);
    const apiSites = new Map(items.features.map((f) => [f.id, f.properties]));
    for (const s of single) {
      assert.equal(s.properties.idp_families, apiSites.get(String(s.id)).idp_families, String(s.id));
    }
    const legend = await page.locator('#legend').innerText();
    assert.match(legend, /IDP individuals by governorate/);
    // The national total with the server's provenance: published, over an illustrative
    // breakdown; the round's date and the boundary disclaimer.
    const meta = await api(server.base, '/collections/governorates');
    const total = meta.rounds.at(-1).totals.idp_individuals;
    assert.equal(total.provenance, 'published');
    assert.equal(await page.locator('#legend .total .badge').getAttribute('data-provenance'), 'published');
    assert.equal(Number(await page.locator('#legend .total strong').getAttribute('data-value')), total.value);
    assert.match(legend, /The total is published; its breakdown is illustrative/);
    assert.match(legend, /Data as of/);
    assert.match(legend, /do not imply official endorsement or acceptance/);
  });

  it('opens a site panel with its names, counts, source and a chart across rounds', async () => {
    await page.evaluate(() => window.dtmap.map.jumpTo({ center: [44.4, 33.3], zoom: 11 }));
    await idle(page);
    const site = await page.evaluate(() => {
      const { map } = window.dtmap;
      const features = map.queryRenderedFeatures({ layers: ['sites-circle'] })
        .filter((f) => f.properties.point_count == null);
      // One whose centre is not covered by another site, nor by the legend or a panel.
      const box = map.getCanvas().getBoundingClientRect();
      for (const f of features) {
        const p = map.project(f.geometry.coordinates);
        const top = map.queryRenderedFeatures(p, { layers: ['sites-circle'] })[0];
        const onMap = document.elementFromPoint(box.left + p.x, box.top + p.y) === map.getCanvas();
        if (top && top.id === f.id && onMap) return { id: String(f.id), lngLat: f.geometry.coordinates };
      }
      return null;
    });
    assert.ok(site, 'a site to click');
    const at = await toPage(page, site.lngLat);
    await page.mouse.click(at.x, at.y);
    const panel = page.locator(`#panel[data-id="${site.id}"]`);
    await panel.locator('.counts').waitFor();
    const item = await api(server.base, `/collections/sites/items/${site.id}`);
    for (const column of ['idp_families', 'idp_individuals']) {
      const value = await panel.locator(`tr[data-field="${column}"] .value`).getAttribute('data-value');
      assert.equal(Number(value), item.properties[column], column);
    }
    assert.equal(await panel.locator('.name').innerText(), item.properties.name_en);
    assert.equal(await panel.locator('.alt-name').innerText(), item.properties.name_ar);
    assert.match(await panel.locator('.source').innerText(), /Source: Illustrative data/, 'a synthetic source said in words');
    assert.equal(await panel.locator('.badge.synthetic').count(), 1, 'illustrative badge');
    const history = await api(server.base, `/collections/sites/items/${site.id}/rounds`);
    assert.equal(await panel.locator('svg.chart .bar').count(), history.rounds.length);
    await screenshot(page, '02-site-panel');
  });

  it('follows the round slider: tiles, legend and panel show the chosen round', async () => {
    await page.evaluate(() => window.dtmap.map.jumpTo({ center: [44, 33], zoom: 5 }));
    await idle(page);
    const collections = await api(server.base, '/collections/governorates');
    const first = collections.rounds[0].id;
    const latest = await rendered(page, 'governorates-fill');
    await page.locator('#round').focus();
    await page.keyboard.press('Home');
    await page.waitForFunction((r) => window.dtmap.state.round === r, first);
    await idle(page);
    const now = byId(await rendered(page, 'governorates-fill'));
    const expected = await api(server.base, `/collections/governorates/items?round=${first}&properties=idp_individuals&limit=100`);
    for (const f of expected.features) {
      assert.equal(now.get(f.id)?.idp_individuals, f.properties.idp_individuals, `${f.id} in ${first}`);
    }
    assert.notDeepEqual(
      [...now.values()].map((p) => p.idp_individuals).sort(),
      [...byId(latest).values()].map((p) => p.idp_individuals).sort(),
      'the counts changed with the round',
    );
    const sum = expected.features.reduce((s, f) => s + (f.properties.idp_individuals ?? 0), 0);
    assert.equal(Number(await page.locator('#legend .total strong').getAttribute('data-value')), sum);
    assert.match(await page.locator('#panel .panel-round').getAttribute('data-round'), new RegExp(first));
    assert.match(page.url(), new RegExp(`round=${first}`));
    // One step on: the legend shows the change against the previous round.
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction((r) => window.dtmap.state.round === r, collections.rounds[1].id);
    assert.match(await page.locator('#legend .change').innerText(), /Change since/);
    // Both national totals are published: a real change, not marked.
    assert.equal(await page.locator('#legend .change .unreal').count(), 0);
    await idle(page);
    await screenshot(page, '03-round');
  });

  it('switches families/individuals in the choropleth and the legend', async () => {
    await page.locator('#metric-idp_families').click();
    assert.match(await page.locator('#legend h2').innerText(), /IDP families/);
    const fill = await page.evaluate(() => JSON.stringify(window.dtmap.map.getPaintProperty('governorates-fill', 'fill-color')));
    assert.match(fill, /idp_families/);
    await page.locator('#metric-idp_individuals').click();
  });

  it('finds a governorate by its Arabic name and a site by its English name', async () => {
    await page.locator('#search').fill('نينوى');
    await page.locator('#search-results li[data-index]').first().waitFor();
    assert.match(await page.locator('#search-results').innerText(), /Ninewa/);
    await page.locator('#search').press('Enter');
    await page.locator('#panel[data-id="IQG15"] .counts').waitFor();
    const sites = await api(server.base, '/collections/sites/items?limit=1&sortby=-idp_families');
    const { name_en: name } = sites.features[0].properties;
    await page.locator('#search').fill(name.toLowerCase());
    const option = page.locator('#search-results li[data-index]', { hasText: 'Site' }).filter({ hasText: name }).first();
    await option.click();
    await page.locator('#panel[data-layer="sites"] .counts').waitFor();
    assert.equal(await page.locator('#panel .name').innerText(), name);
    await page.waitForFunction(() => !window.dtmap.map.isMoving());
    await screenshot(page, '04-search');
  });

  it('gives every round\'s total the provenance the server gives it, and marks unreal changes', async () => {
    const meta = await api(server.base, '/collections/governorates');
    for (const [i, round] of meta.rounds.entries()) {
      await page.evaluate((r) => window.dtmap.setRound(r), round.id);
      const total = round.totals.idp_individuals;
      const badge = page.locator('#legend .total .badge');
      assert.equal(await badge.getAttribute('data-provenance'), total.provenance, round.id);
      assert.equal(Number(await page.locator('#legend .total strong').getAttribute('data-value')), total.value, round.id);
      if (i > 0) {
        const before = meta.rounds[i - 1].totals.idp_individuals.provenance;
        const unreal = [total.provenance, before].some((p) => p.endsWith('illustrative'));
        assert.equal(await page.locator('#legend .change .unreal').count(), unreal ? 1 : 0, round.id);
      }
    }
    await page.evaluate((r) => window.dtmap.setRound(r), meta.latestRound);
  });

  it('switches to Arabic with a right-to-left layout and translated strings', async () => {
    const options = await page.$$eval('#lang option', (os) => os.map((o) => [o.value, o.textContent]));
    assert.deepEqual(options, [['en', 'English'], ['ar', 'العربية'], ['ckb', 'کوردی']], 'the configured languages');
    await page.selectOption('#lang', 'ar');
    const doc = await page.evaluate(() => ({ dir: document.documentElement.dir, lang: document.documentElement.lang }));
    assert.deepEqual(doc, { dir: 'rtl', lang: 'ar' });
    assert.match(await page.locator('#legend h2').innerText(), /الأفراد النازحون حسب المحافظة/);
    assert.match(await page.locator('[data-draw="polygon"]').innerText(), /مضلع/);
    assert.match(await page.locator('#panel .kind').innerText(), /الموقع/);
    // Mirrored: the legend sits on the right, the panel on the left.
    const width = page.viewportSize().width;
    const legend = await page.locator('#legend').boundingBox();
    const panel = await page.locator('#panel').boundingBox();
    assert.ok(legend.x > width / 2, 'legend on the right');
    assert.ok(panel.x < width / 2, 'panel on the left');
    assert.match(page.url(), /lang=ar/);
    await idle(page);
    await screenshot(page, '05-arabic');
    // Loading the page in Arabic directly.
    await openMap(page, server.base, '/?lang=ar');
    assert.equal(await page.evaluate(() => document.documentElement.dir), 'rtl');
    const label = await page.evaluate(() => JSON.stringify(window.dtmap.map.getLayoutProperty('governorates-label', 'text-field')));
    assert.ok(label.indexOf('name_ar') < label.indexOf('name_en'), 'Arabic names first on the map');
    await page.selectOption('#lang', 'en');
    assert.equal(await page.evaluate(() => document.documentElement.dir), 'ltr');
  });

  it('switches to Kurdish (Sorani): right to left, Kurdish words, Kurdish names where GeoNames has them and Arabic ones elsewhere', async () => {
    await page.selectOption('#lang', 'ckb');
    const doc = await page.evaluate(() => ({ dir: document.documentElement.dir, lang: document.documentElement.lang }));
    assert.deepEqual(doc, { dir: 'rtl', lang: 'ckb' });
    assert.match(page.url(), /lang=ckb/);
    assert.match(await page.locator('#legend h2').innerText(), /تاکە ئاوارەکان بەپێی پارێزگا/);
    assert.equal(await page.locator('[data-draw="polygon"]').innerText(), 'فرەگۆشە');
    assert.equal(await page.locator('#metric-idp_individuals').innerText(), 'تاکە ئاوارەکان');
    // Numbers in Arabic-Indic digits, as Sorani writes them.
    assert.match(await page.locator('#legend').innerText(), /[٠-٩]/);
    // A governorate has no Kurdish name in the registry: its Arabic one stands in.
    const item = await api(server.base, '/collections/governorates/items/IQG08');
    await page.evaluate(() => window.dtmap.openPanel('governorates', 'IQG08'));
    await page.locator('#panel[data-layer="governorates"] .name').waitFor();
    assert.equal(await page.locator('#panel .name').innerText(), item.properties.name_ar);
    assert.match(await page.locator('#panel .kind').innerText(), /^پارێزگا/);
    // The map's labels: the Kurdish name, then the Arabic, then the English.
    const label = await page.evaluate(() => JSON.stringify(window.dtmap.map.getLayoutProperty('sites-label', 'text-field')));
    assert.ok(label.indexOf('name_ckb') >= 0 && label.indexOf('name_ckb') < label.indexOf('name_ar'), label);
    await idle(page);
    await screenshot(page, '05b-kurdish');
    await page.selectOption('#lang', 'en');
    assert.equal(await page.evaluate(() => document.documentElement.dir), 'ltr');
  });

  it('gives iframe code and the URLs for other map libraries in the share dialog', async () => {
    await page.locator('#share').click();
    const dialog = page.locator('#share-dialog');
    await dialog.waitFor();
    const iframe = await dialog.locator('[data-share="iframeCode"]').inputValue();
    assert.match(iframe, /^<iframe src="http:\/\/127\.0\.0\.1:\d+\/embed\?layers=governorates,sites&round=[^"]+#[\d.]+\/[\d.]+\/[\d.]+/);
    const tilejson = await dialog.locator('[data-share="tileJSON"]').inputValue();
    const style = await dialog.locator('[data-share="styleUrl"]').inputValue();
    const geojson = await dialog.locator('[data-share="geojsonSites"]').inputValue();
    assert.equal((await (await fetch(tilejson)).json()).tilejson, '3.0.0');
    assert.equal((await (await fetch(style)).json()).version, 8);
    assert.equal((await (await fetch(geojson)).json()).type, 'FeatureCollection');
    await screenshot(page, '06-share');
    await page.keyboard.press('Escape');
  });
});
