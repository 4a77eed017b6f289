//! Error-handling configuration, the retry loop and the error record (design §6).
//!
//! Every component that can fail carries an `errorHandling` property whose schema is
//! `component-schema/error-handling.schema.json`. For each of Fiorano's four error types it sets
//! the remedial actions: `log`, `sendToErrorPort`, `stopService` and `retry`.
//!
//! Decisions (documented in the README):
//! - `retry.maxAttempts` counts every attempt, the first included (as the AWS SDKs do).
//! - By default a retry only repeats failures that say a retry can help (`retryableOnly`):
//!   throttling, 5xx and connection problems, but not a function error or a missing function.
//! - Computed waits use AWS's "full jitter": a random wait between 0 and
//!   `min(maxIntervalMs, intervalMs × backoffMultiplier^(n-1))`, so messages throttled together
//!   do not retry together. `maxIntervalMs` caps only this computed wait.
//! - A server's `Retry-After` wins over the computed wait and is honoured as given (never
//!   shortened by `maxIntervalMs`), bounded only by its own ceiling `maxRetryAfterMs`; a random
//!   spread of up to `min(Retry-After, intervalMs, maxIntervalMs)` is added after it so
//!   throttled messages that got the same `Retry-After` still spread out.
//! - While retries remain, nothing is routed; the error port and the log see the final outcome
//!   once (condition `RetriesExhausted` when more than one attempt was made, `Failure` when the
//!   first failure was final, `Stopped` when the flow stopped during a retry wait).

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use super::error::{ErrorType, Failure};
use crate::message::{Message, format_time};

/// Remedial actions for every error type (the `errorHandling` property).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ErrorHandling {
    /// The message cannot become a request (bad JSON, too large, rejected as invalid content).
    #[serde(default = "ErrorActions::routed")]
    pub invalid_request: ErrorActions,
    /// The call failed (function error, unknown function, throttling, service errors).
    #[serde(default = "ErrorActions::routed_with_retry")]
    pub request_processing: ErrorActions,
    /// The response cannot become a message (undecodable in the configured charset).
    #[serde(default = "ErrorActions::routed")]
    pub response_generation: ErrorActions,
    /// Endpoint unreachable, timeouts, credentials.
    #[serde(default = "ErrorActions::routed_with_connection_retry")]
    pub connection: ErrorActions,
}

impl Default for ErrorHandling {
    fn default() -> Self {
        ErrorHandling {
            invalid_request: ErrorActions::routed(),
            request_processing: ErrorActions::routed_with_retry(),
            response_generation: ErrorActions::routed(),
            connection: ErrorActions::routed_with_connection_retry(),
        }
    }
}

impl ErrorHandling {
    /// The actions for one error type.
    pub fn actions(&self, error_type: ErrorType) -> &ErrorActions {
        match error_type {
            ErrorType::InvalidRequest => &self.invalid_request,
            ErrorType::RequestProcessing => &self.request_processing,
            ErrorType::ResponseGeneration => &self.response_generation,
            ErrorType::Connection => &self.connection,
        }
    }

    /// How long to wait before attempt `attempts + 1`, or `None` when the failure is final.
    /// The wait is jittered (see [`Retry::delay`]).
    pub fn retry_delay(&self, failure: &Failure, attempts: u32) -> Option<Duration> {
        self.retry_delay_with(failure, attempts, fastrand::f64())
    }

    /// [`ErrorHandling::retry_delay`] with the random draw given (`jitter` in `[0, 1)`).
    pub fn retry_delay_with(
        &self,
        failure: &Failure,
        attempts: u32,
        jitter: f64,
    ) -> Option<Duration> {
        let retry = self.actions(failure.error_type).retry.as_ref()?;
        if !retry.enabled || attempts >= retry.max_attempts {
            return None;
        }
        if retry.retryable_only && !failure.retryable {
            return None;
        }
        Some(retry.delay(attempts, failure.retry_after, jitter))
    }
}

