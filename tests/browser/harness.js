// Shared by the browser tests: start the release binary on a free port (read from its
// "serving on http://ADDR/" log line), launch Debian's Chromium with playwright-core, record
// every request a page makes, save screenshots under artifacts/browser/.

import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
export const artifacts = join(root, 'artifacts', 'browser');

const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic',
];

/** Starts `target/release/dtmap --bind 127.0.0.1:0` (with `args` before, e.g. a config);
 * resolves to {base, stop}. */
export async function startServer(args = []) {
  const binary = process.env.DTMAP_BINARY || join(root, 'target', 'release', 'dtmap');
  const child = spawn(binary, [...args, '--bind', '127.0.0.1:0'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let log = '';
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dtmap did not start in 60 s:\n${log}`)), 60000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      // eslint-disable-next-line no-control-regex
      const match = log.replace(/\x1b\[[0-9;]*m/g, '').match(/serving on (http:\/\/[^\s/]+)\//);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`dtmap exited with ${code}:\n${log}`)); });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
  child.removeAllListeners('exit');
  child.stderr.removeAllListeners('data');
  child.stderr.resume();
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => { if (child.exitCode === null) child.kill('SIGKILL'); }, 5000).unref();
  });
  return { base, stop };
}

/** Launches Chromium with a fresh profile. */
export async function launchBrowser(options = {}) {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const profile = mkdtempSync(join(tmpdir(), 'dtmap-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 800 },
    locale: 'en-GB',
    acceptDownloads: true,
    ...options,
  });
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/** Records every request made in `context` (pages, frames, workers) as URLs. */
export function recordRequests(context) {
  const urls = [];
  context.on('request', (r) => urls.push(r.url()));
  context.on('page', (page) => page.on('websocket', (ws) => urls.push(ws.url())));
  return urls;
}

/** The requests whose host is not 127.0.0.1 (or which use a scheme that reaches out). */
export function external(urls, allowedHosts = ['127.0.0.1']) {
  return urls.filter((u) => {
    const parsed = new URL(u);
    if (parsed.protocol === 'data:' || parsed.protocol === 'blob:') return false;
    return !allowedHosts.includes(parsed.hostname);
  });
}

/** Loads `path` and waits for the map; resolves to the client's timings (ms since navigation). */
export async function openMap(page, base, path = '/') {
  await page.goto(base + path, { waitUntil: 'load' });
  await mapReady(page);
  return page.evaluate(() => window.dtmap.state.timings);
}

/** The page position of a map coordinate [lon, lat]. */
export async function toPage(page, lngLat) {
  return page.evaluate((ll) => {
    const { map } = window.dtmap;
    const p = map.project(ll);
    const rect = map.getContainer().getBoundingClientRect();
    return { x: rect.left + p.x, y: rect.top + p.y };
  }, lngLat);
}

/** Saves a screenshot to artifacts/browser/{name}.png. */
export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

/** Waits until the client has started and the map is idle. */
export async function mapReady(page) {
  await page.waitForFunction(() => window.dtmap && window.dtmap.map, null, { timeout: 60000 });
  await page.evaluate(() => window.dtmap.ready.then(() => true));
  await idle(page);
}

/** Waits for the map's next idle (all tiles loaded, nothing moving). */
export async function idle(page) {
  await page.evaluate(() => new Promise((resolve) => {
    const { map } = window.dtmap;
    // A change made just before may not have started loading yet: wait a frame first.
    requestAnimationFrame(() => requestAnimationFrame(() => {
      if (map.loaded() && !map.isMoving()) resolve();
      else map.once('idle', () => resolve());
    }));
  }));
}

/** GET or POST JSON from the server, from Node. */
export async function api(base, path, body) {
  const response = await fetch(base + path, body ? {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  } : undefined);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Rendered features of style layer `layer` (from the vector tiles, not pixels). */
export function rendered(page, layer) {
  return page.evaluate((id) => window.dtmap.map.queryRenderedFeatures({ layers: [id] })
    .map((f) => ({ id: f.id, properties: f.properties })), layer);
}
