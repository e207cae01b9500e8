// The map as its users need it, at 1280×800: one source of class breaks, state kept in every
// link, search that forgives spellings, drawing errors said in the page's language and
// dismissed, every site a query finds marked (grouped ones too), areas chosen by keyboard,
// figures in the right order in Arabic, no English left in Arabic mode, image export,
// all-rounds downloads, tooltips, the play button, accessibility and the cold-load figure.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  api, idle, launchBrowser, mapReady, openMap, recordRequests, rendered, screenshot, startServer, toPage,
} from './harness.js';

let server;
let browser;
let page;
let urls;
const pageErrors = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  urls = recordRequests(browser.context);
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Relative luminance and contrast ratio (WCAG 2). */
function luminance(rgb) {
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
const contrast = (a, b) => {
  const [l1, l2] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (l1 + 0.05) / (l2 + 0.05);
};
const parseColor = (css) => css.match(/[\d.]+/g).slice(0, 3).map(Number);
const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));

/** The visual left-to-right order of the characters of an element's text (LRM/RLM left out):
 * the characters sorted by their rendered x, joined. */
function visualText(selector) {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    const chars = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.data.length; i++) {
        const c = node.data[i];
        if (/[\u200e\u200f\u061c\s]/.test(c)) continue;
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = range.getBoundingClientRect();
        if (rect.width > 0) chars.push({ c, x: rect.left + rect.width / 2, line: Math.round(rect.top / 4) });
      }
    }
    const lines = new Set(chars.map((x) => x.line)).size;
    return {
      lines,
      logical: chars.map((x) => x.c).join(''),
      visual: [...chars].sort((a, b) => a.line - b.line || a.x - b.x).map((x) => x.c).join(''),
    };
  }, selector);
}