impl ErrorHandling {
    /// The README's table of default actions (between the `error-defaults` markers),
    /// generated from [`ErrorHandling::default`] so the two cannot drift.
    pub fn defaults_markdown() -> String {
        let defaults = ErrorHandling::default();
        let mut out = String::from("| error type | when | default actions |\n|---|---|---|\n");
        for t in ErrorType::ALL {
            let when = match t {
                ErrorType::InvalidRequest => {
                    "the message cannot become a request (body not JSON, too large, rejected as \
                     invalid content)"
                }
                ErrorType::RequestProcessing => {
                    "the call failed (function error Handled/Unhandled, unknown function, \
                     throttling, service errors)"
                }
                ErrorType::ResponseGeneration => {
                    "the response cannot become a message (undecodable in the charset)"
                }
                ErrorType::Connection => "endpoint unreachable, timeouts, credentials",
            };
            let a = defaults.actions(t);
            let mut actions = Vec::new();
            if a.log {
                actions.push("log".to_owned());
            }
            if a.send_to_error_port {
                actions.push("send to error port".to_owned());
            }
            if a.stop_service {
                actions.push("stop the node".to_owned());
            }
            if let Some(r) = a.retry.as_ref().filter(|r| r.enabled) {
                actions.push(format!(
                    "retry {}failures: {} attempts in all, full-jitter backoff up to {} ms \
                     ×{} (capped at {} ms), Retry-After honoured up to {} ms",
                    if r.retryable_only {
                        "retryable "
                    } else {
                        "all "
                    },
                    r.max_attempts,
                    r.interval_ms,
                    r.backoff_multiplier,
                    r.max_interval_ms,
                    r.max_retry_after_ms
                ));
            }
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                t.as_str(),
                when,
                actions.join(", ")
            ));
        }
        out
    }
}

/// Remedial actions for one error type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ErrorActions {
    /// Log the error (with the node id, error type and code; never the payload or secrets).
    #[serde(default = "yes")]
    pub log: bool,
    /// Send an error record to the `error` port.
    #[serde(default = "yes")]
    pub send_to_error_port: bool,
    /// Stop this node after the error has been logged and routed; the rest of the flow runs on.
    #[serde(default)]
    pub stop_service: bool,
    /// Try the request again before giving up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
}

fn yes() -> bool {
    true
}

impl ErrorActions {
    /// Log and send to the error port; no retry.
    pub fn routed() -> Self {
        ErrorActions {
            log: true,
            send_to_error_port: true,
            stop_service: false,
            retry: None,
        }
    }

    /// Log, send to the error port, and retry retryable failures (throttling, 5xx).
    pub fn routed_with_retry() -> Self {
        ErrorActions {
            retry: Some(Retry::default()),
            ..Self::routed()
        }
    }

    /// Log, send to the error port, and retry connection problems a little longer.
    pub fn routed_with_connection_retry() -> Self {
        ErrorActions {
            retry: Some(Retry {
                max_attempts: 5,
                ..Retry::default()
            }),
            ..Self::routed()
        }
    }
}

/// The retry action: how often and how far apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Retry {
    /// Whether to retry at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Attempts in all, the first included.
    #[serde(default = "Retry::default_max_attempts")]
    pub max_attempts: u32,
    /// Wait before the second attempt, in milliseconds.
    #[serde(default = "Retry::default_interval_ms")]
    pub interval_ms: u64,
    /// Each further wait is the previous one times this factor.
    #[serde(default = "Retry::default_backoff_multiplier")]
    pub backoff_multiplier: f64,
    /// Cap on the computed (backoff) wait, in milliseconds. A server's `Retry-After` is not
    /// capped by it (see `max_retry_after_ms`).
    #[serde(default = "Retry::default_max_interval_ms")]
    pub max_interval_ms: u64,
    /// Ceiling on a server's `Retry-After`, in milliseconds: a longer request is waited this
    /// long instead.
    #[serde(default = "Retry::default_max_retry_after_ms")]
    pub max_retry_after_ms: u64,
    /// Only retry failures that say a retry can help (throttling, 5xx, connection problems).
    #[serde(default = "yes")]
    pub retryable_only: bool,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            enabled: true,
            max_attempts: Self::default_max_attempts(),
            interval_ms: Self::default_interval_ms(),
            backoff_multiplier: Self::default_backoff_multiplier(),
            max_interval_ms: Self::default_max_interval_ms(),
            max_retry_after_ms: Self::default_max_retry_after_ms(),
            retryable_only: true,
        }
    }
}

