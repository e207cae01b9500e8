//! dtmap: a map tile and query server for humanitarian displacement data.
//!
//! The data flows one way, and each step has its module:
//!
//! ```text
//! config ──▶ data (load + join) ──▶ index ──▶ query ──▶ api ──▶ server
//!  TOML       GeoJSON/FGB/CSV/XLSX   R-tree    bbox,      HTTP     router,
//!             counts by id & round             filters    handlers middleware
//! ```
//!
//! - [`config`]: the TOML file, env overrides, every default and limit as a constant.
//! - [`data`]: reads geometry sources and count tables, joins counts onto features by id
//!   and round, reports every bad row ([`data::LoadReport`]); the only module that reads files.
//! - [`model`]: the immutable [`model::Snapshot`] of layers, features, rounds and counts.
//! - [`provenance`]: published, computed or illustrative: what every figure is, said once.
//! - [`index`]: the R-tree of each layer.
//! - [`geometry`]: GeoJSON geometry in (checked) and out; polygonal areas prepared for
//!   point tests, and their validity sweep.
//! - [`query`]: selections (bbox, filters, sort) over a layer; no HTTP.
//! - [`dashboard`]: headline figures, ranking and trend of a round, from the snapshot.
//! - [`api`]: one file per HTTP resource; reads the snapshot, never files.
//! - [`error`]: `ApiError`, the one place errors become HTTP responses.
//! - [`server`]: the router, the middleware, `run`.
//! - [`tiles`]: vector tiles (clip, simplify, cluster, MVT), TileJSON, the style and its glyphs.
//! - [`web`]: the bundled map client.
//! - [`publish`]: rounds uploaded as drafts, published as immutable versions, rolled back;
//!   the data directory and the audit log (used by the admin routes and `dtmap round`).
//! - [`export`]: static publishing, the tile pyramid as one PMTiles file with its style.
//! - [`progress`]: progress bars of long steps on a terminal, step durations in the log.
//! - [`parallel`]: a map over items on every core, for the long steps of a load.
//! - [`deadline`], [`background`]: the request deadline that long loops watch, and freeing
//!   large snapshots off the threads that serve requests.
//!
//! Invariants: coordinates are WGS84 lon/lat everywhere outside tile encoding; a snapshot is
//! never mutated, a reload swaps in a whole new one, and one with load errors is never served.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod background;
pub mod builtin;
pub mod config;
pub mod dashboard;
pub mod data;
pub mod deadline;
pub mod error;
pub mod export;
pub mod geometry;
pub mod index;
pub mod model;
pub mod net;
pub mod parallel;
pub mod progress;
pub mod provenance;
pub mod publish;
pub mod query;
pub mod reload;
pub mod server;
pub mod tiles;
pub mod web;
