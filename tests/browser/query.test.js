// Querying sites within an area: a polygon, a rectangle and a circle drawn with the mouse,
// and a governorate; the listed sites and totals must be exactly what the query endpoints
// answer; the results download as GeoJSON and CSV.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  api, external, idle, launchBrowser, openMap, recordRequests, screenshot, startServer, toPage,
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
  await openMap(page, server.base, '/#6.2/33.6/44.2');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Site ids listed in the results table. */
const listed = () => page.locator('#results table.sites tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.id));

/** Totals shown above the table. */
const shownTotals = () => page.locator('#results .totals dd').evaluateAll((dds) => Object.fromEntries(dds.map((d) => [d.dataset.field, Number(d.dataset.value)])));

async function clickAt(lngLat) {
  const p = await toPage(page, lngLat);
  await page.mouse.move(p.x, p.y);
  await page.mouse.click(p.x, p.y);
}

async function waitForResults() {
  await page.waitForFunction(() => window.dtmap.state.lastResults && window.dtmap.state.lastResults.q === window.dtmap.state.query);
  await page.locator('#results .totals').waitFor();
}

const sorted = (ids) => [...ids].map(String).sort();

describe('sites within an area', () => {
  it('lists exactly the sites the API returns for a drawn polygon, with its totals', async () => {
    const { round } = await page.evaluate(() => ({ round: window.dtmap.state.round }));
    await page.locator('[data-draw="polygon"]').click();
    const corners = [[43.2, 32.6], [45.6, 32.4], [46.2, 34.6], [44.6, 35.9], [43.0, 34.4]];
    for (const c of corners) await clickAt(c);
    await clickAt(corners[0]); // closes the polygon
    await waitForResults();
    const geometry = await page.evaluate(() => window.dtmap.state.query.geometry);
    assert.equal(geometry.type, 'Polygon');
    assert.equal(geometry.coordinates[0].length, corners.length + 1);
    const expected = await api(server.base, `/collections/sites/search?limit=10000&round=${round}`, { geometry });
    assert.ok(expected.features.length > 5, `sites in the polygon: ${expected.features.length}`);
    assert.deepEqual(sorted(await listed()), sorted(expected.features.map((f) => f.id)));
    const totals = await api(server.base, `/collections/sites/totals?round=${round}`, { geometry });
    assert.deepEqual(await shownTotals(), {
      sites: totals.sites, idp_families: totals.totals.idp_families, idp_individuals: totals.totals.idp_individuals,
    });
    // The matching sites are highlighted on the map.
    const state = await page.evaluate((id) => window.dtmap.map.getFeatureState({ source: 'dtmap', sourceLayer: 'sites', id }), String(expected.features[0].id));
    assert.equal(state.selected, true);
    await idle(page);
    await screenshot(page, '07-polygon-query');
  });

  it('downloads the result as GeoJSON and as CSV', async () => {
    const ids = await listed();
    const [geojsonDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#results [data-download="json"]').click(),
    ]);
    const geojson = JSON.parse(readFileSync(await geojsonDownload.path(), 'utf8'));
    assert.equal(geojson.type, 'FeatureCollection');
    assert.deepEqual(sorted(geojson.features.map((f) => f.id)), sorted(ids));
    assert.match(geojsonDownload.suggestedFilename(), /\.geojson$/);
    const [csvDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#results [data-download="csv"]').click(),
    ]);
    const csv = readFileSync(await csvDownload.path(), 'utf8').replace(/^\uFEFF/, '').trim().split(/\r?\n/);
    assert.equal(csv.length, ids.length + 1, 'a header and a line per site');
    assert.match(csv[0], /idp_families/);
    assert.match(csvDownload.suggestedFilename(), /\.csv$/);
  });

  it('lists the sites of a drawn rectangle', async () => {
    const round = await page.evaluate(() => window.dtmap.state.round);
    await page.locator('[data-draw="rectangle"]').click();
    await clickAt([43.5, 32.8]);
    await clickAt([45.2, 34.2]);
    await waitForResults();
    const geometry = await page.evaluate(() => window.dtmap.state.query.geometry);
    const expected = await api(server.base, `/collections/sites/search?limit=10000&round=${round}`, { geometry });
    assert.ok(expected.features.length > 0);
    assert.deepEqual(sorted(await listed()), sorted(expected.features.map((f) => f.id)));
  });

  it('lists the sites of a drawn circle, as the near endpoint does', async () => {
    const round = await page.evaluate(() => window.dtmap.state.round);
    await page.locator('[data-draw="circle"]').click();
    await clickAt([44.4, 33.3]);
    await clickAt([45.3, 33.3]);
    await waitForResults();
    const { center, radius } = await page.evaluate(() => window.dtmap.state.query);
    assert.ok(radius > 50000 && radius < 120000, `radius ${radius}`);
    const expected = await api(server.base, `/collections/sites/near?lon=${center[0]}&lat=${center[1]}&radius=${radius}&limit=10000&round=${round}`);
    assert.ok(expected.features.length > 0);
    assert.deepEqual(sorted(await listed()), sorted(expected.features.map((f) => f.id)));
    const totals = await api(server.base, `/collections/sites/totals?round=${round}`, { lon: center[0], lat: center[1], radius });
    assert.equal((await shownTotals()).sites, totals.sites);
    await screenshot(page, '08-circle-query');
  });

  it('lists the sites of a governorate picked from its panel', async () => {
    const round = await page.evaluate(() => window.dtmap.state.round);
    await page.evaluate(() => window.dtmap.openPanel('governorates', 'IQG08'));
    await page.locator('#panel .area-query').click();
    await waitForResults();
    const expected = await api(server.base, `/collections/sites/search?area=governorates/IQG08&limit=10000&round=${round}`);
    assert.deepEqual(sorted(await listed()), sorted(expected.features.map((f) => f.id)));
    assert.match(await page.locator('#results h2').innerText(), /Sites in Baghdad/);
    // The results follow the round.
    const first = await page.evaluate(() => window.dtmap.state.rounds[0].id);
    await page.evaluate((r) => window.dtmap.setRound(r), first);
    await page.waitForFunction((r) => window.dtmap.state.lastResults?.list && window.dtmap.state.query && window.dtmap.state.lastResults.q === window.dtmap.state.query && window.dtmap.state.lastResults.list.round === r, first);
    const totals = await api(server.base, `/collections/sites/totals?area=governorates/IQG08&round=${first}`);
    assert.equal((await shownTotals()).idp_families, totals.totals.idp_families);
    assert.deepEqual(external(urls), []);
  });
});
