//! `GET|POST /collections/{id}/totals`: sums of every count column of a point layer over
//! an area (a geometry, or another layer's feature such as a state) or a circle, with the
//! breakdown by group, for one round or every round, as JSON or CSV; each figure with its
//! provenance (published where an area's own published figures equal the sums).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::items::select_round;
use super::queries::{
    area_body_from_params, pool_for, refuse_deep_text, resolve_area, AreaBody, AreaParams,
    JsonBody, QueryArea,
};
use super::{data_response, json_response, layer, AppState, Format, Negotiated, QueryParams};
use crate::error::ApiError;
use crate::index::point_tree::{Region, RegionSums};
use crate::model::{FieldValue, Layer, Snapshot};
use crate::provenance::Provenance;
use crate::query::search::{self, AreaRegion, CircleRegion, Relation};

/// `GET /collections/{id}/totals`
pub async fn totals_get(
    state: State<Arc<AppState>>,
    format: Negotiated,
    path: Path<String>,
    QueryParams(params): QueryParams<AreaParams>,
) -> Result<Response, ApiError> {
    let body = area_body_from_params(&params)?;
    totals(state, format, path, params, body).await
}

/// `POST /collections/{id}/totals` with an [`AreaBody`].
pub async fn totals_post(
    state: State<Arc<AppState>>,
    format: Negotiated,
    path: Path<String>,
    QueryParams(params): QueryParams<AreaParams>,
    JsonBody(body): JsonBody<AreaBody>,
) -> Result<Response, ApiError> {
    if params.geometry.is_some() || params.area.is_some() || params.lon.is_some() {
        return Err(ApiError::bad_request(
            "with POST, give the geometry, area or circle in the body",
        ));
    }
    totals(state, format, path, params, body).await
}

async fn totals(
    State(state): State<Arc<AppState>>,
    Negotiated(format): Negotiated,
    Path(id): Path<String>,
    params: AreaParams,
    body: AreaBody,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    let layer = layer(&snapshot, &id)?;
    if layer.points().is_none() {
        return Err(ApiError::bad_request(format!(
            "totals sum the sites of a point layer; {} is not one",
            layer.id
        )));
    }
    if layer.count_columns.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{} has no counts to total",
            layer.id
        )));
    }
    let series = match params.rounds.as_deref() {
        None => false,
        Some("all") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "rounds: {other:?} — the only value is all"
            )))
        }
    };
    if series && (params.round.is_some() || params.datetime.is_some()) {
        return Err(ApiError::bad_request(
            "give rounds=all or a round, not both",
        ));
    }
    let round = select_round(layer, params.round.as_deref(), params.datetime.as_deref())?;
    let by_group = match params.group.as_deref() {
        None | Some("true") => layer.group_by.is_some(),
        Some("false") => false,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "group: {other:?} is not true or false"
            )))
        }
    };
    refuse_deep_text(&body)?;
    let layer = layer.clone();
    pool_for(&state, &body)
        .clone()
        .run(move || totals_answer(&snapshot, &layer, body, round, series, by_group, format))
        .await
}

/// The costly part of totals: the area checked and indexed, the sums, the answer.
fn totals_answer(
    snapshot: &Snapshot,
    layer: &Layer,
    body: AreaBody,
    round: Option<usize>,
    series: bool,
    by_group: bool,
    format: Format,
) -> Result<Response, ApiError> {
    let query_area = resolve_area(snapshot, body, true)?;
    let (sums, described, relation) = match &query_area {
        QueryArea::Polygon {
            area,
            relation,
            described,
            ..
        } => (
            run_totals(
                layer,
                &AreaRegion {
                    area,
                    relation: *relation,
                },
                by_group,
            ),
            described.clone(),
            Some(*relation),
        ),
        QueryArea::Circle { center, metres } => (
            run_totals(layer, &CircleRegion::new(*center, *metres), by_group),
            json!({ "type": "circle", "lon": center.x(), "lat": center.y(), "radius_m": metres }),
            None,
        ),
    };
    let rounds: Vec<usize> = if series {
        (0..layer.rounds.len()).collect()
    } else {
        round.into_iter().collect()
    };
    if format == Format::Csv {
        return Ok(data_response(
            totals_csv(snapshot, layer, &sums, &rounds),
            super::CSV,
        ));
    }
    let mut out = json!({
        "collection": layer.id,
        "area": described,
        "relation": relation.map(|r| match r { Relation::Intersects => "intersects", Relation::Within => "within" }),
        "sites": sums.points,
        "synthetic": layer.has_synthetic(),
        "countColumns": layer.count_columns,
    });
    let round_entry = |r: usize, values: &[i64], groups: Option<Value>| {
        let (provenance, breakdown) = totals_provenance(snapshot, layer, &described, values, r);
        let mut entry = json!({
            "round": layer.rounds[r].id,
            "label": layer.rounds[r].label,
            "date": layer.rounds[r].date,
            "totals": totals_object(layer, values, r),
            "provenance": provenance,
            "breakdown": breakdown,
        });
        if let Some(groups) = groups {
            entry["byGroup"] = groups;
        }
        entry
    };
    let names = group_layer(snapshot, layer).filter(|_| by_group);
    let groups_of = |r: usize| -> Option<Value> {
        let group_by = layer.group_by.as_ref().filter(|_| by_group)?;
        let list: Vec<Value> = sums
            .by_group
            .iter()
            .map(|(&g, (points, values))| {
                let id = group_by.values.get(g as usize).cloned();
                let (name, names) = id
                    .as_deref()
                    .and_then(|id| group_name(names, id))
                    .map(|(n, a)| (n, json!(a)))
                    .unwrap_or((Value::Null, json!({})));
                json!({
                    "id": id,
                    "name": name,
                    "names": names,
                    "sites": points,
                    "totals": totals_object(layer, values, r),
                })
            })
            .collect();
        Some(json!({ "field": group_by.field, "groups": list }))
    };
    if series {
        out["series"] = Value::Array(
            rounds
                .iter()
                .map(|&r| round_entry(r, &sums.sums, groups_of(r)))
                .collect(),
        );
    } else if let Some(r) = round {
        let entry = round_entry(r, &sums.sums, groups_of(r));
        for key in [
            "round",
            "label",
            "date",
            "totals",
            "provenance",
            "breakdown",
            "byGroup",
        ] {
            if let Some(v) = entry.get(key) {
                out[key] = v.clone();
            }
        }
    }
    Ok(json_response(&out, super::JSON))
}

