//! The route table of docs/api.md and the small handlers (health, OpenAPI) and body parsing
//! the route modules share.

pub mod components;
pub mod deploy;
pub mod flows;
pub mod lambda;
pub mod runtime;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::openapi::ErrorDoc;
use super::state::AppState;
use super::{auth, events, metrics, openapi};
use crate::flow::validate::without_values;

/// The shared state as handlers take it.
pub type Data = web::Data<AppState>;

/// Parses a JSON request body, reporting where the syntax breaks.
pub fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_field(
            "",
            format!(
                "the body is not valid JSON (line {} column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

/// Parses a JSON request body into a request type.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value = parse_json(body)?;
    // serde would read a struct from an array too; every request body is an object.
    if !value.is_object() {
        return Err(ApiError::bad_field("", "the body must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| {
        let message = without_values(&e.to_string());
        // A missing top-level field is named by its pointer.
        let pointer = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| format!("/{}", crate::message::escape_pointer(name)))
            .unwrap_or_default();
        ApiError::bad_field(pointer, message)
    })
}

/// A flow named in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FlowPath {
    /// Flow id.
    #[param(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    pub id: String,
}

/// A node of a flow named in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NodePath {
    /// Flow id.
    #[param(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    pub id: String,
    /// Node id.
    #[param(pattern = "^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    pub node: String,
}

/// The `If-Match` header of writes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatch {
    /// The flow's `rev` as its ETag (`"<rev>"`, or `*`); a stale one is refused with 412.
    #[serde(rename = "If-Match")]
    pub if_match: Option<String>,
}

/// The server is up.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(pattern = "^ok$")]
    pub status: String,
    /// The server's version.
    pub version: String,
}

/// `GET /api/health`
#[utoipa::path(get, path = "/api/health", tag = "server",
    responses((status = 200, description = "Up (never needs the token)", body = Health),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// `GET /api/openapi.json`
#[utoipa::path(get, path = "/api/openapi.json", tag = "server",
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn openapi(state: Data) -> HttpResponse {
    HttpResponse::Ok().json(openapi::document(state.settings.token.is_some()))
}

/// Unknown `/api` routes (the path is not echoed).
async fn no_route(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no {} route at this path (the routes are listed in /api/openapi.json)",
        req.method()
    )))
}

/// Registers every API route and `/metrics`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use actix_web::middleware::from_fn;
    use web::{delete, get, post, put, resource};
    // The guards wrap what the router matched: each service below carries its own, and the
    // `/api` scope guards everything inside it (unknown routes included).
    cfg.service(
        resource("/metrics")
            .wrap(from_fn(auth::token))
            .route(get().to(metrics::metrics)),
    )
    .service(
        resource("/api/health")
            .wrap(from_fn(auth::public))
            .route(get().to(health)),
    )
    .service(
        resource("/api/flows/{id}/events")
            .wrap(from_fn(auth::token_or_query))
            .route(get().to(events::events)),
    )
    .service(
        web::scope("/api")
            .wrap(from_fn(auth::token))
            .service(resource("/openapi.json").route(get().to(openapi)))
            .service(resource("/components").route(get().to(components::list)))
            .service(resource("/components/{type}/test").route(post().to(components::test)))
            .service(
                resource("/components/{type}/actions/{action}")
                    .route(post().to(components::action)),
            )
            .service(resource("/lambda/functions").route(post().to(lambda::functions)))
            .service(resource("/lambda/qualifiers").route(post().to(lambda::qualifiers)))
            .service(resource("/flows").route(get().to(flows::list)))
            .service(
                resource("/flows/{id}")
                    .route(get().to(flows::get))
                    .route(put().to(flows::put))
                    .route(delete().to(flows::delete)),
            )
            .service(resource("/flows/{id}/start").route(post().to(flows::start)))
            .service(resource("/flows/{id}/stop").route(post().to(flows::stop)))
            .service(
                resource("/flows/{id}/deploy")
                    .route(get().to(deploy::deployed))
                    .route(post().to(deploy::deploy)),
            )
            .service(resource("/flows/{id}/status").route(get().to(flows::status)))
            .service(resource("/flows/{id}/workers").route(get().to(deploy::workers)))
            .service(resource("/flows/{id}/nodes/{node}/send").route(post().to(runtime::send)))
            .service(
                resource("/flows/{id}/nodes/{node}/messages")
                    .route(get().to(runtime::messages))
                    .route(delete().to(runtime::clear_messages)),
            )
            .default_service(web::to(no_route)),
    );
}
