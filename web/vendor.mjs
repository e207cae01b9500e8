// Copies the pinned MapLibre GL JS build and the PMTiles reader (for maps exported as
// static files) with their licences from node_modules into vendor/, where src/web.rs
// embeds them. Run with `npm ci && npm run vendor`.
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
// The PMTiles reader as one self-contained script (it defines the global `pmtiles`).
const pmtiles = JSON.parse(readFileSync('node_modules/pmtiles/package.json', 'utf8'));
copyFileSync('node_modules/pmtiles/dist/pmtiles.js', 'vendor/pmtiles.js');
// The package names its licence (BSD-3-Clause) but ships no licence file: its text, with the
// copyright holder of the Protomaps PMTiles repository.
writeFileSync('vendor/PMTILES-LICENSE.txt', `pmtiles ${pmtiles.version}: ${pmtiles.license}

Copyright Protomaps LLC

Redistribution and use in source and binary forms, with or without modification, are
permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this list of
   conditions and the following disclaimer.
2. Redistributions in binary form must reproduce the above copyright notice, this list of
   conditions and the following disclaimer in the documentation and/or other materials
   provided with the distribution.
3. Neither the name of the copyright holder nor the names of its contributors may be used
   to endorse or promote products derived from this software without specific prior
   written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS
OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF
MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE
COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL,
EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF
SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION)
HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR
TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS
SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
`);
writeFileSync('vendor/VERSIONS', `maplibre-gl ${version}\npmtiles ${pmtiles.version}\n`);
console.log(`vendored maplibre-gl ${version}, pmtiles ${pmtiles.version}`);
