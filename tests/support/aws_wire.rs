//! An endpoint that speaks AWS Lambda's Invoke wire, for driving the real LambdaConnector
//! (through `aws-sdk-lambda` and hyper) against scripted answers on a free loopback port.
//!
//! It answers `POST /2015-03-31/functions/{name}/invocations` as AWS does: the status,
//! `x-amzn-RequestId`, `x-amzn-ErrorType`, `X-Amz-Function-Error`, `X-Amz-Executed-Version`,
//! `X-Amz-Log-Result`, `Retry-After`, and AWS's error bodies
//! (`{"Type":"User","message":"Rate Exceeded.","Reason":"ConcurrentInvocationLimitExceeded"}`).
//! A [`Script`] decides each answer from the request (and how many came before it), and can
//! inject transport faults instead: a reset before the response, a reset or an EOF in the
//! middle of the body, or a body that stalls; or hold an answer until the test opens a gate. Every request is
//! recorded in arrival order.
//!
//! HTTP/1.1 with keep-alive, `Content-Length` or chunked request bodies. Faults close the
//! connection with `SO_LINGER 0`, so the client sees a TCP reset, not a clean EOF.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// One invocation as the endpoint received it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `{name}` of the path (URL-decoded `:` for `name:alias` and ARNs).
    pub function: String,
    /// The query string without `?` (`Qualifier=PROD`), or empty.
    pub query: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    /// The payload.
    pub body: Vec<u8>,
    /// 1 for the first request this endpoint received, 2 for the next, …
    pub seq: usize,
    /// Whether it came as `InvokeWithResponseStream`
    /// (`/2021-11-15/functions/{name}/response-streaming-invocations`).
    pub streaming: bool,
}

impl Request {
    /// The payload parsed as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A transport fault instead of (part of) the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer normally.
    None,
    /// Read the request, then reset the connection without a byte of response.
    ResetBeforeResponse,
    /// Send the status line, the headers and half the body, then reset.
    ResetMidBody,
    /// Send the status line, the headers and half the body, then close cleanly (an EOF
    /// before `Content-Length` bytes).
    EofMidBody,
    /// Send the status line, the headers and half the body, then send nothing more (the
    /// connection stays open until the client gives up).
    StallBody,
    /// Send the status line, the headers and this many bytes of the body, then reset (a
    /// stream dropped after some event-stream frames).
    ResetAfter(usize),
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers, as AWS names them.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// A transport fault to inject.
    pub fault: Fault,
    /// Answer only once this gate reads `true` (the test opens it).
    pub gate: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Reply {
    /// A bare answer with `x-amzn-RequestId` and a JSON content type.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("x-amzn-RequestId".into(), uuid::Uuid::now_v7().to_string()),
            ],
            body: body.into(),
            fault: Fault::None,
            gate: None,
        }
    }

    /// 200 with the function's result, as `RequestResponse` answers.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Reply::new(200, body).header("X-Amz-Executed-Version", "$LATEST")
    }

    /// 200 with `X-Amz-Function-Error: kind` and the runtime's error document.
    pub fn function_error(kind: &str, error_type: &str, message: &str) -> Self {
        Reply::ok(json!({"errorMessage": message, "errorType": error_type}).to_string())
            .header("X-Amz-Function-Error", kind)
    }

    /// A service error as AWS sends it: `x-amzn-ErrorType` and `{"Type","message"}`.
    pub fn service_error(status: u16, code: &str, message: &str) -> Self {
        let kind = if status >= 500 { "Service" } else { "User" };
        Reply::new(
            status,
            json!({"Type": kind, "message": message}).to_string(),
        )
        .header("x-amzn-ErrorType", code)
    }

    /// A 429 `TooManyRequestsException` with its `Reason`, as Lambda sends it.
    pub fn throttled(reason: &str) -> Self {
        Reply::new(
            429,
            json!({"Type": "User", "message": "Rate Exceeded.", "Reason": reason}).to_string(),
        )
        .header("x-amzn-ErrorType", "TooManyRequestsException")
    }

    /// Sets a header (replacing one of the same name).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Holds the answer until `gate` reads `true`.
    pub fn until(mut self, gate: tokio::sync::watch::Receiver<bool>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Injects a transport fault.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.fault = fault;
        self
    }
}

/// Decides the answer to each request.
pub type Script = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// A running endpoint; stops when dropped.
pub struct AwsWire {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: CancellationToken,
}

