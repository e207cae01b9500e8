// The map page and the dashboard on a second dataset shaped unlike the built-in one
// (tests/fixtures/other: OCHA-style field names, "state" as the admin word, English, Hausa
// and Ukrainian (Cyrillic) names, numeric rounds, counts in households and persons on the
// locations only, rolled up to the states): they draw, label, search, query and switch
// language with what the server's metadata says, and no request fails.

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
  // A request the page itself cancels (a tile no longer needed once the map has moved on)
  // is not a failure of the server.
  browser.context.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') failed.push(`failed ${r.url()} (${r.failure()?.errorText})`);
  });
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
    assert.equal(states.mainCount, 'persons', 'the dashboard\'s main count');
    assert.equal(await page.evaluate(() => window.dtmap.state.metric), 'persons');
    const { features } = await api(server.base, '/collections/states/items?properties=hh,persons');
    const drawn = byId(await rendered(page, 'states-fill'));
    assert.deepEqual([...drawn.keys()].sort(), features.map((f) => f.id).sort(), 'every state drawn');
    for (const f of features) assert.equal(drawn.get(f.id).persons, f.properties.persons, f.id);
    assert.ok(features.every((f) => f.properties.persons > 0), 'rolled-up figures on every state');
    const locations = await rendered(page, 'locations-circle');
    assert.ok(locations.length > 0, 'locations drawn');
    const legend = await page.textContent('#legend');
    assert.match(legend, /Persons by state/);
    assert.match(legend, /Computed from illustrative figures/, 'the rolled-up total of synthetic figures is flagged');
    assert.match(legend, /not a real change/);
    const buttons = await page.$$eval('[data-metric]', (bs) => bs.map((b) => [b.dataset.metric, b.textContent.trim()]));
    assert.deepEqual(buttons, [['hh', 'Households'], ['persons', 'Persons']]);
    await screenshot(page, 'other-1-map');
  });

  it('switches the metric to households in the map, the legend and the URL', async () => {
    await page.click('#metric-hh');
    await idle(page);
    assert.match(await page.textContent('#legend'), /Households by state/);
    assert.equal(new URL(page.url()).searchParams.get('metric'), 'hh');
    const fill = await page.evaluate(() => JSON.stringify(window.dtmap.map.getPaintProperty('states-fill', 'fill-color')));
    assert.match(fill, /"hh"/);
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
    assert.match(await panel.innerText(), new RegExp(`Sites in ${item.properties.ADM1_EN}`));
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

  it('offers the configured languages and shows Ukrainian names, words and labels in Cyrillic', async () => {
    const options = await page.$$eval('#lang option', (os) => os.map((o) => [o.value, o.textContent]));
    assert.deepEqual(options.map((o) => o[0]), ['en', 'ha', 'uk']);
    assert.equal(options[2][1], 'Українська');
    await page.selectOption('#lang', 'uk');
    await idle(page);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'uk');
    assert.equal(await page.evaluate(() => document.documentElement.dir), 'ltr');
    assert.match(page.url(), /lang=uk/);
    // The config's strings for the interface, the layer's labels and words for the data.
    assert.equal(await page.getAttribute('#search', 'placeholder'), 'Пошук за назвою');
    assert.match(await page.textContent('#legend h2'), /Домогосподарства за штат/);
    const item = await api(server.base, '/collections/states/items/NG001');
    await page.evaluate(() => window.dtmap.openPanel('states', 'NG001'));
    await page.locator('#panel .name').waitFor();
    assert.equal(await page.locator('#panel .name').innerText(), item.properties.ADM1_UK);
    assert.match(await page.locator('#panel .kind').innerText(), /^Штат/);
    // The map labels the states in Cyrillic, from glyphs the server has.
    const label = await page.evaluate(() => JSON.stringify(window.dtmap.map.getLayoutProperty('states-label', 'text-field')));
    assert.match(label, /ADM1_UK/);
    const glyphs = await fetch(`${server.base}/fonts/Noto%20Sans%20Regular/1024-1279.pbf`);
    assert.equal(glyphs.status, 200, 'Cyrillic glyphs');
    assert.ok((await glyphs.arrayBuffer()).byteLength > 1000);
    // Search finds a location by its Cyrillic name.
    await page.fill('#search', 'табір 9');
    const first = page.locator('#search-results li[data-index="0"]');
    await first.waitFor();
    assert.match(await first.innerText(), /Табір 9 Борно/);
    await page.keyboard.press('Escape');
    await screenshot(page, 'other-3-ukrainian');
    await page.selectOption('#lang', 'ha');
    assert.equal(await page.getAttribute('#search', 'placeholder'), 'Nemo da suna');
    assert.match(await page.textContent('#legend h2'), /Gidaje/);
    await page.selectOption('#lang', 'en');
  });

  it('shows the dashboard of rolled-up figures with the data\'s own words, in every language', async () => {
    await page.goto(`${server.base}/dashboard`, { waitUntil: 'load' });
    await page.waitForSelector('#dashboard[data-ready="true"]');
    const summary = await api(server.base, '/dashboard/summary');
    assert.equal(await page.inputValue('#round'), summary.round);
    for (const f of summary.figures) {
      const value = await page.getAttribute(`#figures [data-metric="${f.metric}"]`, 'data-value');
      assert.equal(value === '' ? null : Number(value), f.value, f.metric);
    }
    assert.equal(await page.textContent('#figures [data-metric="persons"] h3'), 'Persons');
    assert.equal(await page.textContent('#figures [data-metric="states_affected"] h3'), 'States affected');
    assert.equal(await page.textContent('#ranking-title'), 'States by Persons');
    const ranking = await api(server.base, `/dashboard/ranking?round=${summary.round}`);
    const bars = await page.$$eval('#ranking-chart g.rank', (gs) => gs.map((g) => [g.dataset.id, Number(g.dataset.value)]));
    assert.deepEqual(bars, ranking.ranking.map((r) => [r.id, r.value]));
    assert.equal(await page.isVisible('#origins'), false, 'no origin figures, no origin block');
    assert.equal(await page.textContent('.trend-figure.national figcaption'), 'All states');
    await page.selectOption('#lang', 'uk');
    await page.waitForFunction(() => document.documentElement.lang === 'uk');
    assert.equal(await page.textContent('#headline-title'), 'Основні показники');
    assert.equal(await page.textContent('.trend-figure.national figcaption'), 'Усі штати');
    const first = await page.textContent('#ranking-chart g.rank .label');
    assert.equal(first, ranking.ranking[0].names.uk);
    await screenshot(page, 'other-4-dashboard');
  });

  it('made no request that failed and raised no page error', () => {
    assert.deepEqual(failed, []);
    assert.deepEqual(pageErrors, []);
  });
});
