// The map on a phone-sized screen (390×844, touch): it fits with a compact header and a
// folding legend, the choropleth and sites are drawn, a tapped site opens its panel as a
// bottom sheet, "Sites in …" shows its results in front of the panel, the map stays painted
// under an open sheet, a polygon can be drawn by taps, and Arabic figures keep their order.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  api, external, idle, launchBrowser, openMap, recordRequests, rendered, screenshot, startServer, toPage,
} from './harness.js';

let server;
let browser;
let page;
let urls;

before(async () => {
  server = await startServer();
  browser = await launchBrowser({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  });
  urls = recordRequests(browser.context);
  page = await browser.context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The share of the map above the open sheet, as the screen shows it, in the water's blue
 * (the colour the map took when a sheet opened in right-to-left pages). */
async function waterAboveSheet() {
  const sheet = await page.locator('#panel').boundingBox();
  const map = await page.locator('#map').boundingBox();
  const shot = await page.screenshot({ clip: { x: 0, y: map.y, width: 390, height: sheet.y - map.y } });
  return page.evaluate(async (b64) => {
    const blob = new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/png' });
    const bitmap = await createImageBitmap(blob);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    let blue = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i] - 0xaa) < 8 && Math.abs(data[i + 1] - 0xd3) < 8 && Math.abs(data[i + 2] - 0xdf) < 8) blue++;
    }
    return blue / (data.length / 4);
  }, shot.toString('base64'));
}