impl AwsWire {
    /// Starts on a free loopback port, answering with `script`. Call inside a tokio runtime.
    pub async fn start(script: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = CancellationToken::new();
        let script: Script = Arc::new(script);
        let (log, token) = (requests.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = token.cancelled() => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let (script, log, token) = (script.clone(), log.clone(), token.clone());
                        tokio::spawn(async move {
                            tokio::select! {
                                _ = token.cancelled() => {}
                                _ = serve(stream, script, log) => {}
                            }
                        });
                    }
                }
            }
        });
        AwsWire {
            addr,
            requests,
            stop,
        }
    }

    /// `http://127.0.0.1:PORT`, for `connection.endpointUrl`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("request log").clone()
    }

    /// How many requests arrived so far.
    pub fn count(&self) -> usize {
        self.requests.lock().expect("request log").len()
    }
}

impl Drop for AwsWire {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Serves one connection: request after request until the client closes or a fault ends it.
async fn serve(mut stream: TcpStream, script: Script, log: Arc<Mutex<Vec<Request>>>) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let Some((head_len, method, target, headers)) = read_head(&mut stream, &mut buf).await
        else {
            return;
        };
        buf.drain(..head_len);
        let Some(body) = read_body(&mut stream, &mut buf, &headers).await else {
            return;
        };
        let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
        let streaming = path.starts_with("/2021-11-15/functions/");
        let function = path
            .strip_prefix("/2015-03-31/functions/")
            .and_then(|rest| rest.strip_suffix("/invocations"))
            .or_else(|| {
                path.strip_prefix("/2021-11-15/functions/")
                    .and_then(|rest| rest.strip_suffix("/response-streaming-invocations"))
            })
            .map(|f| f.replace("%3A", ":").replace("%3a", ":"));
        let reply = match (method.as_str(), function) {
            ("POST", Some(function)) => {
                let request = {
                    let mut log = log.lock().expect("request log");
                    let request = Request {
                        function,
                        query: query.to_owned(),
                        headers: headers.clone(),
                        body,
                        seq: log.len() + 1,
                        streaming,
                    };
                    log.push(request.clone());
                    request
                };
                script(&request)
            }
            _ => Reply::service_error(404, "UnknownOperationException", "Unknown operation"),
        };
        if !write_reply(&mut stream, &reply).await {
            return;
        }
    }
}

type Head = (usize, String, String, HashMap<String, String>);

/// Reads up to the end of the headers; `None` when the connection ends first.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Head> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let text = String::from_utf8_lossy(&buf[..end]).into_owned();
            let mut lines = text.split("\r\n");
            let mut first = lines.next()?.split(' ');
            let method = first.next()?.to_owned();
            let target = first.next()?.to_owned();
            let headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            return Some((end + 4, method, target, headers));
        }
        if !fill(stream, buf).await {
            return None;
        }
    }
}

/// Reads a `Content-Length` or chunked body.
async fn read_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    headers: &HashMap<String, String>,
) -> Option<Vec<u8>> {
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                if !fill(stream, buf).await {
                    return None;
                }
            };
            let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            buf.drain(..line_end + 2);
            while buf.len() < size + 2 {
                if !fill(stream, buf).await {
                    return None;
                }
            }
            body.extend_from_slice(&buf[..size]);
            buf.drain(..size + 2);
            if size == 0 {
                return Some(body);
            }
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < len {
        if !fill(stream, buf).await {
            return None;
        }
    }
    Some(buf.drain(..len).collect())
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 8192];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

/// Writes the reply (or its fault); `false` when the connection must end.
async fn write_reply(stream: &mut TcpStream, reply: &Reply) -> bool {
    if let Some(mut gate) = reply.gate.clone()
        && gate.wait_for(|open| *open).await.is_err()
    {
        return false;
    }
    if reply.fault == Fault::ResetBeforeResponse {
        reset(stream);
        return false;
    }
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nDate: {}\r\n\r\n",
        reply.body.len(),
        chrono::Utc::now().to_rfc2822()
    ));
    let body: &[u8] = match reply.fault {
        Fault::ResetMidBody | Fault::EofMidBody | Fault::StallBody => {
            &reply.body[..reply.body.len() / 2]
        }
        Fault::ResetAfter(n) => &reply.body[..n.min(reply.body.len())],
        _ => &reply.body,
    };
    let written = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        stream.flush().await
    }
    .await;
    match (reply.fault, written) {
        (_, Err(_)) => false,
        (Fault::ResetMidBody | Fault::ResetAfter(_), Ok(())) => {
            reset(stream);
            false
        }
        (Fault::EofMidBody, Ok(())) => {
            let _ = stream.shutdown().await;
            false
        }
        (Fault::StallBody, Ok(())) => {
            // Keep the connection open, sending nothing, until the client gives up.
            let mut sink = [0u8; 1024];
            while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
            false
        }
        _ => true,
    }
}

/// Drops the connection with a TCP reset (`SO_LINGER 0`).
fn reset(stream: &TcpStream) {
    let _ = stream.set_zero_linger();
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
