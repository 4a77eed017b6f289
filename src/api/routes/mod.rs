//! The route table of docs/api.md and the small handlers (health, OpenAPI) and body parsing
//! the route modules share.

pub mod components;
pub mod deploy;
pub mod flows;
pub mod lambda;
pub mod runtime;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::error::ApiError;
use super::state::AppState;
use super::{events, metrics, openapi};

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
    serde_json::from_value(value).map_err(|e| ApiError::bad_field("", e.to_string()))
}

/// `GET /api/health`
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

/// `GET /api/openapi.json`
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(openapi::document())
}

/// Unknown `/api` routes.
async fn no_route(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no route {} {}",
        req.method(),
        req.path()
    )))
}

/// Registers every API route and `/metrics`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use web::{delete, get, post, put, resource};
    cfg.service(resource("/metrics").route(get().to(metrics::metrics)))
        .service(
            web::scope("/api")
                .service(resource("/health").route(get().to(health)))
                .service(resource("/openapi.json").route(get().to(openapi)))
                .service(resource("/components").route(get().to(components::list)))
                .service(resource("/components/{type}/test").route(post().to(components::test)))
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
                .service(resource("/flows/{id}/events").route(get().to(events::events)))
                .service(resource("/flows/{id}/nodes/{node}/send").route(post().to(runtime::send)))
                .service(
                    resource("/flows/{id}/nodes/{node}/messages")
                        .route(get().to(runtime::messages))
                        .route(delete().to(runtime::clear_messages)),
                )
                .service(resource("/lambda/functions").route(post().to(lambda::functions)))
                .service(resource("/lambda/qualifiers").route(post().to(lambda::qualifiers)))
                .default_service(web::to(no_route)),
        );
}
