//! The dashboard's data endpoints — every figure the dashboard page shows, as JSON or CSV,
//! so partners can build their own: `/dashboard/summary`, `/dashboard/ranking`,
//! `/dashboard/trend`, `/dashboard/origins`, and `/published` (the published figures
//! exactly as published, with their sources).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::items::select_round;
use super::{data_response, json_response, AppState, Format, Negotiated, QueryParams};
use crate::dashboard::{self, DashboardError};
use crate::error::ApiError;
use crate::model::Snapshot;

impl From<DashboardError> for ApiError {
    fn from(e: DashboardError) -> ApiError {
        match e {
            DashboardError::NotConfigured => ApiError::not_found(e.to_string()),
            DashboardError::UnknownArea(_) => ApiError::bad_request(format!("area: {e}")),
        }
    }
}

/// Parameters of the dashboard endpoints.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardParams {
    /// Round id (latest by default).
    pub round: Option<String>,
    /// Restrict to one area (its id in the dashboard's area layer).
    pub area: Option<String>,
    /// Output format.
    pub f: Option<String>,
}

fn csv_of<T: Serialize>(rows: &[T]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    for row in rows {
        let _ = writer.serialize(row);
    }
    writer.into_inner().unwrap_or_default()
}

/// The round asked for, in the same snapshot the handler answers from (a reload between two
/// loads could otherwise pair a round position with other data).
fn round_of(snapshot: &Snapshot, round: Option<&str>) -> Result<usize, ApiError> {
    let (areas, _) = dashboard::layers(snapshot)?;
    select_round(areas, round, None)?
        .ok_or_else(|| ApiError::not_found("the dashboard's layer has no rounds"))
}

/// `GET /dashboard/summary?round=&area=`
pub async fn summary(
    State(state): State<Arc<AppState>>,
    Negotiated(format): Negotiated,
    QueryParams(params): QueryParams<DashboardParams>,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    let round = round_of(&snapshot, params.round.as_deref())?;
    let summary = dashboard::summary(&snapshot, round, params.area.as_deref())?;
    if format == Format::Csv {
        #[derive(Serialize)]
        struct Row<'a> {
            round: &'a str,
            area: &'a str,
            metric: &'a str,
            value: Option<i64>,
            previous: Option<i64>,
            change: Option<i64>,
            synthetic: bool,
            sources: String,
        }
        let rows: Vec<Row<'_>> = summary
            .figures
            .iter()
            .map(|h| Row {
                round: &summary.round,
                area: summary.area.as_deref().unwrap_or(""),
                metric: &h.metric,
                value: h.value,
                previous: h.previous,
                change: h.change,
                synthetic: h.synthetic,
                sources: h.sources.join(" | "),
            })
            .collect();
        return Ok(data_response(csv_of(&rows), super::CSV));
    }
    Ok(json_response(&json!(summary), super::JSON))
}

/// `GET /dashboard/ranking?round=`
pub async fn ranking(
    State(state): State<Arc<AppState>>,
    Negotiated(format): Negotiated,
    QueryParams(params): QueryParams<DashboardParams>,
) -> Result<Response, ApiError> {
    if params.area.is_some() {
        return Err(ApiError::bad_request("area: the ranking covers every area"));
    }
    let snapshot = state.current();
    let round = round_of(&snapshot, params.round.as_deref())?;
    let rows = dashboard::ranking(&snapshot, round)?;
    if format == Format::Csv {
        return Ok(data_response(csv_of(&rows), super::CSV));
    }
    let (areas, _) = dashboard::layers(&snapshot)?;
    Ok(json_response(
        &json!({ "round": areas.rounds[round].id, "ranking": rows }),
        super::JSON,
    ))
}

/// `GET /dashboard/trend?area=`
pub async fn trend(
    State(state): State<Arc<AppState>>,
    Negotiated(format): Negotiated,
    QueryParams(params): QueryParams<DashboardParams>,
) -> Result<Response, ApiError> {
    if params.round.is_some() {
        return Err(ApiError::bad_request("round: the trend covers every round"));
    }
    let snapshot = state.current();
    let points = dashboard::trend(&snapshot, params.area.as_deref())?;
    if format == Format::Csv {
        return Ok(data_response(csv_of(&points), super::CSV));
    }
    let (areas, sites) = dashboard::layers(&snapshot)?;
    Ok(json_response(
        &json!({
            "area": params.area,
            "areasLayer": areas.id,
            "sitesLayer": sites.map(|s| &s.id),
            "mainCount": snapshot.dashboard.as_ref().map(|d| &d.main_count),
            "trend": points,
        }),
        super::JSON,
    ))
}

/// `GET /dashboard/origins`: published figures by area of origin.
pub async fn origins(
    State(state): State<Arc<AppState>>,
    Negotiated(format): Negotiated,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    dashboard::layers(&snapshot)?;
    let rows = dashboard::origins(&snapshot);
    if format == Format::Csv {
        return Ok(data_response(csv_of(&rows), super::CSV));
    }
    Ok(json_response(
        &json!({
            "note": "Published figures by area of origin. The data has no complete origin × displacement matrix.",
            "origins": rows,
        }),
        super::JSON,
    ))
}

/// `GET /published`: every published figure, exactly as published, with its source.
pub async fn published(
    State(state): State<Arc<AppState>>,
    Negotiated(format): Negotiated,
) -> Result<Response, ApiError> {
    let snapshot = state.current();
    if format == Format::Csv {
        return Ok(data_response(csv_of(&snapshot.published), super::CSV));
    }
    Ok(json_response(
        &json!({ "figures": snapshot.published }),
        super::JSON,
    ))
}
