// Copies the pinned MapLibre GL JS build and its licence from node_modules into vendor/,
// where src/web.rs embeds them. Run with `npm ci && npm run vendor`.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const dist = 'node_modules/maplibre-gl/dist/';
const { version } = JSON.parse(readFileSync('node_modules/maplibre-gl/package.json', 'utf8'));
mkdirSync('vendor', { recursive: true });
for (const file of ['maplibre-gl.mjs', 'maplibre-gl-worker.mjs', 'maplibre-gl.css']) {
  // The source maps are not shipped: drop the comment that would make devtools ask for them.
  const text = readFileSync(dist + file, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  writeFileSync('vendor/' + file, text);
}
copyFileSync('node_modules/maplibre-gl/LICENSE.txt', 'vendor/MAPLIBRE-LICENSE.txt');
writeFileSync('vendor/VERSIONS', `maplibre-gl ${version}\n`);
console.log(`vendored maplibre-gl ${version}`);
