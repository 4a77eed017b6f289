//! The designer at `/`: the files of `web/dist`, embedded with rust-embed (read from disk in
//! debug builds), with index.html as the fallback for the designer's own routes. When the
//! designer was not built, `/` answers a short page saying how to build it, so `cargo build`
//! never needs Node.

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

use super::error::ApiError;

#[derive(RustEmbed)]
#[folder = "web/dist"]
#[allow_missing = true]
struct Designer;

/// The page served when `web/dist` has no index.html.
pub const NOT_BUILT: &str = "<!doctype html>
<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lambdaflow</title></head>
<body style=\"font-family: sans-serif; max-width: 40em; margin: 4em auto\">
<h1>lambdaflow</h1>
<p>The API is up, but this binary was built without the designer.</p>
<p>Build it, then rebuild lambdaflow:</p>
<pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build
cd .. &amp;&amp; cargo build --release</pre>
<p>The API is described at <a href=\"api/openapi.json\">/api/openapi.json</a>.</p>
</body></html>
";

fn file_response(path: &str, file: rust_embed::EmbeddedFile) -> HttpResponse {
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    HttpResponse::Ok()
        .content_type(file.metadata.mimetype())
        .insert_header((header::CACHE_CONTROL, cache))
        .body(file.data.into_owned())
}

fn index() -> HttpResponse {
    match Designer::get("index.html") {
        Some(file) => file_response("index.html", file),
        None => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(NOT_BUILT),
    }
}

/// Serves a designer file, or index.html for paths that are designer routes.
pub async fn serve(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(ApiError::MethodNotAllowed);
    }
    let path = req.path().trim_start_matches('/');
    if path.is_empty() || path == "index.html" {
        return Ok(index());
    }
    if let Some(file) = Designer::get(path) {
        return Ok(file_response(path, file));
    }
    let last = path.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        return Err(ApiError::NotFound("no such file".into()));
    }
    Ok(index())
}
