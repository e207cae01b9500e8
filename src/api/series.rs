//! Counts across rounds: one feature's series (`/collections/{id}/items/{fid}/rounds`),
//! every feature's series of a layer in one answer (`/collections/{id}/series`, so a map
//! loads all its areas' histories in one request) and the all-rounds time series of a layer
//! as CSV rows (for `/datasets/{layer}/all.csv` and `.xlsx`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::render::{self, PropertyChoice};
use super::{layer, AppState};
use crate::error::ApiError;
use crate::model::Layer;

/// The counts of `feature` in every round of `layer`, with source, synthetic flag and
/// provenance.
pub fn feature_series(layer: &Layer, feature: u32) -> Vec<Value> {
    layer
        .rounds
        .iter()
        .enumerate()
        .map(|(r, round)| {
            let record = layer.count(r, feature);
            let mut counts = serde_json::Map::new();
            for (c, name) in layer.count_columns.iter().enumerate() {
                let value = record.and_then(|rec| rec.value(c));
                counts.insert(name.clone(), json!(value));
            }
            json!({
                "round": round.id,
                "label": round.label,
                "date": round.date,
                "counts": counts,
                "synthetic": record.map(|rec| rec.synthetic()),
                "provenance": record.map(|rec| rec.provenance()),
                "source": record.and_then(|rec| rec.source().map(|s| &**s)),
            })
        })
        .collect()
}

/// `GET /collections/{id}/items/{fid}/rounds`: the feature's counts in every round, with
/// their source and synthetic flag (for charts of a site or area over time).
pub async fn rounds(
    State(state): State<Arc<AppState>>,
    Path((id, fid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    let layer = layer(&snapshot, &id)?;
    let feature = layer
        .position(&fid)
        .ok_or_else(|| ApiError::not_found(format!("no feature {fid:?} in {}", layer.id)))?;
    Ok(super::json_response(
        &json!({
            "collection": layer.id,
            "id": fid,
            "countColumns": layer.count_columns,
            "rounds": feature_series(layer, feature),
        }),
        super::JSON,
    ))
}

/// `GET /collections/{id}/series`: every feature's counts in every round, as
/// `{collection, countColumns, features: [{id, rounds: [...]}]}` (each `rounds` as in the
/// one-feature answer).
pub async fn all(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    let layer = layer(&snapshot, &id)?;
    let features: Vec<Value> = layer
        .features
        .iter()
        .enumerate()
        .map(|(i, f)| json!({ "id": f.id, "rounds": feature_series(layer, i as u32) }))
        .collect();
    Ok(super::json_response(
        &json!({
            "collection": layer.id,
            "countColumns": layer.count_columns,
            "features": features,
        }),
        super::JSON,
    ))
}

/// Every round's rows of `layer` in one CSV (UTF-8 with a BOM, one header): the layer's
/// properties and counts with the round, its label, the synthetic flag and the source.
pub fn time_series_csv(layer: &Layer) -> Vec<u8> {
    let choice = PropertyChoice::all(layer);
    let features: Vec<u32> = (0..layer.features.len() as u32).collect();
    let mut out = Vec::new();
    for r in 0..layer.rounds.len() {
        out.extend(render::write_csv_part(
            layer,
            Some(r),
            &features,
            &choice,
            None,
            r == 0,
        ));
    }
    out
}