describe('on a phone', () => {
  it('fits the screen and draws the map', async () => {
    await openMap(page, server.base);
    const size = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      map: document.getElementById('map').getBoundingClientRect().toJSON(),
      legend: document.getElementById('legend').getBoundingClientRect().toJSON(),
    }));
    assert.ok(size.scroll <= 390, `no sideways scrolling (${size.scroll})`);
    assert.ok(size.map.height > 400, `the map keeps most of the screen (${size.map.height})`);
    assert.ok(size.legend.right <= 390 && size.legend.width < 250, 'the legend fits');
    const header = await page.evaluate(() => document.querySelector('.bar').offsetHeight + document.querySelector('.tools').offsetHeight);
    assert.ok(header / 844 <= 0.2, `a compact header: ${header} px of 844`);
    assert.ok((await rendered(page, 'governorates-fill')).length >= 18);
    assert.ok((await rendered(page, 'sites-circle')).length > 0);
    assert.deepEqual(external(urls), []);
    await screenshot(page, '10-phone');
  });

  it('opens a tapped site as a bottom sheet', async () => {
    await page.evaluate(() => window.dtmap.map.jumpTo({ center: [44.0, 36.2], zoom: 10 }));
    await idle(page);
    const site = await page.evaluate(() => {
      const { map } = window.dtmap;
      for (const f of map.queryRenderedFeatures({ layers: ['sites-circle'] })) {
        if (f.properties.point_count != null) continue;
        const p = map.project(f.geometry.coordinates);
        const { clientWidth: w, clientHeight: h } = map.getContainer();
        if (p.x < 20 || p.y < 20 || p.x > w - 60 || p.y > h - 120) continue;
        const top = map.queryRenderedFeatures(p, { layers: ['sites-circle'] })[0];
        if (top && top.id === f.id) return { id: String(f.id), lngLat: f.geometry.coordinates };
      }
      return null;
    });
    assert.ok(site, 'a site to tap');
    const at = await toPage(page, site.lngLat);
    await page.touchscreen.tap(at.x, at.y);
    await page.locator(`#panel[data-id="${site.id}"] .counts`).waitFor();
    const item = await api(server.base, `/collections/sites/items/${site.id}`);
    const shown = await page.locator('#panel tr[data-field="idp_families"] .value').getAttribute('data-value');
    assert.equal(Number(shown), item.properties.idp_families);
    const sheet = await page.locator('#panel').boundingBox();
    assert.ok(sheet.width >= 380 && sheet.y + sheet.height >= 840, 'a full-width sheet at the bottom');
    await screenshot(page, '11-phone-panel');
    await page.locator('#panel .close').tap();
  });

  it('draws a polygon with taps and lists its sites', async () => {
    await page.evaluate(() => window.dtmap.map.jumpTo({ center: [44.3, 33.4], zoom: 7 }));
    await idle(page);
    await page.locator('[data-draw="polygon"]').tap();
    const corners = [[43.6, 32.9], [45.0, 32.9], [45.0, 34.0], [43.6, 34.0]];
    for (const c of corners) {
      const p = await toPage(page, c);
      await page.touchscreen.tap(p.x, p.y);
      await page.waitForTimeout(350); // two quick taps would be a double tap
    }
    await page.locator('#draw-finish').tap();
    await page.waitForFunction(() => window.dtmap.state.lastResults);
    const { geometry, round } = await page.evaluate(() => ({ geometry: window.dtmap.state.query.geometry, round: window.dtmap.state.round }));
    const expected = await api(server.base, `/collections/sites/search?limit=10000&round=${round}`, { geometry });
    const ids = await page.locator('#results table.sites tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.id));
    assert.deepEqual(ids.sort(), expected.features.map((f) => String(f.id)).sort());
    await screenshot(page, '12-phone-query');
  });

  it('folds the legend at first, and unfolds it with its button', async () => {
    await page.evaluate(() => window.dtmap.clearQuery());
    await page.evaluate(() => window.dtmap.map.jumpTo({ center: [44, 33], zoom: 4.5 }));
    await idle(page);
    const toggle = page.locator('#legend .legend-toggle');
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    const folded = await page.locator('#legend').boundingBox();
    const map = await page.locator('#map').boundingBox();
    assert.ok(folded.width * folded.height < 0.06 * map.width * map.height, `a folded legend covers little (${Math.round(folded.width)}×${Math.round(folded.height)})`);
    await toggle.tap();
    assert.equal(await page.locator('#legend .legend-toggle').getAttribute('aria-expanded'), 'true');
    assert.ok(await page.locator('#legend .classes').isVisible());
    await page.locator('#legend .legend-toggle').tap();
    assert.equal(await page.locator('#legend .legend-toggle').getAttribute('aria-expanded'), 'false');
  });

  it('keeps the map painted under an open sheet, and shows the sites of an area in front of its panel', async () => {
    await page.evaluate(() => window.dtmap.clearQuery());
    await page.evaluate(() => window.dtmap.openPanel('governorates', 'IQG08'));
    await page.locator('#panel .area-query').waitFor();
    await idle(page);
    const water = await waterAboveSheet();
    assert.ok(water < 0.6, `the map is painted above the sheet (${Math.round(water * 100)} % water blue)`);
    await screenshot(page, '13-phone-area-panel');
    await page.locator('#panel .area-query').tap();
    await page.locator('#results .totals').waitFor();
    const results = await page.locator('#results').boundingBox();
    assert.ok(results && results.height > 150 && results.y + results.height <= 845, 'the results are on screen');
    assert.equal(await page.locator('#panel').isVisible(), false, 'the panel steps back');
    const { round } = await page.evaluate(() => ({ round: window.dtmap.state.round }));
    const expected = await api(server.base, `/collections/sites/search?area=governorates/IQG08&limit=10000&round=${round}`);
    assert.equal(await page.locator('#results table.sites tbody tr').count(), expected.features.length);
    await screenshot(page, '14-phone-area-results');
    // A site of the list opens its panel in front; closing it brings the results back.
    await page.locator('#results table.sites tbody button').first().tap();
    await page.locator('#panel[data-layer="sites"] .counts').waitFor();
    assert.equal(await page.locator('#results').isVisible(), false);
    await page.locator('#panel .close').tap();
    assert.equal(await page.locator('#results').isVisible(), true);
    await page.locator('#results .close').tap();
  });

  it('writes change figures in order in Arabic on a phone', async () => {
    await openMap(page, server.base, '/?lang=ar');
    await page.evaluate(() => window.dtmap.openPanel('governorates', 'IQG15'));
    await page.locator('#panel .counts .delta bdi').first().waitFor();
    const order = await page.evaluate(() => {
      const el = document.querySelector('#panel tr[data-field="idp_individuals"] .delta');
      const chars = [];
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.data.length; i++) {
          if (/[\u200e\s]/.test(node.data[i])) continue;
          const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
          chars.push({ c: node.data[i], x: r.getBoundingClientRect().left });
        }
      }
      return { logical: chars.map((c) => c.c).join(''), visual: [...chars].sort((a, b) => a.x - b.x).map((c) => c.c).join('') };
    });
    assert.equal(order.visual, order.logical);
    await idle(page);
    const water = await waterAboveSheet();
    assert.ok(water < 0.6, `the map is painted above a right-to-left sheet (${Math.round(water * 100)} % water blue)`);
    const header = await page.evaluate(() => document.querySelector('.bar').offsetHeight + document.querySelector('.tools').offsetHeight);
    assert.ok(header / 844 <= 0.2, `a compact header in Arabic too: ${header} px`);
    await screenshot(page, '15-phone-arabic');
  });
});
