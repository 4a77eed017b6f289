//! The one place SDK results become failures: [`classify`] maps an `Invoke` result (an
//! `SdkError<InvokeError>`, or a 200 carrying `X-Amz-Function-Error`) to a [`Failure`] of one of
//! Fiorano's four error types, with its code, retry hint, `Retry-After` and record context.
//! [`control_error`] applies the same mapping to the control-plane calls.
//!
//! Everything is decided on typed values, never on error text:
//! - a service error by its code, through the table in [`super::table`] (every `InvokeError`
//!   variant has a row), else by its HTTP status;
//! - 200 + `X-Amz-Function-Error` (`Handled`, `Unhandled`): `requestProcessing`, final;
//! - `DispatchFailure` (nothing came back: connect refused or reset, DNS, connect timeout):
//!   `connection`, retryable; when a credential provider failed, see below;
//! - `ResponseError` whose cause is a transport failure while the body was read (reset, early
//!   EOF, I/O error): `connection` `ResponseInterrupted`, retryable; any other `ResponseError`
//!   (a body the SDK cannot parse): `requestProcessing` `MalformedResponse`, final;
//! - `TimeoutError` (`invokeTimeoutMs` passed after the request was sent; the function may
//!   have run): `connection` `Timeout`, retried only with `connection.retryTimeouts`;
//! - a credential provider's failure (`CredentialsError`): timed out, caused by transport (its
//!   endpoint — STS, SSO, IMDS, ECS… — refused, reset, I/O error), or STS/SSO answering a 5xx
//!   or a throttle: retryable `CredentialsUnavailable`; absent, misconfigured or rejected
//!   credentials: final `CredentialsError`;
//! - a 5xx without `x-amzn-errortype` carrying a runtime `{"errorType","errorMessage"}` (how
//!   `cargo lambda watch` reports a function error): `Unhandled`, final.

