//! The integration tests of the HTTP API and of loading: one binary, one module per
//! resource. Servers bind 127.0.0.1 only.

mod admin;
mod admin_process;
mod common;
mod cql2;
mod dashboard;
mod features;
mod fgb;
mod gdal;
mod hardening;
mod limits;
mod load_actions;
mod load_report;
mod loading;
mod ogc;
mod other;
mod queries;
mod reload;
mod remote_fgb;
mod replicas;
mod spatial;
mod walkthrough;