impl Retry {
    fn default_max_attempts() -> u32 {
        3
    }
    fn default_interval_ms() -> u64 {
        1000
    }
    fn default_backoff_multiplier() -> f64 {
        2.0
    }
    fn default_max_interval_ms() -> u64 {
        30_000
    }
    fn default_max_retry_after_ms() -> u64 {
        60_000
    }

    /// The backoff ceiling after `attempts` failed attempts (1 → `intervalMs`, then times the
    /// multiplier), capped at `maxIntervalMs`. The actual wait is a random fraction of it.
    pub fn interval(&self, attempts: u32) -> Duration {
        let exponent = attempts.saturating_sub(1).min(64) as i32;
        let ms = self.interval_ms as f64 * self.backoff_multiplier.max(1.0).powi(exponent);
        Duration::from_millis(ms.min(self.max_interval_ms as f64).max(0.0) as u64)
    }

    /// The wait after `attempts` failed attempts, given the server's `Retry-After` and a random
    /// draw `jitter` in `[0, 1)`:
    /// - without `Retry-After`: full jitter, `jitter × interval(attempts)`;
    /// - with it: `w = min(Retry-After, maxRetryAfterMs)` plus `jitter × min(w, intervalMs,
    ///   maxIntervalMs)`, so the server's wait is honoured and equal waits still spread out.
    pub fn delay(&self, attempts: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let jitter = jitter.clamp(0.0, 1.0);
        match retry_after {
            None => self.interval(attempts).mul_f64(jitter),
            Some(after) => {
                let ceiling = Duration::from_millis(self.max_retry_after_ms);
                let after = after.min(ceiling);
                let spread = Duration::from_millis(self.interval_ms.min(self.max_interval_ms))
                    .min(after)
                    .mul_f64(jitter);
                after + spread
            }
        }
    }
}

/// How a message's handling ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Condition {
    /// The first failure was final (not retryable, or retries are off).
    Failure,
    /// Every allowed attempt failed.
    RetriesExhausted,
    /// The flow stopped while a retry was waiting.
    Stopped,
}

impl Condition {
    /// The name used in error records.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Failure => "Failure",
            Condition::RetriesExhausted => "RetriesExhausted",
            Condition::Stopped => "Stopped",
        }
    }
}

/// The final failure of an operation run with [`with_retries`].
#[derive(Debug, Clone)]
pub struct FinalFailure {
    /// The last failure seen.
    pub failure: Failure,
    /// Attempts made.
    pub attempts: u32,
    /// Why handling ended.
    pub condition: Condition,
}

/// Runs `attempt` until it succeeds or the policy says the failure is final. `attempt` gets the
/// 1-based attempt number. Waits are cut short by `abort`, which ends with `Condition::Stopped`.
pub async fn with_retries<T, F, Fut>(
    policy: &ErrorHandling,
    abort: &CancellationToken,
    mut attempt: F,
) -> Result<(T, u32), FinalFailure>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt(attempts).await {
            Ok(value) => return Ok((value, attempts)),
            Err(failure) => {
                let Some(delay) = policy.retry_delay(&failure, attempts) else {
                    let condition = if attempts > 1 {
                        Condition::RetriesExhausted
                    } else {
                        Condition::Failure
                    };
                    return Err(FinalFailure {
                        failure,
                        attempts,
                        condition,
                    });
                };
                tracing::debug!(
                    attempts,
                    delay_ms = delay.as_millis() as u64,
                    code = %failure.code,
                    "Retrying after failure."
                );
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = abort.cancelled() => {
                        return Err(FinalFailure { failure, attempts, condition: Condition::Stopped });
                    }
                }
            }
        }
    }
}

