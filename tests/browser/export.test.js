// A map published as static files: `dtmap export` writes the PMTiles archive, the style,
// the glyphs and a viewer page; a plain static file server (range requests, nothing of
// dtmap) serves them, and MapLibre in Chromium draws every governorate with the figures
// the dtmap API gives for the same round.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  api, launchBrowser, root, screenshot, startServer,
} from './harness.js';

/** The features of a style layer drawn in the exported page. */
const rendered = (page, layer) => page.evaluate((id) => window.exported.map
  .queryRenderedFeatures({ layers: [id] }).map((f) => ({ id: f.id, properties: f.properties })), layer);

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.json': 'application/json', '.pbf': 'application/x-protobuf',
  '.pmtiles': 'application/octet-stream', '.txt': 'text/plain',
};

/** A static file server with byte ranges, as any web server or object store answers. */
function staticServer(dir) {
  const ranges = [];
  const server = createServer((req, res) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    if (!path.startsWith(dir)) { res.writeHead(403).end(); return; }
    let size;
    try { size = statSync(path).size; } catch { res.writeHead(404).end(); return; }
    const headers = { 'content-type': TYPES[extname(path)] || 'application/octet-stream', 'accept-ranges': 'bytes' };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : size - 1, size - 1);
      ranges.push([req.url, start, end]);
      res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
      createReadStream(path, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': size });
    createReadStream(path).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    base: `http://127.0.0.1:${server.address().port}`, ranges, close: () => server.close(),
  })));
}

let dir;
let files;
let dtmap;
let browser;
const failed = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dtmap-export-'));
  const binary = process.env.DTMAP_BINARY || join(root, 'target', 'release', 'dtmap');
  execFileSync(binary, ['export', '--out', dir, '--max-zoom', '7'], { cwd: root, stdio: 'ignore' });
  files = await staticServer(dir);
  dtmap = await startServer();
  browser = await launchBrowser();
  browser.context.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
  // A request the page itself cancels (a tile no longer needed once the map has moved on)
  // is not a failure of the server.
  browser.context.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') failed.push(`failed ${r.url()} (${r.failure()?.errorText})`);
  });
});

after(async () => {
  await browser?.close();
  await dtmap?.stop();
  files?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a map exported as static files', () => {
  it('draws every governorate with the figures of the API, from the archive by range requests', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${files.base}/index.html`, { waitUntil: 'load' });
    await page.waitForFunction(() => window.exported, null, { timeout: 30000 });
    await page.evaluate(() => window.exported.ready);
    const meta = await api(dtmap.base, '/collections/governorates');
    const items = await api(dtmap.base, `/collections/governorates/items?round=${meta.latestRound}&limit=100`);
    const drawn = new Map((await rendered(page, 'governorates-fill')).map((f) => [String(f.id), f.properties]));
    assert.deepEqual([...drawn.keys()].sort(), items.features.map((f) => f.id).sort(), 'every governorate drawn');
    for (const f of items.features) {
      assert.equal(drawn.get(f.id).idp_individuals, f.properties.idp_individuals, f.id);
      assert.equal(drawn.get(f.id).provenance, f.properties.provenance, f.id);
    }
    const sites = await rendered(page, 'sites-circle');
    assert.ok(sites.length > 0, 'sites drawn');
    assert.ok(files.ranges.some(([url]) => url.endsWith('/map.pmtiles')), 'the archive is read by ranges');
    assert.deepEqual(failed, []);
    await screenshot(page, 'export-1-static');
  });
});