/// Where the totals of round `r` come from: computed from the summed sites' figures
/// (illustrative when any of the round's are), unless the area is another layer's feature
/// whose own published figures for the round are exactly these sums — then published, over
/// the computed breakdown.
fn totals_provenance(
    snapshot: &Snapshot,
    layer: &Layer,
    described: &Value,
    values: &[i64],
    r: usize,
) -> (Provenance, Option<Provenance>) {
    let computed = Provenance::of_sum(layer.round_totals[r].any_illustrative);
    let area_figures = || {
        let area_layer = snapshot.layer(described["layer"].as_str()?)?;
        let feature = area_layer.position(described["id"].as_str()?)?;
        let round = area_layer.round_position(&layer.rounds[r].id)?;
        let record = area_layer.count(round, feature)?;
        let columns = layer.count_columns.len();
        let same = layer.count_columns.iter().enumerate().all(|(c, name)| {
            area_layer.count_column(name).is_none_or(|ac| {
                record
                    .value(ac)
                    .is_none_or(|v| Some(&v) == values.get(r * columns + c))
            })
        });
        (same && record.provenance() == Provenance::Published).then_some(())
    };
    match area_figures() {
        Some(()) => (Provenance::Published, Some(computed)),
        None => (computed, None),
    }
}

fn run_totals(layer: &Layer, region: &dyn Region, by_group: bool) -> RegionSums {
    search::totals(layer, region, by_group).unwrap_or(RegionSums {
        points: 0,
        sums: vec![0; layer.sums_width()],
        by_group: Default::default(),
    })
}

/// `{column: sum}` for round `r` from round-major sums.
fn totals_object(layer: &Layer, values: &[i64], r: usize) -> Value {
    let columns = layer.count_columns.len();
    let mut object = Map::new();
    for (c, name) in layer.count_columns.iter().enumerate() {
        object.insert(
            name.clone(),
            json!(values.get(r * columns + c).copied().unwrap_or(0)),
        );
    }
    Value::Object(object)
}

/// The layer whose features the groups of `layer` are, when it names one.
fn group_layer<'a>(snapshot: &'a Snapshot, layer: &Layer) -> Option<&'a Layer> {
    layer
        .group_by
        .as_ref()
        .and_then(|g| g.layer.as_deref())
        .and_then(|id| snapshot.layer(id))
        .map(|l| &**l)
}

/// The default name and the names by language of group `id`: its feature in the group
/// layer, found by id (an answer names only the groups it has, not every feature).
fn group_name(
    group_layer: Option<&Layer>,
    id: &str,
) -> Option<(Value, std::collections::BTreeMap<String, String>)> {
    let layer = group_layer?;
    let feature = layer.feature(id)?;
    let name = layer
        .name_field
        .as_ref()
        .and_then(|n| feature.properties.get(n).map(FieldValue::to_value))
        .unwrap_or(Value::Null);
    Some((name, layer.names_of(feature)))
}

/// Totals as CSV (with a BOM): one row per round and group (group empty for the total).
fn totals_csv(snapshot: &Snapshot, layer: &Layer, sums: &RegionSums, rounds: &[usize]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let mut header = vec![
        "round".to_string(),
        "group".into(),
        "group_name".into(),
        "sites".into(),
    ];
    header.extend(layer.count_columns.iter().cloned());
    let _ = writer.write_record(&header);
    let names = group_layer(snapshot, layer);
    let columns = layer.count_columns.len();
    for &r in rounds {
        let mut row = vec![
            layer.rounds[r].id.clone(),
            String::new(),
            String::new(),
            sums.points.to_string(),
        ];
        row.extend((0..columns).map(|c| sums.sums[r * columns + c].to_string()));
        let _ = writer.write_record(&row);
        if let Some(group_by) = &layer.group_by {
            for (&g, (points, values)) in &sums.by_group {
                let id = group_by.values.get(g as usize).cloned().unwrap_or_default();
                let name = group_name(names, &id)
                    .and_then(|(n, _)| n.as_str().map(str::to_string))
                    .unwrap_or_default();
                let mut row = vec![layer.rounds[r].id.clone(), id, name, points.to_string()];
                row.extend((0..columns).map(|c| values[r * columns + c].to_string()));
                let _ = writer.write_record(&row);
            }
        }
    }
    writer.into_inner().unwrap_or_default()
}
