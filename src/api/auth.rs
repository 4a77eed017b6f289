//! Request guards: the bearer token (compared in constant time) and refusal of cross-origin
//! requests, wrapped on the `/api` scope and the `/metrics` resource (so they guard what the
//! router routes, whatever the spelling of the path), and, on every request, refusal of foreign
//! `Host` names on loopback (DNS rebinding).
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

/// What a guarded route accepts, beyond the loopback `Host` check every request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Same-origin requests only; no token needed (`/api/health`).
    Public,
    /// Same-origin requests with the bearer token, when one is set (`/api`, `/metrics`).
    Token,
    /// As [`Access::Token`], or with the token as `?token=` (the event stream).
    TokenOrQuery,
}

/// The loopback `Host` check (DNS rebinding), for every request.
fn check_host(req: &ServiceRequest, state: &AppState) -> Result<(), ApiError> {
    if state.settings.loopback
        && let Some(host) = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
        && !is_loopback_name(host)
    {
        return Err(ApiError::Forbidden(
            "this server answers only to loopback host names (localhost, 127.0.0.1)".into(),
        ));
    }
    Ok(())
}

/// The origin and token checks of a guarded route.
fn check(req: &ServiceRequest, state: &AppState, access: Access) -> Result<(), ApiError> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        let same = match (origin_authority(origin), host) {
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
    if access == Access::Public {
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
        None if access == Access::TokenOrQuery => {
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

/// Runs `verdict` on the request: refuses it with the error, or passes it on.
async fn refuse_or_call(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
    verdict: impl FnOnce(&ServiceRequest, &AppState) -> Result<(), ApiError>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let verdict = match req.app_data::<web::Data<AppState>>() {
        Some(state) => verdict(&req, state),
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

/// Middleware of the whole app: refuses foreign `Host` names on loopback (DNS rebinding).
pub async fn host(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    refuse_or_call(req, next, check_host).await
}

/// Middleware wrapped on the `/api` scope and `/metrics`: origin and bearer token. It guards
/// what the router matched (the percent-decoded path), so no spelling of a path gets past it.
pub async fn token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    refuse_or_call(req, next, |r, s| check(r, s, Access::Token)).await
}

/// Middleware of the event stream: as [`token`], and `?token=` also counts.
pub async fn token_or_query(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    refuse_or_call(req, next, |r, s| check(r, s, Access::TokenOrQuery)).await
}

/// Middleware of `/api/health`: the origin check only.
pub async fn public(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    refuse_or_call(req, next, |r, s| check(r, s, Access::Public)).await
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
