// The map page on a second dataset shaped unlike the built-in one (tests/fixtures/other:
// OCHA-style field names, "state" as the admin word, Hausa names, numeric rounds, counts
// in households and persons): it draws, labels, searches and queries with what the
// collections' metadata says, and no request fails.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  api, idle, launchBrowser, openMap, rendered, root, screenshot, startServer, toPage,
} from './harness.js';

let server;
let browser;
let page;
const failed = [];
const pageErrors = [];

before(async () => {
  server = await startServer(['--config', join(root, 'tests', 'fixtures', 'other', 'dtmap.toml')]);
  browser = await launchBrowser();
  browser.context.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
  browser.context.on('requestfailed', (r) => failed.push(`failed ${r.url()}`));
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const byId = (features) => new Map(features.map((f) => [String(f.id), f.properties]));

describe('the map page on another country\'s data', () => {
  it('draws every state with the API counts of its main count, and every location', async () => {
    await openMap(page, server.base);
    const states = await api(server.base, '/collections/states');
    assert.equal(states.mainCount, 'hh', 'no dashboard: the first count column');
    assert.equal(await page.evaluate(() => window.dtmap.state.metric), 'hh');
    const { features } = await api(server.base, '/collections/states/items?properties=hh,persons');
    const drawn = byId(await rendered(page, 'states-fill'));
    assert.deepEqual([...drawn.keys()].sort(), features.map((f) => f.id).sort(), 'every state drawn');
    for (const f of features) assert.equal(drawn.get(f.id).hh, f.properties.hh, f.id);
    const locations = await rendered(page, 'locations-circle');
    assert.ok(locations.length > 0, 'locations drawn');
    const legend = await page.textContent('#legend');
    assert.match(legend, /Households by state/);
    assert.match(legend, /Illustrative data/, 'synthetic figures are flagged');
    const buttons = await page.$$eval('[data-metric]', (bs) => bs.map((b) => [b.dataset.metric, b.textContent.trim()]));
    assert.deepEqual(buttons, [['hh', 'Households'], ['persons', 'Persons']]);
    await screenshot(page, 'other-1-map');
  });

  it('switches the metric to persons in the map, the legend and the URL', async () => {
    await page.click('#metric-persons');
    await idle(page);
    assert.match(await page.textContent('#legend'), /Persons by state/);
    assert.equal(new URL(page.url()).searchParams.get('metric'), 'persons');
    const fill = await page.evaluate(() => JSON.stringify(window.dtmap.map.getPaintProperty('states-fill', 'fill-color')));
    assert.match(fill, /"persons"/);
  });

  it('opens a state\'s panel with its English and Hausa names, its counts and the admin word', async () => {
    const item = await api(server.base, '/collections/states/items/NG002');
    await page.evaluate(() => window.dtmap.openPanel('states', 'NG002'));
    const panel = page.locator('#panel');
    await panel.locator('.name').waitFor();
    assert.equal(await panel.locator('.name').innerText(), item.properties.ADM1_EN);
    assert.equal(await panel.locator('.alt-name').innerText(), item.properties.ADM1_HA);
    assert.match(await panel.locator('.kind').innerText(), /^State/);
    const persons = await panel.locator('tr[data-field="persons"] .value').getAttribute('data-value');
    assert.equal(Number(persons), item.properties.persons);
    assert.match(await panel.innerText(), /Sites in this state/);
  });

  it('queries the sites in a state with totals equal to the API\'s', async () => {
    await page.click('#panel .area-query');
    await page.locator('#results [data-testid="totals"]').waitFor();
    const totals = await api(server.base, '/collections/locations/totals?area=states/NG002');
    const sites = await page.getAttribute('#results dd[data-field="sites"]', 'data-value');
    assert.equal(Number(sites), totals.sites);
    assert.equal(totals.sites, 8);
    const persons = await page.getAttribute('#results dd[data-field="persons"]', 'data-value');
    assert.equal(Number(persons), totals.totals.persons);
    await screenshot(page, 'other-2-query');
  });

  it('finds a location by its Hausa name and shows its state from the grouping field', async () => {
    await page.click('#results .close').catch(() => {});
    await page.fill('#search', 'sansani 12');
    const first = page.locator('#search-results li[data-index="0"]');
    await first.waitFor();
    assert.match(await first.innerText(), /Camp 12/);
    await first.click();
    const panel = page.locator('#panel');
    await panel.locator('.name').waitFor();
    assert.match(await panel.locator('.name').innerText(), /^Camp 12 /);
    const item = await api(server.base, '/collections/locations/items?limit=100');
    const site = item.features.find((f) => f.properties.loc_name.startsWith('Camp 12 '));
    const state = await api(server.base, `/collections/states/items/${site.properties.adm1}`);
    assert.match(await panel.locator('.kind').innerText(), new RegExp(`Site · ${state.properties.ADM1_EN}`));
  });

  it('made no request that failed and raised no page error', () => {
    assert.deepEqual(failed, []);
    assert.deepEqual(pageErrors, []);
  });
});
