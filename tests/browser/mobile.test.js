// The map on a phone-sized screen (390×844, touch): it fits, the choropleth and sites are
// drawn, a tapped site opens its panel as a bottom sheet, and a polygon can be drawn by taps.

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
});