use std::time::Duration;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_lambda::error::{ConnectorError, ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::RequestId as _;
use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
use aws_sdk_lambda::operation::invoke_with_response_stream::InvokeWithResponseStreamError;
use aws_smithy_types::event_stream::RawMessage;
use serde_json::{Value, json};

use super::error::LambdaError;
use super::payload::{Charset, error_payload_value};
use super::table;
use crate::runtime::{ErrorType, Failure};

/// Longest message text kept from a service or function error.
const MAX_MESSAGE: usize = 1000;

/// Maps one `Invoke` result: a success passes through; a function error (200 with
/// `X-Amz-Function-Error`) and every SDK error become a [`Failure`]. The failure's
/// `requestContext` gets `requestId` when there is one; the caller adds the function context.
pub fn classify(
    result: Result<InvokeOutput, SdkError<InvokeError>>,
    charset: Charset,
    retry_timeouts: bool,
) -> Result<InvokeOutput, Failure> {
    match result {
        Ok(out) => match out.function_error() {
            None => Ok(out),
            Some(kind) => Err(function_error(&out, kind, charset)),
        },
        Err(err) => {
            let mut d = describe(&err);
            if let Some(f) = emulated_function_error(&d) {
                return Err(f);
            }
            if matches!(err, SdkError::TimeoutError(_)) {
                d.retryable = retry_timeouts;
            }
            let modelled = err.as_service_error().and_then(table::modelled);
            if let Some(row) = modelled {
                d.error_type = row.error_type;
                d.retryable = row.retryable;
            }
            // A modelled throttle carries `Retry-After` as a member too (mocked errors have
            // only that).
            if d.retry_after.is_none()
                && let Some(InvokeError::TooManyRequestsException(e)) = err.as_service_error()
            {
                d.retry_after = e.retry_after_seconds().and_then(parse_retry_after);
            }
            // A throttle says whose limit was hit (account, function, caller…).
            let reason = match err.as_service_error() {
                Some(InvokeError::TooManyRequestsException(e)) => {
                    e.reason().map(|r| r.as_str().to_owned())
                }
                _ => None,
            }
            .or_else(|| {
                d.body
                    .as_ref()
                    .and_then(|b| b.get("Reason"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
            Err(failure_of(d, reason))
        }
    }
}

/// Maps an `InvokeWithResponseStream` error before the stream began, as [`classify`] maps an
/// `Invoke` error: by code through the table (the two operations share their error codes),
/// else by status.
pub fn classify_stream_start(
    err: &SdkError<InvokeWithResponseStreamError>,
    retry_timeouts: bool,
) -> Failure {
    let mut d = describe(err);
    if let Some(f) = emulated_function_error(&d) {
        return f;
    }
    if matches!(err, SdkError::TimeoutError(_)) {
        d.retryable = retry_timeouts;
    }
    let reason = d
        .body
        .as_ref()
        .and_then(|b| b.get("Reason"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    failure_of(d, reason)
}

/// Maps an error reading a response stream: the connection failing (a reset, an EOF inside a
/// frame) is `connection` `ResponseInterrupted`, retryable; a frame or event the SDK cannot
/// read is `requestProcessing` `MalformedResponse`; an `exception` message is
/// `requestProcessing` with its code.
pub fn classify_stream_event<E>(err: &SdkError<E, RawMessage>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let interrupted = || {
        Failure::new(
            ErrorType::Connection,
            "ResponseInterrupted",
            truncate(format!(
                "the connection failed while the response stream was read: {}",
                error_chain(err)
            )),
        )
        .retryable(true)
    };
    match err {
        SdkError::DispatchFailure(_) => interrupted(),
        SdkError::ResponseError(_) if transport_cause(err) => interrupted(),
        // Bytes left over when the body ended: it ended inside a frame.
        SdkError::ResponseError(_)
            if matches!(err.raw_response(), Some(RawMessage::Invalid(Some(_)))) =>
        {
            interrupted()
        }
        SdkError::TimeoutError(_) => Failure::new(
            ErrorType::Connection,
            "Timeout",
            "the response stream stalled past the SDK's timeout",
        ),
        SdkError::ServiceError(service) => {
            let meta = service.err().meta();
            let code = meta.code().unwrap_or("StreamException").to_owned();
            let (error_type, retryable) = table::row_for_code(&code)
                .map(|row| (row.error_type, row.retryable))
                .unwrap_or((ErrorType::RequestProcessing, false));
            Failure::new(
                error_type,
                code,
                truncate(format!(
                    "the response stream carried an error: {}",
                    meta.message().unwrap_or("no message")
                )),
            )
            .retryable(retryable)
        }
        _ => Failure::new(
            ErrorType::RequestProcessing,
            "MalformedResponse",
            truncate(format!(
                "the response stream could not be read: {}",
                error_chain(err)
            )),
        ),
    }
}

/// The failure an SDK error describes, with its throttle `reason` when there is one.
fn failure_of(d: Described, reason: Option<String>) -> Failure {
    let throttled = d.status == Some(429) || is_throttling_code(&d.code);
    let mut f = Failure::new(d.error_type, d.code, d.message)
        .retryable(d.retryable)
        .throttled(throttled)
        .with_retry_after(d.retry_after)
        .with_detail(reason.clone());
    if let Some(id) = d.request_id {
        f = f.with_request_context("requestId", id);
    }
    if let Some(status) = d.status {
        let mut ctx = json!({"statusCode": status});
        if let Some(t) = &d.error_code_header {
            ctx["errorType"] = json!(t);
        }
        if let Some(r) = &reason {
            ctx["reason"] = json!(r);
        }
        f = f.with_response_context(ctx);
    }
    if let Some(body) = d.body {
        f = f.with_response_payload(body);
    }
    f
}

/// Maps a control-plane (`ListFunctions`, `ListAliases`, …) error to a [`LambdaError`].
pub fn control_error<E>(operation: &'static str, err: &SdkError<E>) -> LambdaError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let d = describe(err);
    match d.error_type {
        ErrorType::Connection => LambdaError::Connection {
            node: None,
            code: d.code,
            message: d.message,
            retryable: d.retryable,
        },
        _ => LambdaError::Service {
            node: None,
            operation,
            status: d.status,
            code: d.code,
            message: d.message,
            retryable: d.retryable,
        },
    }
}

fn function_error(out: &InvokeOutput, kind: &str, charset: Charset) -> Failure {
    let bytes = out.payload().map(|b| b.as_ref()).unwrap_or_default();
    let payload = error_payload_value(charset, bytes);
    let detail = match (
        payload.get("errorType").and_then(Value::as_str),
        payload.get("errorMessage").and_then(Value::as_str),
    ) {
        (Some(t), Some(m)) => format!(": {t}: {m}"),
        (Some(t), None) => format!(": {t}"),
        (None, Some(m)) => format!(": {m}"),
        (None, None) => String::new(),
    };
    let mut ctx = json!({"statusCode": out.status_code(), "functionError": kind});
    if let Some(v) = out.executed_version() {
        ctx["executedVersion"] = json!(v);
    }
    let mut f = Failure::new(
        ErrorType::RequestProcessing,
        kind,
        truncate(format!("the function returned an error ({kind}){detail}")),
    )
    .with_response_context(ctx)
    .with_response_payload(payload);
    if let Some(id) = out.request_id() {
        f = f.with_request_context("requestId", id);
    }
    f
}

/// Local emulators (`cargo lambda watch`) answer a function error with HTTP 500 and the
/// runtime's `{"errorType", "errorMessage"}` document, without `X-Amz-Function-Error` or
/// `x-amzn-errortype`. AWS never answers a service error without `x-amzn-errortype`, so such a
/// response is the function's error: `Unhandled` (what Lambda reports for an error a runtime
/// posts), not retried.
fn emulated_function_error(d: &Described) -> Option<Failure> {
    if d.error_code_header.is_some() || d.status.is_none_or(|s| s < 500) {
        return None;
    }
    let body = d.body.as_ref()?;
    let error_type = body.get("errorType")?.as_str()?;
    let error_message = body
        .get("errorMessage")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut f = Failure::new(
        ErrorType::RequestProcessing,
        "Unhandled",
        truncate(format!(
            "the function returned an error (Unhandled; the endpoint answered HTTP {} without \
             X-Amz-Function-Error, as local emulators do): {error_type}: {error_message}",
            d.status.unwrap_or_default()
        )),
    )
    .with_response_context(json!({"statusCode": d.status, "functionError": "Unhandled"}))
    .with_response_payload(body.clone());
    if let Some(id) = &d.request_id {
        f = f.with_request_context("requestId", id.clone());
    }
    Some(f)
}

/// An SDK error, described.
struct Described {
    error_type: ErrorType,
    code: String,
    message: String,
    status: Option<u16>,
    retryable: bool,
    retry_after: Option<Duration>,
    request_id: Option<String>,
    error_code_header: Option<String>,
    body: Option<Value>,
}

impl Described {
    fn new(error_type: ErrorType, code: &str, message: String, retryable: bool) -> Self {
        Described {
            error_type,
            code: code.to_owned(),
            message: truncate(message),
            status: None,
            retryable,
            retry_after: None,
            request_id: None,
            error_code_header: None,
            body: None,
        }
    }
}

fn describe<E>(err: &SdkError<E>) -> Described
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let text = || error_chain(err);
    let mut d = match err {
        SdkError::ConstructionFailure(_) => Described::new(
            ErrorType::Connection,
            "RequestNotBuilt",
            format!("the request could not be built: {}", text()),
            false,
        ),
        SdkError::TimeoutError(_) => Described::new(
            ErrorType::Connection,
            "Timeout",
            "no complete response within invokeTimeoutMs; the request was sent, so the function \
             may have run (retried only with connection.retryTimeouts)"
                .to_owned(),
            false,
        ),
        SdkError::DispatchFailure(dispatch) => {
            let (code, retryable) = if let Some(creds) = find::<CredentialsError>(err) {
                credentials(creds)
            } else if dispatch.is_timeout() {
                ("ConnectTimeout", true)
            } else if dispatch.is_io() {
                ("ConnectionFailed", true)
            } else if dispatch.is_user() {
                ("DispatchFailure", false)
            } else {
                ("DispatchFailure", true)
            };
            Described::new(ErrorType::Connection, code, text(), retryable)
        }
        SdkError::ResponseError(_) if transport_cause(err) => Described::new(
            ErrorType::Connection,
            "ResponseInterrupted",
            format!(
                "the connection failed while the response was read: {}",
                text()
            ),
            true,
        ),
        SdkError::ResponseError(_) => Described::new(
            ErrorType::RequestProcessing,
            "MalformedResponse",
            format!("the response could not be read: {}", text()),
            false,
        ),
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let meta = service.err().meta();
            let code = meta
                .code()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("Http{status}"));
            let (error_type, retryable) = service_error_type(status, &code);
            let body: Option<Value> = service
                .raw()
                .body()
                .bytes()
                .and_then(|b| serde_json::from_slice(b).ok());
            let body_message = body.as_ref().and_then(|b| {
                ["message", "Message", "errorMessage", "detail"]
                    .iter()
                    .find_map(|k| b.get(*k).and_then(Value::as_str))
            });
            let message = meta
                .message()
                .or(body_message)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("HTTP {status} from Lambda"));
            let mut d = Described::new(error_type, &code, message, retryable);
            d.status = Some(status);
            d.error_code_header = meta.code().map(str::to_owned);
            d.body = body;
            d
        }
        _ => Described::new(ErrorType::Connection, "Unknown", text(), false),
    };
    if let Some(raw) = err.raw_response() {
        d.retry_after = raw.headers().get("retry-after").and_then(parse_retry_after);
        if d.status.is_none() && !matches!(err, SdkError::ResponseError(_)) {
            d.status = Some(raw.status().as_u16());
        }
    }
    d.request_id = err.request_id().map(str::to_owned).or_else(|| {
        err.as_service_error()
            .and_then(|e| aws_sdk_lambda::operation::RequestId::request_id(e.meta()))
            .map(str::to_owned)
    });
    d
}

/// A service error's type and retryability: the table's row for its code; else AWS's
/// throttling and transient codes (`aws_runtime`'s lists) are retryable; else by status.
fn service_error_type(status: u16, code: &str) -> (ErrorType, bool) {
    use aws_runtime::retries::classifiers::TRANSIENT_ERRORS;
    if let Some(row) = table::row_for_code(code) {
        return (row.error_type, row.retryable);
    }
    if is_throttling_code(code) || TRANSIENT_ERRORS.contains(&code) {
        return (ErrorType::RequestProcessing, true);
    }
    table::by_status(status)
}

/// Whether `code` is one of AWS's throttling codes (`aws_runtime`'s list), the signal an
/// adaptive concurrency limit backs off on.
fn is_throttling_code(code: &str) -> bool {
    aws_runtime::retries::classifiers::THROTTLING_ERRORS.contains(&code)
}

/// The first error of type `T` in `err`'s source chain (`err` included).
fn find<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        next = e.source();
    }
    None
}

/// Whether a transport failure (an I/O error, a connector error) caused `err`.
fn transport_cause(err: &(dyn std::error::Error + 'static)) -> bool {
    find::<std::io::Error>(err).is_some() || find::<ConnectorError>(err).is_some()
}

/// A credential provider's failure: retryable when it timed out or when the credential
/// service could not be reached, failed (5xx) or throttled; final when the credentials are
/// absent, misconfigured or rejected.
fn credentials(err: &CredentialsError) -> (&'static str, bool) {
    const TRANSIENT: (&str, bool) = ("CredentialsUnavailable", true);
    const FINAL: (&str, bool) = ("CredentialsError", false);
    match err {
        CredentialsError::ProviderTimedOut(_) => TRANSIENT,
        CredentialsError::CredentialsNotLoaded(_) | CredentialsError::InvalidConfiguration(_) => {
            FINAL
        }
        _ => {
            let Some(cause) = std::error::Error::source(err) else {
                return FINAL;
            };
            let service = sts_or_sso_retryable(cause);
            if service.unwrap_or_else(|| transport_cause(cause)) {
                TRANSIENT
            } else {
                FINAL
            }
        }
    }
}

/// For a failed STS or SSO call in `err`'s chain: whether a retry can help, decided as for
/// Lambda's own errors (transport, timeout, 5xx, throttling codes).
fn sts_or_sso_retryable(err: &(dyn std::error::Error + 'static)) -> Option<bool> {
    use aws_sdk_sso::operation::get_role_credentials::GetRoleCredentialsError;
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError;
    fn retryable<E>(e: &SdkError<E>) -> bool
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match e {
            SdkError::TimeoutError(_) => true,
            SdkError::ResponseError(_) => transport_cause(e),
            _ => describe(e).retryable,
        }
    }
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(e) = e.downcast_ref::<SdkError<AssumeRoleError>>() {
            return Some(retryable(e));
        }
        if let Some(e) = e.downcast_ref::<SdkError<AssumeRoleWithWebIdentityError>>() {
            return Some(retryable(e));
        }
        if let Some(e) = e.downcast_ref::<SdkError<GetRoleCredentialsError>>() {
            return Some(retryable(e));
        }
        next = e.source();
    }
    None
}

/// The error and its sources, each once, joined by `: ` (Display texts only: no `Debug` dumps).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// `Retry-After`: delay-seconds (integer or decimal) or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

fn truncate(mut s: String) -> String {
    if s.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_lambda::config::http::HttpResponse;
    use aws_sdk_lambda::error::ConnectorError;
    use aws_sdk_lambda::primitives::{Blob, SdkBody};
    use aws_sdk_lambda::types::ThrottleReason;
    use aws_sdk_lambda::types::error::{
        ResourceNotFoundException, ServiceException, TooManyRequestsException,
    };
    use aws_smithy_types::error::ErrorMetadata;

    fn utf8() -> Charset {
        Charset::for_label("utf-8").unwrap()
    }

    fn raw(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        let mut r = HttpResponse::new(
            http::StatusCode::from_u16(status).unwrap().into(),
            SdkBody::from(body.to_owned()),
        );
        for (k, v) in headers {
            r.headers_mut().insert(k.to_string(), v.to_string());
        }
        r
    }

    fn meta(code: &str, message: &str) -> ErrorMetadata {
        ErrorMetadata::builder()
            .code(code)
            .message(message)
            .custom("aws_request_id", "req-err")
            .build()
    }

    fn fail(err: SdkError<InvokeError>) -> Failure {
        classify(Err(err), utf8(), false).unwrap_err()
    }

    #[test]
    fn success_passes_through() {
        let out = InvokeOutput::builder().status_code(200).build();
        assert!(classify(Ok(out), utf8(), false).is_ok());
    }

    #[test]
    fn function_error_on_200_is_a_failure_never_a_success() {
        for kind in ["Handled", "Unhandled"] {
            let out = InvokeOutput::builder()
                .status_code(200)
                .function_error(kind)
                .executed_version("7")
                .payload(Blob::new(
                    r#"{"errorMessage":"boom","errorType":"DemoFailure"}"#,
                ))
                .build();
            let f = classify(Ok(out), utf8(), false).unwrap_err();
            assert_eq!(f.error_type, ErrorType::RequestProcessing);
            assert_eq!(f.code, kind);
            assert!(!f.retryable);
            assert!(f.message.contains("DemoFailure: boom"), "{}", f.message);
            assert_eq!(
                f.response_context,
                Some(json!({"statusCode": 200, "functionError": kind, "executedVersion": "7"}))
            );
            assert_eq!(
                f.response_payload,
                Some(json!({"errorMessage": "boom", "errorType": "DemoFailure"}))
            );
        }
    }

    #[test]
    fn throttling_is_retryable_with_the_servers_delay() {
        let e = InvokeError::TooManyRequestsException(
            TooManyRequestsException::builder()
                .reason(ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded)
                .message("Rate exceeded")
                .retry_after_seconds("3")
                .meta(meta("TooManyRequestsException", "Rate exceeded"))
                .build(),
        );
        let f = fail(SdkError::service_error(e, raw(429, &[], "")));
        assert_eq!(f.error_type, ErrorType::RequestProcessing);
        assert_eq!(f.code, "TooManyRequestsException");
        assert!(f.retryable);
        assert!(f.throttled, "an adaptive limit backs off on it");
        assert_eq!(f.retry_after, Some(Duration::from_secs(3)));
        assert_eq!(f.request_context["requestId"], "req-err");
        assert_eq!(f.response_context.unwrap()["statusCode"], 429);
    }

    #[test]
    fn retry_after_header_wins_and_dates_are_understood() {
        let e = InvokeError::ServiceException(
            ServiceException::builder()
                .meta(meta("ServiceException", "internal"))
                .build(),
        );
        let f = fail(SdkError::service_error(
            e,
            raw(
                500,
                &[("retry-after", "2")],
                r#"{"Type":"Service","message":"internal"}"#,
            ),
        ));
        assert_eq!((f.code.as_str(), f.retryable), ("ServiceException", true));
        assert!(!f.throttled, "a 5xx is a fault, not a throttle");
        assert_eq!(f.retry_after, Some(Duration::from_secs(2)));
        assert_eq!(
            f.response_payload,
            Some(json!({"Type": "Service", "message": "internal"}))
        );
        let later = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let d = parse_retry_after(&later).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
        // Absurd or negative values from the wire are ignored, never a panic.
        assert_eq!(parse_retry_after("1e300"), None);
        assert_eq!(parse_retry_after("-3"), None);
        assert_eq!(parse_retry_after("NaN"), None);
    }

    #[test]
    fn missing_function_is_final() {
        let e = InvokeError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .meta(meta(
                    "ResourceNotFoundException",
                    "Function not found: hello",
                ))
                .build(),
        );
        let f = fail(SdkError::service_error(e, raw(404, &[], "")));
        assert_eq!(f.error_type, ErrorType::RequestProcessing);
        assert_eq!(f.code, "ResourceNotFoundException");
        assert_eq!(f.message, "Function not found: hello");
        assert!(!f.retryable);
    }

    #[test]
    fn status_and_code_pick_the_error_type() {
        let cases = [
            (
                400,
                "InvalidRequestContentException",
                ErrorType::InvalidRequest,
                false,
            ),
            (
                413,
                "RequestTooLargeException",
                ErrorType::InvalidRequest,
                false,
            ),
            (413, "", ErrorType::InvalidRequest, false),
            (
                403,
                "UnrecognizedClientException",
                ErrorType::Connection,
                false,
            ),
            (403, "AccessDeniedException", ErrorType::Connection, false),
            (
                502,
                "EC2ThrottledException",
                ErrorType::RequestProcessing,
                true,
            ),
            (
                502,
                "InvalidRuntimeException",
                ErrorType::RequestProcessing,
                false,
            ),
            (
                502,
                "KMSAccessDeniedException",
                ErrorType::RequestProcessing,
                false,
            ),
            (503, "", ErrorType::RequestProcessing, true),
            (504, "", ErrorType::RequestProcessing, true),
            (
                409,
                "ResourceConflictException",
                ErrorType::RequestProcessing,
                true,
            ),
            (
                409,
                "DurableExecutionAlreadyStartedException",
                ErrorType::RequestProcessing,
                false,
            ),
            (
                403,
                "EFSMountFailureException",
                ErrorType::RequestProcessing,
                false,
            ),
            (
                403,
                "S3FilesMountFailureException",
                ErrorType::RequestProcessing,
                false,
            ),
            (409, "", ErrorType::RequestProcessing, false),
            (
                400,
                "ModeNotSupportedException",
                ErrorType::RequestProcessing,
                false,
            ),
        ];
        for (status, code, ty, retryable) in cases {
            let meta = if code.is_empty() {
                ErrorMetadata::builder().build()
            } else {
                meta(code, "m")
            };
            let f = fail(SdkError::service_error(
                InvokeError::generic(meta),
                raw(status, &[], ""),
            ));
            assert_eq!(
                (f.error_type, f.retryable),
                (ty, retryable),
                "{status} {code}"
            );
            let want = if code.is_empty() {
                format!("Http{status}")
            } else {
                code.to_owned()
            };
            assert_eq!(f.code, want);
        }
    }

    #[test]
    fn an_emulators_500_with_a_runtime_error_document_is_a_function_error() {
        let body = r#"{"errorType":"DemoFailure","errorMessage":"fail always fails"}"#;
        let f = fail(SdkError::service_error(
            InvokeError::generic(ErrorMetadata::builder().build()),
            raw(500, &[], body),
        ));
        assert_eq!(
            (f.error_type, f.code.as_str(), f.retryable),
            (ErrorType::RequestProcessing, "Unhandled", false)
        );
        assert!(
            f.message.contains("DemoFailure: fail always fails"),
            "{}",
            f.message
        );
        assert_eq!(f.response_context.unwrap()["functionError"], "Unhandled");
        // A real service error names its type: it stays a retryable ServiceException.
        let f = fail(SdkError::service_error(
            InvokeError::generic(meta("ServiceException", "m")),
            raw(500, &[], body),
        ));
        assert_eq!((f.code.as_str(), f.retryable), ("ServiceException", true));
        // Without a runtime error document a bare 500 stays a retryable Http500.
        let f = fail(SdkError::service_error(
            InvokeError::generic(ErrorMetadata::builder().build()),
            raw(500, &[], r#"{"detail":"boom"}"#),
        ));
        assert_eq!(
            (f.code.as_str(), f.retryable, f.message.as_str()),
            ("Http500", true, "boom")
        );
    }

    #[test]
    fn transport_problems_are_connection_errors() {
        let f = fail(SdkError::timeout_error("read timed out"));
        assert_eq!(
            (f.error_type, f.code.as_str(), f.retryable),
            (ErrorType::Connection, "Timeout", false)
        );
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let f = fail(SdkError::dispatch_failure(ConnectorError::io(Box::new(
            refused,
        ))));
        assert_eq!(
            (f.error_type, f.code.as_str(), f.retryable),
            (ErrorType::Connection, "ConnectionFailed", true)
        );
        let f = fail(SdkError::dispatch_failure(ConnectorError::timeout(
            "connect".into(),
        )));
        assert_eq!(f.code, "ConnectTimeout");
        let f = fail(SdkError::response_error("bad xml", raw(200, &[], "<html>")));
        assert_eq!(
            (f.error_type, f.code.as_str(), f.retryable),
            (ErrorType::RequestProcessing, "MalformedResponse", false)
        );
        let missing = aws_credential_types::provider::error::CredentialsError::not_loaded(
            "no credentials found in chain",
        );
        let f = fail(SdkError::dispatch_failure(ConnectorError::other(
            Box::new(missing),
            None,
        )));
        assert_eq!(
            (f.error_type, f.code.as_str(), f.retryable),
            (ErrorType::Connection, "CredentialsError", false)
        );
        assert!(
            f.message.contains("no credentials found in chain"),
            "{}",
            f.message
        );
        assert!(
            !f.message.contains("ConnectorError {"),
            "no Debug dump: {}",
            f.message
        );
        let f = fail(SdkError::construction_failure("no endpoint"));
        assert_eq!((f.error_type, f.retryable), (ErrorType::Connection, false));
    }

    #[test]
    fn control_errors_become_lambda_errors() {
        let e = SdkError::<InvokeError>::service_error(
            InvokeError::generic(meta("AccessDeniedException", "no")),
            raw(403, &[], ""),
        );
        let le = control_error("ListFunctions", &e);
        assert!(
            matches!(
                le,
                LambdaError::Connection {
                    retryable: false,
                    ..
                }
            ),
            "{le:?}"
        );
        let e = SdkError::<InvokeError>::service_error(
            InvokeError::generic(meta("ServiceException", "oops")),
            raw(500, &[], ""),
        );
        let le = control_error("ListAliases", &e);
        assert!(le.retryable());
        assert!(
            le.to_string()
                .contains("ListAliases failed with ServiceException (HTTP 500)")
        );
    }

    #[test]
    fn a_timeout_after_sending_is_final_unless_the_user_opts_in() {
        let f = fail(SdkError::timeout_error("attempt timeout"));
        assert_eq!((f.code.as_str(), f.retryable), ("Timeout", false));
        let f = classify(
            Err(SdkError::timeout_error("attempt timeout")),
            utf8(),
            true,
        )
        .unwrap_err();
        assert_eq!((f.code.as_str(), f.retryable), ("Timeout", true));
    }

    #[test]
    fn a_body_cut_off_by_the_transport_is_a_retryable_connection_error() {
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let f = fail(SdkError::response_error(reset, raw(200, &[], "{")));
        assert_eq!(
            (f.error_type, f.code.as_str(), f.retryable),
            (ErrorType::Connection, "ResponseInterrupted", true)
        );
    }

    #[test]
    fn credential_failures_are_retryable_only_when_transient() {
        use aws_credential_types::provider::error::CredentialsError;
        use aws_sdk_sts::operation::assume_role::AssumeRoleError;
        let cases: Vec<(CredentialsError, &str, bool)> = vec![
            (
                CredentialsError::provider_timed_out(Duration::from_secs(5)),
                "CredentialsUnavailable",
                true,
            ),
            (
                CredentialsError::not_loaded("no credentials in the chain"),
                "CredentialsError",
                false,
            ),
            (
                CredentialsError::invalid_configuration("bad profile"),
                "CredentialsError",
                false,
            ),
            (
                // STS unreachable.
                CredentialsError::provider_error(SdkError::<AssumeRoleError>::dispatch_failure(
                    ConnectorError::io(Box::new(std::io::Error::new(
                        std::io::ErrorKind::ConnectionRefused,
                        "refused",
                    ))),
                )),
                "CredentialsUnavailable",
                true,
            ),
            (
                // STS throttled.
                CredentialsError::provider_error(SdkError::service_error(
                    AssumeRoleError::generic(meta("Throttling", "Rate exceeded")),
                    raw(400, &[], ""),
                )),
                "CredentialsUnavailable",
                true,
            ),
            (
                // STS failed.
                CredentialsError::provider_error(SdkError::service_error(
                    AssumeRoleError::generic(meta("InternalFailure", "oops")),
                    raw(500, &[], ""),
                )),
                "CredentialsUnavailable",
                true,
            ),
            (
                // STS rejected the credentials: final, whatever the text says.
                CredentialsError::provider_error(SdkError::service_error(
                    AssumeRoleError::generic(meta("AccessDenied", "not authorized")),
                    raw(403, &[], ""),
                )),
                "CredentialsError",
                false,
            ),
        ];
        for (creds, code, retryable) in cases {
            let label = format!("{creds:?}");
            let f = fail(SdkError::dispatch_failure(ConnectorError::other(
                Box::new(creds),
                None,
            )));
            assert_eq!(
                (f.error_type, f.code.as_str(), f.retryable),
                (ErrorType::Connection, code, retryable),
                "{label}"
            );
        }
    }

    #[test]
    fn a_throttles_reason_reaches_the_detail_and_the_response_context() {
        let e = InvokeError::TooManyRequestsException(
            TooManyRequestsException::builder()
                .reason(ThrottleReason::ConcurrentInvocationLimitExceeded)
                .message("Rate Exceeded.")
                .meta(meta("TooManyRequestsException", "Rate Exceeded."))
                .build(),
        );
        let f = fail(SdkError::service_error(e, raw(429, &[], "")));
        assert_eq!(
            f.detail.as_deref(),
            Some("ConcurrentInvocationLimitExceeded")
        );
        assert_eq!(
            f.response_context.unwrap()["reason"],
            "ConcurrentInvocationLimitExceeded"
        );
    }

    #[test]
    fn long_messages_are_cut() {
        let s = truncate("é".repeat(MAX_MESSAGE));
        assert!(s.len() <= MAX_MESSAGE + '…'.len_utf8());
    }
}
