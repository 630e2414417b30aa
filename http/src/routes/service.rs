//! Service routes: health and the OpenAPI document.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::AppState;
use crate::error::ApiResult;
use crate::openapi::doc;

/// 200 when the store answers, 503 otherwise.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses(
        (status = 200, description = "The store answers", body = doc::Health),
        (status = 503, description = "The store does not answer"),
    ))]
pub(crate) async fn healthz(State(st): State<AppState>) -> ApiResult {
    match st.core.store().ping().await {
        Ok(()) => Ok(axum::Json(json!({ "status": "ok" })).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "health check: the store does not answer");
            Ok((
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({ "detail": "The store does not answer." })),
            )
                .into_response())
        }
    }
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "service",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
pub(crate) async fn openapi() -> ApiResult {
    Ok(axum::Json(crate::openapi::spec()).into_response())
}
