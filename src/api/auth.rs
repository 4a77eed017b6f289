//! Request guards for `/api` and `/metrics`: the bearer token (compared in constant time), and
//! refusal of cross-origin requests and, on loopback, of foreign `Host` names (DNS rebinding).
//!
//! No CORS headers are ever sent, so browsers keep other origins' scripts from reading answers;
//! the origin check also stops them from *sending* state-changing requests (a form post needs
//! no preflight). The event stream also accepts `?token=`, since `EventSource` cannot set
//! headers.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError as _, web};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::error::ApiError;
use super::state::AppState;

/// Whether two tokens are equal, in time independent of where they differ and of their lengths.
pub fn token_matches(given: &str, expected: &str) -> bool {
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.as_slice().ct_eq(b.as_slice()).into()
}

fn is_loopback_name(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The `host[:port]` part of an `Origin` header (`None` for `null` or garbage).
fn origin_authority(origin: &str) -> Option<&str> {
    let (_, rest) = origin.split_once("://")?;
    let authority = rest.split('/').next()?;
    (!authority.is_empty()).then_some(authority)
}

fn check(req: &ServiceRequest, state: &AppState) -> Result<(), ApiError> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    if state.settings.loopback
        && let Some(host) = &host
        && !is_loopback_name(host)
    {
        return Err(ApiError::Forbidden(
            "this server answers only to loopback host names (localhost, 127.0.0.1)".into(),
        ));
    }
    let path = req.path();
    let guarded = path == "/api" || path.starts_with("/api/") || path == "/metrics";
    if !guarded {
        return Ok(());
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        let same = match (origin_authority(origin), &host) {
            (Some(authority), Some(host)) if authority.eq_ignore_ascii_case(host) => true,
            (Some(authority), _) => state.settings.loopback && is_loopback_name(authority),
            (None, _) => false,
        };
        if !same {
            return Err(ApiError::Forbidden(
                "cross-origin requests are not allowed".into(),
            ));
        }
    }
    let Some(expected) = &state.settings.token else {
        return Ok(());
    };
    if path == "/api/health" {
        return Ok(());
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            let (scheme, token) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    let ok = match bearer {
        Some(token) => token_matches(token, expected),
        None if path.ends_with("/events") => {
            query_token(req.query_string()).is_some_and(|token| token_matches(&token, expected))
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

fn query_token(query: &str) -> Option<String> {
    web::Query::<std::collections::HashMap<String, String>>::from_query(query)
        .ok()?
        .0
        .remove("token")
}

/// Middleware: answers 401/403 before any route runs when the request may not proceed.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let verdict = match req.app_data::<web::Data<AppState>>() {
        Some(state) => check(&req, state),
        None => Err(ApiError::Internal("server state missing".into())),
    };
    match verdict {
        Ok(()) => Ok(next.call(req).await?.map_into_left_body()),
        Err(e) => {
            tracing::debug!(path = %req.path(), status = e.status_code().as_u16(), "Request refused.");
            Ok(req.into_response(e.error_response()).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly() {
        assert!(token_matches("abc", "abc"));
        assert!(!token_matches("abd", "abc"));
        assert!(!token_matches("ab", "abc"));
        assert!(!token_matches("", "abc"));
    }

    #[test]
    fn loopback_names_are_recognised() {
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:1",
            "[::1]:80",
            "app.localhost",
            "127.1.2.3",
        ] {
            assert!(is_loopback_name(ok), "{ok}");
        }
        for bad in [
            "evil.com",
            "evil.com:8080",
            "10.0.0.1",
            "localhost.evil.com",
        ] {
            assert!(!is_loopback_name(bad), "{bad}");
        }
    }

    #[test]
    fn origins_yield_their_authority() {
        assert_eq!(
            origin_authority("http://127.0.0.1:8080"),
            Some("127.0.0.1:8080")
        );
        assert_eq!(origin_authority("null"), None);
    }
}
