// The embed page in an iframe of another origin (a Node server on another port), its
// parameters and hash, and the framing headers of the embed and main pages.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  api, external, launchBrowser, recordRequests, screenshot, startServer,
} from './harness.js';

let server;
let browser;
let page;
let urls;
let other; // the second origin
let otherBase;

before(async () => {
  server = await startServer();
  other = createServer((request, response) => {
    const src = new URL(request.url, 'http://x').searchParams.get('src');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><html><head><title>Another site</title></head>
<body style="margin:0;font-family:sans-serif"><h1 style="font-size:16px;margin:8px">A partner's page</h1>
<iframe id="map" src="${src}" width="800" height="500" style="border:0"></iframe></body></html>`);
  });
  await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
  otherBase = `http://127.0.0.1:${other.address().port}`;
  browser = await launchBrowser();
  urls = recordRequests(browser.context);
  page = await browser.context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((resolve) => (other ? other.close(resolve) : resolve()));
});

async function frameOf(src) {
  await page.goto(`${otherBase}/?src=${encodeURIComponent(src)}`, { waitUntil: 'load' });
  const handle = await page.waitForSelector('#map');
  const frame = await handle.contentFrame();
  return frame;
}

describe('the embed page', () => {
  it('sends frame-ancestors from the settings on /embed and keeps the main page same-origin', async () => {
    const embed = await fetch(`${server.base}/embed`);
    assert.equal(embed.status, 200);
    assert.equal(embed.headers.get('content-security-policy'), 'frame-ancestors *');
    const main = await fetch(`${server.base}/`, { headers: { accept: 'text/html' } });
    assert.equal(main.headers.get('x-frame-options'), 'SAMEORIGIN');
    assert.equal(main.headers.get('content-security-policy'), "frame-ancestors 'self'");
    // Clients that do not ask for HTML still get the JSON landing page.
    const landing = await api(server.base, '/');
    assert.ok(Array.isArray(landing.links));
    // Assets are cached for a year under a versioned path, with their media types.
    const html = await main.text();
    const script = html.match(/src="(assets\/[0-9a-f]+\/app\.js)"/)[1];
    const asset = await fetch(`${server.base}/${script}`);
    assert.equal(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(asset.headers.get('cache-control'), /max-age=31536000/);
    const licence = await fetch(`${server.base}/${script.replace('app.js', 'vendor/MAPLIBRE-LICENSE.txt')}`);
    assert.match(await licence.text(), /BSD/);
  });

  it('draws the map inside a cross-origin iframe with the layers, round, language and view asked for', async () => {
    const collections = await api(server.base, '/collections/governorates');
    const round = collections.rounds[2].id;
    const frame = await frameOf(`${server.base}/embed?layers=governorates&round=${round}&lang=ar#6/33.3/44.4`);
    assert.notEqual(new URL(frame.url()).origin, new URL(page.url()).origin, 'a different origin');
    await frame.waitForFunction(() => window.dtmap && window.dtmap.map, null, { timeout: 60000 });
    await frame.evaluate(() => window.dtmap.ready.then(() => true));
    const view = await frame.evaluate(() => {
      const { map, state } = window.dtmap;
      return {
        round: state.round,
        zoom: map.getZoom(),
        center: map.getCenter().toArray(),
        dir: document.documentElement.dir,
        sites: map.getLayoutProperty('sites-circle', 'visibility'),
        governorates: map.queryRenderedFeatures({ layers: ['governorates-fill'] })
          .map((f) => [String(f.id), f.properties.idp_individuals]),
        chrome: !!document.querySelector('#search, #round, .tools'),
      };
    });
    assert.equal(view.round, round);
    assert.equal(view.dir, 'rtl');
    assert.equal(view.sites, 'none', 'only the layers asked for');
    assert.equal(view.chrome, false, 'minimal chrome');
    assert.ok(Math.abs(view.zoom - 6) < 0.01, `zoom ${view.zoom}`);
    assert.ok(Math.abs(view.center[0] - 44.4) < 0.01 && Math.abs(view.center[1] - 33.3) < 0.01);
    const expected = await api(server.base, `/collections/governorates/items?round=${round}&properties=idp_individuals&limit=100`);
    const values = new Map(expected.features.map((f) => [f.id, f.properties.idp_individuals]));
    assert.ok(view.governorates.length > 0);
    for (const [id, v] of view.governorates) assert.equal(v, values.get(id), id);
    // Clicking a governorate in the frame opens its panel there.
    const box = await page.locator('#map').boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await frame.locator('#panel .counts').waitFor();
    await screenshot(page, '09-embed-cross-origin');
    assert.deepEqual(external(urls), []);
  });

  it('links "Open the full map" to the same round, language, count and view', async () => {
    const collections = await api(server.base, '/collections/governorates');
    const round = collections.rounds[1].id;
    const frame = await frameOf(`${server.base}/embed?layers=governorates,sites&round=${round}&lang=ar&metric=idp_families#7/36.2/44`);
    await frame.waitForFunction(() => window.dtmap && window.dtmap.map, null, { timeout: 60000 });
    await frame.evaluate(() => window.dtmap.ready.then(() => true));
    const href = new URL(await frame.locator('#open-full').evaluate((a) => a.href));
    assert.equal(href.pathname, '/');
    assert.equal(href.searchParams.get('round'), round);
    assert.equal(href.searchParams.get('lang'), 'ar');
    assert.equal(href.searchParams.get('metric'), 'idp_families');
    assert.match(href.hash, /^#7(\.\d+)?\/36\.2\d*\/44/);
    assert.match(await frame.locator('#open-full').innerText(), /فتح الخريطة الكاملة/);
  });

  it('shows no choropleth legend in an embed of the sites only', async () => {
    const frame = await frameOf(`${server.base}/embed?layers=sites`);
    await frame.waitForFunction(() => window.dtmap && window.dtmap.map, null, { timeout: 60000 });
    await frame.evaluate(() => window.dtmap.ready.then(() => true));
    assert.equal(await frame.locator('#legend .classes').count(), 0, 'no classes of the areas');
    assert.equal(await frame.locator('#legend .total').count(), 0);
    assert.ok(await frame.locator('#legend .sites-key').first().isVisible(), 'the sites\' key');
    assert.ok(await frame.locator('#legend .cluster-key').isVisible(), 'the grouped sites\' key');
  });

  it('refuses to draw the main page inside another origin', async () => {
    const frame = await frameOf(`${server.base}/`);
    await page.waitForTimeout(500);
    const loaded = await frame.evaluate(() => !!window.dtmap).catch(() => false);
    assert.equal(loaded, false, 'the main page must not run in a cross-origin frame');
  });
});