/// Who produced an error record.
#[derive(Debug, Clone)]
pub struct RecordSource<'a> {
    /// Flow id.
    pub flow: &'a str,
    /// Node id.
    pub node: &'a str,
    /// Component type.
    pub component: &'a str,
}

/// Builds the error record of design §6: a Lambda Destinations execution record (`version`,
/// `timestamp`, `requestContext.{requestId, functionArn, condition, approximateInvokeCount}`,
/// `requestPayload`, `responseContext.{statusCode, executedVersion, functionError}`,
/// `responsePayload`, each under AWS's name and in AWS's place) plus Fiorano's fault as our
/// extras: `error` (type, code, message, retryable, and `detail` when there is one),
/// `component`, and `inputMessage`. The input's body is in `requestPayload` (what was sent, or
/// the body as JSON, text or `{"base64"}`); `inputMessage` carries the rest of the input (id,
/// timestamp, content type, properties) without repeating the body, so a record holds its input
/// once.
pub fn error_record(source: &RecordSource<'_>, fin: &FinalFailure, input: &Message) -> Value {
    let failure = &fin.failure;
    let mut request_context = failure.request_context.clone();
    request_context.insert("condition".into(), json!(fin.condition.as_str()));
    request_context.insert("approximateInvokeCount".into(), json!(fin.attempts));
    let mut error = json!({
        "type": failure.error_type.as_str(),
        "code": failure.code,
        "message": failure.message,
        "retryable": failure.retryable,
    });
    if let Some(detail) = &failure.detail {
        error["detail"] = json!(detail);
    }
    let mut record = Map::new();
    record.insert("version".into(), json!("1.0"));
    record.insert("timestamp".into(), json!(format_time(&chrono::Utc::now())));
    record.insert("requestContext".into(), Value::Object(request_context));
    record.insert(
        "requestPayload".into(),
        failure
            .request_payload
            .clone()
            .unwrap_or_else(|| input.body_value()),
    );
    if let Some(ctx) = &failure.response_context {
        record.insert("responseContext".into(), ctx.clone());
    }
    if let Some(payload) = &failure.response_payload {
        record.insert("responsePayload".into(), payload.clone());
    }
    record.insert("error".into(), error);
    record.insert(
        "component".into(),
        json!({"flow": source.flow, "node": source.node, "type": source.component}),
    );
    let mut input_message = input.to_json();
    if let Some(fields) = input_message.as_object_mut() {
        fields.remove("body");
        fields.remove("bodyEncoding");
    }
    record.insert("inputMessage".into(), input_message);
    Value::Object(record)
}