describe('one source of class breaks', () => {
  it('loads cold in two requests for the areas\' series, and logs the time to map idle', async (t) => {
    const timings = await openMap(page, server.base);
    const paths = urls.map((u) => new URL(u).pathname);
    assert.equal(paths.filter((p) => p.endsWith('/rounds')).length, 0, 'no per-area /rounds request');
    assert.equal(paths.filter((p) => p.endsWith('/collections/governorates/series')).length, 1, 'one series request');
    const figure = `cold load to map idle: ${Math.round(timings.idle)} ms (${urls.length} requests)`;
    t.diagnostic(figure);
    console.log(figure);
    assert.ok(timings.idle < 10000, figure);
  });

  it('colours the style and the legend at the same breaks, the server\'s', async () => {
    const meta = await api(server.base, '/collections/governorates');
    const style = await api(server.base, '/styles/default.json');
    const fill = style.layers.find((l) => l.id === 'governorates-fill').paint['fill-color'];
    const step = fill[2];
    assert.equal(step[0], 'step');
    const styleBreaks = step.slice(3).filter((_, i) => i % 2 === 0);
    assert.deepEqual(styleBreaks, meta.classBreaks[meta.mainCount], 'style = metadata');
    const legend = await page.$$eval('#legend .classes li[data-class]', (lis) => lis.map((li) => [li.dataset.from, li.dataset.to]));
    const legendBreaks = legend.slice(1).map(([from]) => Number(from));
    assert.deepEqual(legendBreaks, styleBreaks, 'legend = style');
    assert.ok(styleBreaks.length >= 3, 'classes to compare');
    // The client's paint for the other count uses that count's breaks from the server.
    await page.locator('#metric-idp_families').click();
    const client = await page.evaluate(() => window.dtmap.map.getPaintProperty('governorates-fill', 'fill-color'));
    assert.deepEqual(client[2].slice(3).filter((_, i) => i % 2 === 0), meta.classBreaks.idp_families);
    await page.locator('#metric-idp_individuals').click();
  });

  it('shows the grouped-site circles in the legend, and swatches and text with enough contrast', async () => {
    await page.locator('#legend .cluster-key').waitFor();
    const swatch = await page.$eval('#legend .swatch', (el) => getComputedStyle(el).borderTopColor);
    for (const background of ['#f2efe9', '#aad3df', '#ffffff']) {
      assert.ok(contrast(parseColor(swatch), hex(background)) >= 3, `swatch border against ${background}`);
    }
    const texts = await page.$$eval('#legend p, #legend h2, #legend li, .tools, .bar .nav-link, .kind', (els) => els
      .filter((el) => el.checkVisibility())
      .map((el) => getComputedStyle(el).color));
    for (const color of texts) {
      assert.ok(contrast(parseColor(color), [255, 255, 255]) >= 4.5, `text ${color} on white`);
      assert.ok(contrast(parseColor(color), [248, 249, 250]) >= 4.5, `text ${color} on the tools bar`);
    }
  });

  it('gives the round slider a value text and steps through the rounds with the play button', async () => {
    const slider = page.locator('#round');
    assert.equal(await slider.getAttribute('aria-valuetext'), await page.locator('#round-label').innerText());
    const rounds = await page.evaluate(() => window.dtmap.state.rounds.map((r) => r.id));
    await page.evaluate((r) => window.dtmap.setRound(r), rounds[0]);
    await page.locator('#play').click();
    assert.equal(await page.locator('#play').getAttribute('aria-pressed'), 'true');
    await page.waitForFunction((r) => window.dtmap.state.round === r, rounds[2], { timeout: 15000 });
    assert.equal(await slider.getAttribute('aria-valuetext'), await page.locator('#round-label').innerText());
    await page.locator('#play').click();
    assert.equal(await page.locator('#play').getAttribute('aria-pressed'), 'false');
    const stopped = await page.evaluate(() => window.dtmap.state.round);
    await page.waitForTimeout(2000);
    assert.equal(await page.evaluate(() => window.dtmap.state.round), stopped, 'paused');
    await page.evaluate((r) => window.dtmap.setRound(r), rounds[rounds.length - 1]);
  });

  it('shows a tooltip with the name and count of the area under the mouse', async () => {
    await openMap(page, server.base, '/#5/33/44');
    await idle(page);
    // A point inside an area with no site within 20 px.
    const at = await page.evaluate(() => {
      const { map } = window.dtmap;
      const rect = map.getContainer().getBoundingClientRect();
      for (let y = 100; y < rect.height - 100; y += 20) {
        for (let x = 100; x < rect.width - 100; x += 20) {
          const area = map.queryRenderedFeatures([x, y], { layers: ['governorates-fill'] });
          const sites = map.queryRenderedFeatures([[x - 20, y - 20], [x + 20, y + 20]], { layers: ['sites-circle'] });
          if (area.length && !sites.length) return { x: rect.left + x, y: rect.top + y };
        }
      }
      return null;
    });
    assert.ok(at, 'a point on an area away from the sites');
    await page.mouse.move(at.x, at.y);
    await page.locator('#tooltip:not([hidden])').waitFor();
    assert.equal(await page.getAttribute('#tooltip', 'data-layer'), 'governorates');
    const id = await page.getAttribute('#tooltip', 'data-id');
    const item = await api(server.base, `/collections/governorates/items/${id}`);
    const text = await page.locator('#tooltip').innerText();
    assert.match(text, new RegExp(item.properties.name_en));
    assert.match(text, new RegExp(item.properties.idp_individuals.toLocaleString('en')));
    await page.mouse.move(5, 790);
  });
});

