// Starts MapLibre as early as the page allows: loaded as an `async` module ahead of the
// client's own modules, it evaluates MapLibre and starts its worker (the slowest step of a
// cold load) while the rest of the client and its data are still arriving. app.js waits
// on `maplibreReady`.

export const maplibreReady = import('./vendor/maplibre-gl.mjs').then((module) => {
  module.prewarm();
  return module;
});