/// The message sent to the error port: the record as a JSON body, the input's properties plus
/// `error.type` and `error.code` (and `error.detail` when the failure has one).
pub fn error_message(record: &Value, failure: &Failure, input: &Message) -> Message {
    let mut msg = input.derive(record.to_string(), Some("application/json".into()));
    msg.properties
        .insert("error.type".into(), json!(failure.error_type.as_str()));
    msg.properties
        .insert("error.code".into(), json!(failure.code));
    if let Some(detail) = &failure.detail {
        msg.properties.insert("error.detail".into(), json!(detail));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn throttled() -> Failure {
        Failure::new(
            ErrorType::RequestProcessing,
            "TooManyRequestsException",
            "slow down",
        )
        .retryable(true)
    }

    fn fast_policy(max_attempts: u32) -> ErrorHandling {
        let mut p = ErrorHandling::default();
        p.request_processing.retry = Some(Retry {
            max_attempts,
            interval_ms: 1,
            max_interval_ms: 5,
            ..Retry::default()
        });
        p
    }

    #[test]
    fn defaults_log_and_route_everywhere_and_never_stop() {
        let p = ErrorHandling::default();
        for t in ErrorType::ALL {
            let a = p.actions(t);
            assert!(a.log && a.send_to_error_port && !a.stop_service, "{t}");
        }
        assert!(p.invalid_request.retry.is_none());
        assert!(p.response_generation.retry.is_none());
        assert_eq!(p.connection.retry.as_ref().unwrap().max_attempts, 5);
        // serde defaults agree with Default.
        let from_empty: ErrorHandling = serde_json::from_str("{}").unwrap();
        assert_eq!(from_empty, p);
    }

    #[test]
    fn the_readme_shows_the_default_actions() {
        let readme = include_str!("../../README.md");
        let start = "<!-- error-defaults:start -->\n";
        let end = "<!-- error-defaults:end -->";
        let from = readme.find(start).expect("README has the markers") + start.len();
        let to = readme[from..].find(end).expect("end marker") + from;
        assert_eq!(
            &readme[from..to],
            ErrorHandling::defaults_markdown(),
            "README's default actions are stale; paste ErrorHandling::defaults_markdown()"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let r = Retry {
            interval_ms: 100,
            backoff_multiplier: 2.0,
            max_interval_ms: 350,
            ..Retry::default()
        };
        assert_eq!(r.interval(1), Duration::from_millis(100));
        assert_eq!(r.interval(2), Duration::from_millis(200));
        assert_eq!(r.interval(3), Duration::from_millis(350));
        assert_eq!(r.interval(60), Duration::from_millis(350));
    }

    #[test]
    fn full_jitter_spreads_the_computed_wait_over_zero_to_the_cap() {
        let r = Retry {
            interval_ms: 1000,
            backoff_multiplier: 2.0,
            max_interval_ms: 3000,
            ..Retry::default()
        };
        assert_eq!(r.delay(2, None, 0.0), Duration::ZERO);
        assert_eq!(r.delay(2, None, 0.5), Duration::from_millis(1000));
        assert_eq!(r.delay(5, None, 0.5), Duration::from_millis(1500), "capped");
        // Eight messages throttled together: their waits are drawn independently, so they do
        // not retry together (8 equal draws from a continuous range do not happen).
        let p = ErrorHandling::default();
        let waits: std::collections::BTreeSet<Duration> = (0..8)
            .filter_map(|_| p.retry_delay(&throttled(), 1))
            .collect();
        assert!(waits.len() > 1, "{waits:?}");
        assert!(
            waits.iter().all(|w| *w <= Duration::from_millis(1000)),
            "{waits:?}"
        );
    }

    #[test]
    fn retry_after_is_honoured_over_max_interval_up_to_its_own_ceiling() {
        let r = Retry {
            interval_ms: 100,
            max_interval_ms: 500,
            max_retry_after_ms: 10_000,
            ..Retry::default()
        };
        // maxIntervalMs (500 ms) does not shorten a server's 4 s.
        assert_eq!(
            r.delay(1, Some(Duration::from_secs(4)), 0.0),
            Duration::from_secs(4)
        );
        // The spread after it is at most min(intervalMs, maxIntervalMs).
        assert_eq!(
            r.delay(1, Some(Duration::from_secs(4)), 0.5),
            Duration::from_millis(4050)
        );
        // maxRetryAfterMs bounds it.
        assert_eq!(
            r.delay(1, Some(Duration::from_secs(3600)), 0.0),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn retry_after_wins_and_non_retryable_is_final() {
        let p = ErrorHandling::default();
        let f = throttled().with_retry_after(Some(Duration::from_secs(7)));
        assert_eq!(p.retry_delay_with(&f, 1, 0.0), Some(Duration::from_secs(7)));
        let d = p.retry_delay(&f, 1).unwrap();
        assert!(
            d >= Duration::from_secs(7) && d <= Duration::from_secs(8),
            "{d:?}"
        );
        let unhandled = Failure::new(ErrorType::RequestProcessing, "Unhandled", "boom");
        assert_eq!(p.retry_delay(&unhandled, 1), None);
        assert_eq!(
            p.retry_delay(&throttled(), 3),
            None,
            "3 attempts is the default cap"
        );
        let bad = Failure::new(ErrorType::InvalidRequest, "InvalidJson", "x").retryable(true);
        assert_eq!(
            p.retry_delay(&bad, 1),
            None,
            "no retry action for invalid requests"
        );
    }

    #[tokio::test]
    async fn retries_until_success() {
        let calls = AtomicU32::new(0);
        let (value, attempts) = with_retries(&fast_policy(3), &CancellationToken::new(), |n| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move { if n < 3 { Err(throttled()) } else { Ok("done") } }
        })
        .await
        .unwrap();
        assert_eq!((value, attempts), ("done", 3));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn exhausted_retries_report_attempts_and_condition() {
        let fin = with_retries(&fast_policy(4), &CancellationToken::new(), |_| async {
            Err::<(), _>(throttled())
        })
        .await
        .unwrap_err();
        assert_eq!(fin.attempts, 4);
        assert_eq!(fin.condition, Condition::RetriesExhausted);
        let fin = with_retries(&fast_policy(4), &CancellationToken::new(), |_| async {
            Err::<(), _>(Failure::new(ErrorType::RequestProcessing, "Handled", "no"))
        })
        .await
        .unwrap_err();
        assert_eq!((fin.attempts, fin.condition), (1, Condition::Failure));
    }

    #[tokio::test]
    async fn abort_cuts_a_retry_wait_short() {
        let mut p = fast_policy(10);
        p.request_processing.retry.as_mut().unwrap().interval_ms = 3_600_000;
        p.request_processing.retry.as_mut().unwrap().max_interval_ms = 3_600_000;
        let abort = CancellationToken::new();
        abort.cancel();
        let fin = with_retries(&p, &abort, |_| async { Err::<(), _>(throttled()) })
            .await
            .unwrap_err();
        assert_eq!((fin.attempts, fin.condition), (1, Condition::Stopped));
    }

    #[test]
    fn record_carries_destinations_fields_and_the_input() {
        let input = Message::new("{\"name\":\"World\"}").with_property("orderId", 42);
        let failure = Failure::new(ErrorType::RequestProcessing, "Unhandled", "boom")
            .with_request_context("functionName", "hello")
            .with_response_context(json!({"statusCode": 200, "functionError": "Unhandled"}))
            .with_response_payload(json!({"errorMessage": "boom"}));
        let fin = FinalFailure {
            failure: failure.clone(),
            attempts: 3,
            condition: Condition::RetriesExhausted,
        };
        let src = RecordSource {
            flow: "f",
            node: "lambda1",
            component: "lambda",
        };
        let record = error_record(&src, &fin, &input);
        assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(record["error"]["type"], "requestProcessing");
        assert_eq!(record["error"]["code"], "Unhandled");
        assert_eq!(record["component"]["node"], "lambda1");
        assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(record["requestContext"]["functionName"], "hello");
        assert_eq!(record["requestPayload"]["name"], "World");
        assert_eq!(record["responsePayload"]["errorMessage"], "boom");
        assert_eq!(record["inputMessage"]["id"], input.id.as_str());
        assert_eq!(record["inputMessage"]["properties"]["orderId"], 42);
        assert!(
            record["inputMessage"].get("body").is_none(),
            "the body is in requestPayload"
        );
        let msg = error_message(&record, &failure, &input);
        assert_eq!(msg.properties["orderId"], 42);
        assert_eq!(msg.properties["error.type"], "requestProcessing");
        assert_eq!(msg.properties["error.code"], "Unhandled");
        assert_eq!(msg.content_type.as_deref(), Some("application/json"));
    }
}