describe('links keep the state', () => {
  it('presses the button of ?metric= and keeps round, language and view in the dashboard link', async () => {
    const rounds = (await api(server.base, '/collections/governorates')).rounds;
    const round = rounds[1].id;
    await openMap(page, server.base, `/?metric=idp_families&round=${round}&lang=ckb#6/35/44`);
    assert.equal(await page.getAttribute('#metric-idp_families', 'aria-pressed'), 'true');
    assert.equal(await page.getAttribute('#metric-idp_individuals', 'aria-pressed'), 'false');
    const href = new URL(await page.locator('#dashboard-link').evaluate((a) => a.href));
    assert.equal(href.pathname, '/dashboard');
    assert.equal(href.searchParams.get('round'), round);
    assert.equal(href.searchParams.get('lang'), 'ckb');
    assert.match(href.hash, /^#6(\.\d+)?\/35(\.\d+)?\/44/);
  });
});

describe('search that forgives', () => {
  it('finds alternative spellings, names with ‘, transliterations and ids, as a combobox', async () => {
    await openMap(page, server.base);
    const input = page.locator('#search');
    assert.equal(await input.getAttribute('role'), 'combobox');
    // [query, the features it must find; the first of them, or the city of the same name
    // (GN96994 Dahuk, GN95446 Erbil), first].
    const cases = [
      ['Ninawa', ['IQG15']], ['Nineveh', ['IQG15']], ['ninewa', ['IQG15']], ['Dohuk', ['IQG09', 'GN96994']],
      ['Duhok', ['IQG09', 'GN96994']], ['Arbil', ['IQG11', 'GN95446']], ['Irbil', ['GN95446']], ['Hawler', ['GN95446']],
      ['Dhi Qar', ['IQG17']], ['Thi Qar', ['IQG17']], ['Tal Afar', ['GN90393']], ['Tall ‘Afar', ['GN90393']],
      ["Tall 'Afar", ['GN90393']], ['tall afar', ['GN90393']], ['Telafer', ['GN90393']], ['IQG08', ['IQG08']],
      ['iqg13', ['IQG13']], ['gn90393', ['GN90393']], ['تل عفر', ['GN90393']], ['نينوى', ['IQG15']], ['Al Mawsil', ['GN99072']],
      ['Zakho', ['GN89570']], ['zakhu', ['GN89570']], ['زاخو', ['GN89570']],
    ];
    for (const [query, ids] of cases) {
      await input.fill(query);
      const first = page.locator('#search-results li[data-index="0"]');
      await first.waitFor();
      const found = await page.$$eval('#search-results li[data-id]', (lis) => lis.map((li) => li.dataset.id));
      for (const id of ids) assert.ok(found.includes(id), `"${query}" finds ${id}: ${found}`);
      assert.ok(ids.includes(found[0]), `"${query}": ${found[0]} first`);
      assert.equal(await input.getAttribute('aria-expanded'), 'true');
      const active = await input.getAttribute('aria-activedescendant');
      assert.equal(await page.getAttribute(`#${active}`, 'aria-selected'), 'true');
      assert.equal(await page.getAttribute(`#${active}`, 'role'), 'option');
    }
    // The arrow keys move the active option, Enter chooses it.
    await input.fill('Dahuk');
    await page.locator('#search-results li[data-index="0"]').waitFor();
    await input.press('Escape');
    assert.equal(await input.getAttribute('aria-expanded'), 'false');
    await input.fill('Da');
    await page.locator('#search-results li[data-index="1"]').waitFor();
    await input.press('ArrowDown');
    assert.equal(await input.getAttribute('aria-activedescendant'), 'search-1');
    const second = await page.getAttribute('#search-1', 'data-id');
    await input.press('Enter');
    await page.locator(`#panel[data-id="${second}"] .counts`).waitFor();
    assert.equal(await input.getAttribute('aria-expanded'), 'false');
    await input.fill('qqqqzz');
    assert.match(await page.locator('#search-results').innerText(), /No match/);
    await input.press('Escape');
  });
});

describe('drawing and choosing areas', () => {
  const bowTie = [[43.0, 33.0], [45.0, 35.0], [45.0, 33.0], [43.0, 35.0]];

  async function drawBowTie() {
    await page.evaluate(() => window.dtmap.map.jumpTo({ center: [44, 34], zoom: 6 }));
    await idle(page);
    await page.locator('[data-draw="polygon"]').click();
    for (const c of bowTie) {
      const p = await toPage(page, c);
      await page.mouse.click(p.x, p.y);
      await page.waitForTimeout(350);
    }
    await idle(page);
    assert.ok((await rendered(page, 'draw-line')).length > 0, 'the crossing polygon stays drawn');
    await page.locator('#draw-finish').click();
    await page.locator('#results .error').waitFor();
    await idle(page);
    assert.ok((await rendered(page, 'draw-line')).length > 0, 'still drawn after the error');
  }

  it('says a polygon crosses itself, in the page\'s language, and Escape, Cancel or a click dismiss it', async () => {
    await openMap(page, server.base);
    await drawBowTie();
    assert.match(await page.locator('#results .error').innerText(), /crosses itself/);
    await page.keyboard.press('Escape');
    await page.locator('#results').waitFor({ state: 'hidden' });
    await idle(page);
    assert.equal((await rendered(page, 'draw-line')).length, 0, 'the shape goes with it');

    await drawBowTie();
    await page.locator('#draw-cancel').click();
    await page.locator('#results').waitFor({ state: 'hidden' });

    await page.evaluate(() => window.dtmap.switchLanguage('ar'));
    await drawBowTie();
    assert.match(await page.locator('#results .error').innerText(), /يتقاطع/);
    const p = await toPage(page, [46.5, 31.5]);
    await page.mouse.click(p.x, p.y);
    await page.locator('#results').waitFor({ state: 'hidden' });
    await page.evaluate(() => window.dtmap.switchLanguage('en'));
  });

  it('marks every site a query finds at overview zoom, grouped ones too, and the site of the panel', async () => {
    await openMap(page, server.base);
    const center = [44.01, 36.19];
    const radius = 40000;
    const clusters = (await rendered(page, 'sites-circle')).filter((f) => f.properties.point_count != null);
    assert.ok(clusters.length > 0, 'some sites drawn grouped at this zoom');
    await page.evaluate(([c, r]) => window.dtmap.runQuery({ kind: 'circle', center: c, radius: r, geometry: { type: 'Point', coordinates: c } }), [center, radius]);
    await page.waitForFunction(() => window.dtmap.state.lastResults);
    await idle(page);
    const { round } = await page.evaluate(() => ({ round: window.dtmap.state.round }));
    const near = await api(server.base, `/collections/sites/near?lon=${center[0]}&lat=${center[1]}&radius=${radius}&limit=10000&round=${round}`);
    assert.ok(near.features.length >= 3, `sites found: ${near.features.length}`);
    const marked = new Set((await rendered(page, 'query-sites')).map((f) => String(f.properties.id)));
    assert.deepEqual([...marked].sort(), near.features.map((f) => String(f.id)).sort(), 'every site found is marked');
    await page.evaluate(() => window.dtmap.clearQuery());
    await idle(page);
    assert.equal((await rendered(page, 'query-sites')).length, 0);
    // A site opened in the panel is ringed on the map.
    const site = near.features[0];
    await page.evaluate((id) => window.dtmap.openPanel('sites', id), String(site.id));
    await page.locator('#panel[data-layer="sites"] .counts').waitFor();
    await idle(page);
    const ring = await page.evaluate(() => window.dtmap.map.queryRenderedFeatures({ layers: ['marked-site'] })
      .map((f) => f.geometry.coordinates));
    assert.equal(ring.length, 1);
    assert.ok(Math.abs(ring[0][0] - site.geometry.coordinates[0]) < 1e-2, `${ring[0]} ${site.geometry.coordinates}`);
    assert.ok(Math.abs(ring[0][1] - site.geometry.coordinates[1]) < 1e-2);
    await screenshot(page, 'ux-1-marked');
    await page.locator('#panel .close').click();
    await idle(page);
    assert.equal((await rendered(page, 'marked-site')).length, 0);
  });

  it('chooses an area from a list and a circle from typed coordinates, with the keyboard', async () => {
    const { round } = await page.evaluate(() => ({ round: window.dtmap.state.round }));
    await page.locator('#area-pick').focus();
    await page.locator('#area-pick').selectOption('IQG08');
    await page.locator('#results .totals').waitFor();
    const expected = await api(server.base, `/collections/sites/search?area=governorates/IQG08&limit=10000&round=${round}`);
    const ids = await page.locator('#results table.sites tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.id));
    assert.deepEqual(ids.sort(), expected.features.map((f) => String(f.id)).sort());
    await page.locator('#results .close').click();

    await page.locator('#coords-open').focus();
    await page.keyboard.press('Enter');
    await page.locator('#coords-dialog[open]').waitFor();
    await page.locator('#coords-dialog [name="lon"]').fill('foo');
    await page.locator('#coords-dialog [name="lat"]').fill('36.19');
    await page.locator('#coords-dialog [name="radius"]').fill('30');
    await page.keyboard.press('Enter');
    assert.match(await page.locator('#coords-dialog .error').innerText(), /longitude/);
    await page.locator('#coords-dialog [name="lon"]').fill('44.01');
    await page.locator('#coords-dialog [name="lon"]').press('Enter');
    await page.locator('#results .totals').waitFor();
    const near = await api(server.base, `/collections/sites/near?lon=44.01&lat=36.19&radius=30000&limit=10000&round=${round}`);
    const listed = await page.locator('#results table.sites tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.id));
    assert.deepEqual(listed.sort(), near.features.map((f) => String(f.id)).sort());
    await page.locator('#results .close').click();
  });
});

describe('Arabic', () => {
  it('writes change figures and legend bounds in their order, and round labels in Arabic digits', async () => {
    const rounds = (await api(server.base, '/collections/governorates')).rounds;
    const labelled = rounds.filter((r) => r.label).pop();
    await openMap(page, server.base, `/?lang=ar&round=${labelled.id}`);
    await page.evaluate(() => window.dtmap.openPanel('governorates', 'IQG15'));
    await page.locator('#panel .counts .delta bdi').first().waitFor();
    const delta = await visualText('#panel tr[data-field="idp_individuals"] .delta');
    assert.ok(delta.logical.length > 4, delta.logical);
    assert.equal(delta.visual, delta.logical, 'the change reads in written order');
    assert.match(delta.logical, /^[−+±][٠-٩٬]+\([−+±][٠-٩٫]+٪\)$/, delta.logical);
    const change = await visualText('#legend .change bdi');
    assert.equal(change.lines, 1, 'a figure is not split across lines');
    assert.equal(change.visual, change.logical);
    assert.match(change.logical, /^[−+±][٠-٩٬]+\([−+±][٠-٩٫]+٪\)$/, change.logical);
    // The chart's years in Arabic digits.
    assert.doesNotMatch(await page.locator('#panel svg.chart').evaluate((svg) => [...svg.querySelectorAll('text')].map((x) => x.textContent).join(' ')), /[0-9]/);
    // Every bound: its minus (if any) before its digits.
    for (const bound of await page.$$('#legend .classes bdi')) {
      const chars = await bound.evaluate((el) => el.textContent);
      assert.match(chars.replace(/[\u200e]/g, ''), /^−?[٠-٩٬]+$/);
    }
    assert.match(await page.locator('#round-label').innerText(), /[٠-٩]/);
    assert.doesNotMatch(await page.locator('#round-label').innerText(), /[0-9]/);
    // A negative figure in an isolate: the minus renders to the left of the digits.
    const minus = await page.evaluate(() => {
      const el = document.createElement('span');
      el.innerHTML = '<bdi dir="ltr" class="num">\u200e−٢٢٠٬٦٠٨\u200e</bdi>';
      document.getElementById('legend').append(el);
      const text = el.firstChild.firstChild;
      const at = (i) => { const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1); return r.getBoundingClientRect().left; };
      const result = at(1) < at(2);
      el.remove();
      return result;
    });
    assert.ok(minus, 'the minus to the left of the digits');
    await screenshot(page, 'ux-2-arabic-figures');
  });

  it('leaves no English string on the page, the controls\' tooltips, errors and sources included, in Arabic and Kurdish', async () => {
    const names = new Set();
    for (const r of (await api(server.base, '/collections/governorates')).rounds) if (r.label) names.add(r.label);
    for (const layer of ['governorates', 'sites']) {
      const items = await api(server.base, `/collections/${layer}/items?limit=10000`);
      for (const f of items.features) for (const v of Object.values(f.properties)) if (typeof v === 'string') names.add(v);
    }
    const technical = ['GeoJSON', 'CSV', 'XLSX', 'PNG', 'MapLibre', 'TileJSON', 'iframe'];
    const english = async (what) => {
      const found = await page.evaluate(() => {
        const out = [];
        const skip = (el) => el.closest('.title, .data, .maplibregl-ctrl-attrib, select, script, style, #share-dialog textarea, #share-dialog input');
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const el = node.parentElement;
          if (!el || skip(el) || !el.checkVisibility() || !node.data.trim()) continue;
          out.push(node.data.trim());
        }
        for (const el of document.querySelectorAll('[title], [aria-label], [placeholder], [aria-valuetext]')) {
          if (el.closest('.title, .maplibregl-ctrl-attrib-inner') || !el.checkVisibility()) continue;
          for (const a of ['title', 'aria-label', 'placeholder', 'aria-valuetext']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
        }
        const select = document.getElementById('lang');
        if (select) out.push(select.selectedOptions[0].textContent);
        return out;
      });
      const left = found.map((text) => {
        let rest = text;
        for (const n of [...names].sort((a, b) => b.length - a.length)) if (n.length > 1) rest = rest.split(n).join(' ');
        for (const w of technical) rest = rest.split(w).join(' ');
        return rest;
      }).filter((rest) => /[A-Za-z]{2,}/.test(rest));
      assert.deepEqual(left, [], `English in Arabic mode (${what})`);
    };
    await openMap(page, server.base, '/?lang=ar');
    await english('the page');
    await page.evaluate(() => window.dtmap.openPanel('governorates', 'IQG08'));
    await page.locator('#panel .counts').waitFor();
    await english('an area panel');
    await page.locator('#panel .area-query').click();
    await page.locator('#results .totals').waitFor();
    await english('query results');
    await page.locator('#results .close').click();
    const site = (await api(server.base, '/collections/sites/items?limit=1')).features[0];
    await page.evaluate((id) => window.dtmap.openPanel('sites', id), String(site.id));
    await page.locator('#panel[data-layer="sites"] .counts').waitFor();
    assert.match(await page.locator('#panel .source').innerText(), /بيانات توضيحية/);
    await english('a site panel (synthetic source)');
    await page.evaluate(() => window.dtmap.runQuery({ kind: 'area', area: 'governorates/none', name: '?' }));
    await page.locator('#results .error').waitFor();
    await english('an error from the server');
    await page.keyboard.press('Escape');
    await page.locator('#search').fill('zzzzqqq');
    await english('search with no match');
    await page.locator('#search').press('Escape');
    await page.locator('#coords-open').click();
    await english('the coordinates dialog');
    await page.keyboard.press('Escape');
    await page.locator('#share').click();
    await english('the share dialog');
    await page.keyboard.press('Escape');
    // MapLibre's controls.
    assert.equal(await page.getAttribute('.maplibregl-ctrl-zoom-in', 'title'), 'تكبير');
    assert.match(await page.locator('.maplibregl-ctrl-scale').innerText(), /كم|م/);
    // The datasets page, linked in the page's language.
    const datasets = await page.locator('#datasets-link').evaluate((a) => a.href);
    assert.match(datasets, /\/datasets\?lang=ar$/);
    await page.goto(datasets, { waitUntil: 'load' });
    await page.waitForSelector('#datasets[data-ready="true"]');
    assert.equal(await page.evaluate(() => document.documentElement.dir), 'rtl');
    assert.ok(await page.locator('#datasets section[data-layer="governorates"] tbody tr').count() > 5);
    assert.match(await page.locator('#datasets section[data-layer="governorates"] .all-rounds a').first().getAttribute('href'), /all\.csv$/);
    await english('the datasets page');
    // The same in Kurdish (Sorani).
    await openMap(page, server.base, '/?lang=ckb');
    await english('the page in Kurdish');
    await page.evaluate((id) => window.dtmap.openPanel('sites', id), String(site.id));
    await page.locator('#panel[data-layer="sites"] .counts').waitFor();
    await english('a site panel in Kurdish');
    await page.evaluate(() => window.dtmap.runQuery({ kind: 'area', area: 'governorates/none', name: '?' }));
    await page.locator('#results .error').waitFor();
    await english('an error in Kurdish');
    await page.keyboard.press('Escape');
    assert.equal(await page.getAttribute('.maplibregl-ctrl-zoom-in', 'title'), 'نزیککردنەوە');
  });
});

describe('export', () => {
  it('downloads the view as a PNG at twice its size with title, legend, round, source and disclaimer', async () => {
    await openMap(page, server.base, '/?lang=ar');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#export-image').click(),
    ]);
    const bytes = readFileSync(await download.path());
    assert.deepEqual([...bytes.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'a PNG');
    assert.equal(bytes.toString('latin1', 12, 16), 'IHDR');
    const size = { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
    const map = await page.evaluate(() => {
      const r = document.getElementById('map').getBoundingClientRect();
      return { width: Math.round(r.width), height: Math.round(r.height) };
    });
    assert.deepEqual(size, { width: map.width * 2, height: map.height * 2 });
    // Decoded in the browser: the legend's box holds swatches and text, not one colour.
    const check = await page.evaluate(async (b64) => {
      const blob = new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/png' });
      const bitmap = await createImageBitmap(blob);
      const { legend } = await window.dtmap.exportImage();
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext('2d');
      ctx.drawImage(bitmap, 0, 0);
      const data = ctx.getImageData(legend.x, legend.y, legend.w, legend.h).data;
      const colours = new Set();
      for (let i = 0; i < data.length; i += 4) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      const swatch = new Set(['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026'].map((h) => parseInt(h.slice(1), 16)));
      return { width: bitmap.width, colours: colours.size, swatches: [...swatch].filter((c) => colours.has(c)).length, legend };
    }, bytes.toString('base64'));
    assert.equal(check.width, size.width);
    assert.ok(check.legend.x > size.width / 2, 'the legend on the right in Arabic');
    assert.ok(check.colours > 20, `the legend area is not empty (${check.colours} colours)`);
    assert.ok(check.swatches >= 4, 'the class colours are in the legend');
  });

  it('offers every round of a layer as one CSV and XLSX file', async () => {
    const meta = await api(server.base, '/collections/governorates');
    const response = await fetch(`${server.base}/datasets/governorates/all.csv`);
    assert.equal(response.status, 200);
    const lines = (await response.text()).trim().split(/\r?\n/);
    assert.equal(lines.length, 1 + meta.featureCount * meta.rounds.length);
    assert.match(lines[0], /idp_individuals/);
    const xlsx = await fetch(`${server.base}/datasets/governorates/all.xlsx`);
    assert.equal(xlsx.status, 200);
    assert.equal(Buffer.from(await xlsx.arrayBuffer()).toString('latin1', 0, 2), 'PK');
    await page.locator('#share').click();
    const href = await page.getAttribute('[data-all-rounds="governorates"]', 'href');
    assert.match(href, /\/datasets\/governorates\/all\.csv$/);
    await page.keyboard.press('Escape');
  });

  it('has a print stylesheet that hides the controls and keeps the map and legend', async () => {
    await page.emulateMedia({ media: 'print' });
    const shown = await page.evaluate(() => ({
      tools: document.querySelector('.tools').checkVisibility(),
      search: document.querySelector('.search').checkVisibility(),
      map: document.getElementById('map').checkVisibility(),
      legend: document.getElementById('legend').checkVisibility(),
    }));
    await page.emulateMedia({ media: 'screen' });
    assert.deepEqual(shown, { tools: false, search: false, map: true, legend: true });
  });

  it('raised no page error', async () => {
    await mapReady(page);
    assert.deepEqual(pageErrors, []);
  });
});
