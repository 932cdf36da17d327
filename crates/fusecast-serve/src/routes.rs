//! The HTTP routes. Every answer a client can cause is a status and a JSON message naming the
//! field at fault; nothing a client sends reaches a panic.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fusecast_data::time::format_timestamp;
use serde_json::json;
use tokio::sync::oneshot;

use crate::request::{bad_request, parse};
use crate::schema::{
    level_key, ErrorBody, ErrorResponse, ForecastOutput, ForecastRequest, ForecastResponse, Status,
    TimeSeriesForecast, FORECAST_OUTPUT, UNIVARIATE,
};
use crate::worker::Msg;
use crate::AppState;

pub fn router(state: AppState) -> Router {
    let limit = state.body_limit;
    Router::new()
        .route("/v1/timeseries/forecast", post(forecast))
        .route("/v1/series", get(series))
        .route("/v1/model", get(model))
        .route("/v1/reload", post(reload))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "no such route; see /v1/timeseries/forecast, /v1/series, /v1/model, /healthz, /metrics",
                None,
                "NotFound",
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Counts every answer by route and status, with its latency.
async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = match req.uri().path() {
        "/v1/timeseries/forecast" => "forecast",
        "/v1/series" => "series",
        "/v1/model" => "model",
        "/v1/reload" => "reload",
        "/healthz" => "healthz",
        "/metrics" => "metrics",
        _ => "other",
    };
    let t0 = Instant::now();
    let res = next.run(req).await;
    state
        .metrics
        .request(route, res.status().as_u16(), t0.elapsed().as_secs_f64());
    res
}

fn error(status: StatusCode, message: &str, param: Option<String>, kind: &str) -> Response {
    let body = ErrorResponse {
        error: ErrorBody {
            code: Some(status.as_u16().to_string()),
            message: message.to_string(),
            param,
            kind: kind.to_string(),
        },
    };
    (status, Json(body)).into_response()
}

fn error_body(status: StatusCode, body: ErrorBody) -> Response {
    (status, Json(ErrorResponse { error: body })).into_response()
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn new_id(prefix: &str) -> String {
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}_{nanos:x}{n:06x}")
}

/// ISO 8601 wall clock, as the request's timestamps.
fn iso(t: i64) -> String {
    let mut s = format_timestamp(t).replacen(' ', "T", 1);
    if s.len() == 10 {
        s.push_str("T00:00:00");
    } else if s.len() == 16 {
        s.push_str(":00");
    }
    s
}

async fn forecast(State(state): State<AppState>, body: Bytes) -> Response {
    let req: ForecastRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error_body(
                StatusCode::BAD_REQUEST,
                bad_request(
                    format!("the body is not a forecast request: {e}"),
                    None,
                    "BadRequestError",
                ),
            )
        }
    };
    let info = state.info();
    let parsed = match parse(&req, &info.facts) {
        Ok(p) => p,
        Err(e) => return error_body(StatusCode::BAD_REQUEST, e),
    };
    let levels: Vec<f64> = parsed
        .levels
        .iter()
        .map(|&l| info.facts.levels[l])
        .collect();
    let (reply, answer) = oneshot::channel();
    match state.tx.try_send(Msg::Forecast { parsed, reply }) {
        Ok(()) => {}
        Err(std::sync::mpsc::TrySendError::Full(_)) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the service is at its queue limit; retry shortly",
                None,
                "Busy",
            )
        }
        Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the model worker has stopped",
                None,
                "Unavailable",
            )
        }
    }
    let results = match tokio::time::timeout(state.timeout, answer).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the model worker dropped this request",
                None,
                "InternalError",
            )
        }
        Err(_) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("no answer within {:?}", state.timeout),
                None,
                "Timeout",
            )
        }
    };
    let frequency = crate::request::frequency_code(info.facts.frequency).to_string();
    let outputs: Vec<ForecastOutput> = req
        .inputs
        .iter()
        .zip(results)
        .enumerate()
        .map(|(i, (input, result))| match result {
            Ok(f) => ForecastOutput {
                kind: FORECAST_OUTPUT.into(),
                id: new_id("ts"),
                status: Status::Completed,
                content: vec![TimeSeriesForecast {
                    kind: UNIVARIATE.into(),
                    name: input.name.clone(),
                    mean_forecast: f.mean,
                    frequency: frequency.clone(),
                    start_timestamp: iso(f.start),
                    quantiles: levels
                        .iter()
                        .zip(f.quantiles)
                        .map(|(l, q)| (level_key(*l), q))
                        .collect(),
                    note: None,
                }],
                error: None,
            },
            Err(message) => ForecastOutput {
                kind: FORECAST_OUTPUT.into(),
                id: new_id("ts"),
                status: Status::Error,
                content: Vec::new(),
                error: Some(bad_request(
                    message,
                    Some(format!("inputs[{i}]")),
                    "invalid_input",
                )),
            },
        })
        .collect();
    let failed = outputs.iter().filter(|o| o.status == Status::Error).count();
    let status = match failed {
        0 => Status::Completed,
        n if n == outputs.len() => Status::Error,
        _ => Status::Partial,
    };
    let response = ForecastResponse {
        id: new_id("resp"),
        created_at: now_seconds(),
        status,
        error: None,
        model: req.model.clone().unwrap_or_else(|| info.name.clone()),
        outputs,
    };
    Json(response).into_response()
}

async fn series(State(state): State<AppState>) -> Response {
    let info = state.info();
    Json(json!({ "model": info.name, "series": info.series })).into_response()
}

async fn model(State(state): State<AppState>) -> Response {
    Json(state.info().as_ref().clone()).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn reload(State(state): State<AppState>) -> Response {
    let (reply, answer) = oneshot::channel();
    if state.tx.try_send(Msg::Reload { reply }).is_err() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the model worker is stopped or at its queue limit; retry shortly",
            None,
            "Unavailable",
        );
    }
    match answer.await {
        Ok(Ok(info)) => Json(json!({
            "reloaded": info.run_dir,
            "data_fingerprint": info.data_fingerprint,
            "best_epoch": info.best_epoch,
        }))
        .into_response(),
        // The old model keeps serving.
        Ok(Err(e)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("reload failed, the previous model keeps serving: {e}"),
            None,
            "ReloadFailed",
        ),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the model worker dropped the reload",
            None,
            "InternalError",
        ),
    }
}
