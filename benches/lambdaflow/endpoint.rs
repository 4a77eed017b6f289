//! A minimal Lambda-compatible HTTP endpoint on a free loopback port, for the benchmark and the
//! fault-injection tests (`tests/fault_injection.rs` includes this file with `#[path]`).
//!
//! It speaks just enough HTTP/1.1 for `aws-sdk-lambda`: keep-alive connections, requests with a
//! `Content-Length` or a chunked body, `Expect: 100-continue`. Only
//! `POST /2015-03-31/functions/{name}/invocations` is a Lambda route; anything else gets 404.
//! What an invocation gets back is up to a [`Handler`]: an answer (status, headers, body, after
//! an optional delay) or a hang-up without an answer. [`Endpoint::answer_at_once`] is the
//! handler that isolates a client's own overhead: 200 `{}` at once.
//!
//! [`Endpoint::kill`] stops listening and drops every open connection, with requests in
//! progress (the client sees a reset, then refused connections); [`Endpoint::restart`] listens
//! again on the same port. Every invocation is counted ([`Endpoint::invocations`]).

// The benchmark and the tests each use part of this module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// One invocation as the endpoint received it.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The function name from the path (`{name}` of `/functions/{name}/invocations`).
    pub function: String,
    /// The query string, without `?` (e.g. `Qualifier=PROD`), or empty.
    pub query: String,
    /// Request headers, names in lower case.
    pub headers: HashMap<String, String>,
    /// The payload.
    pub body: Vec<u8>,
    /// 1 for the first invocation this endpoint received (across restarts), 2 for the next, …
    pub seq: u64,
}

/// What the endpoint does with one invocation.
#[derive(Debug, Clone)]
pub enum Action {
    /// Wait `delay`, then answer.
    Answer {
        /// Wait before answering.
        delay: Duration,
        /// HTTP status.
        status: u16,
        /// Extra response headers.
        headers: Vec<(String, String)>,
        /// Response body.
        body: Vec<u8>,
    },
    /// Close the connection without answering.
    HangUp,
}

impl Action {
    /// 200 with `body`, at once.
    pub fn ok(body: impl Into<Vec<u8>>) -> Action {
        Action::Answer {
            delay: Duration::ZERO,
            status: 200,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// This answer after `delay`.
    pub fn after(self, delay: Duration) -> Action {
        match self {
            Action::Answer {
                status,
                headers,
                body,
                ..
            } => Action::Answer {
                delay,
                status,
                headers,
                body,
            },
            Action::HangUp => Action::HangUp,
        }
    }

    /// 429 `TooManyRequestsException`, at once, as Lambda answers a call beyond a function's
    /// reserved concurrency (no `Retry-After`: the client's own backoff applies).
    pub fn throttled() -> Action {
        Action::Answer {
            delay: Duration::ZERO,
            status: 429,
            headers: vec![(
                "x-amzn-errortype".into(),
                "TooManyRequestsException".into(),
            )],
            body: br#"{"message":"Rate Exceeded.","Type":"User","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}"#
                .to_vec(),
        }
    }

    /// [`Action::throttled`] with `Retry-After: retry_after` (seconds).
    pub fn throttled_after(retry_after: &str) -> Action {
        Action::throttled().with_header("retry-after", retry_after)
    }

    /// This answer with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Action {
        if let Action::Answer { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// 500 `ServiceException`, as Lambda reports an internal error.
    pub fn service_error() -> Action {
        Action::Answer {
            delay: Duration::ZERO,
            status: 500,
            headers: vec![("x-amzn-errortype".into(), "ServiceException".into())],
            body: br#"{"message":"injected internal failure","Type":"Service"}"#.to_vec(),
        }
    }
}

/// Decides what to do with each invocation.
pub type Handler = Arc<dyn Fn(&Invocation) -> Action + Send + Sync>;

struct Running {
    stop: CancellationToken,
    accept: JoinHandle<()>,
}

/// A Lambda-compatible endpoint on `127.0.0.1`.
pub struct Endpoint {
    addr: SocketAddr,
    handler: Handler,
    invocations: Arc<AtomicU64>,
    running: Mutex<Option<Running>>,
}

impl Endpoint {
    /// Starts an endpoint on a free loopback port with `handler`. Must be called inside a tokio
    /// runtime.
    pub fn start(handler: Handler) -> Endpoint {
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .unwrap_or_else(|e| panic!("endpoint: cannot bind 127.0.0.1:0: {e}"));
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let endpoint = Endpoint {
            addr,
            handler,
            invocations: Arc::new(AtomicU64::new(0)),
            running: Mutex::new(None),
        };
        endpoint.serve(listener);
        endpoint
    }

    /// An endpoint that answers every invocation at once with 200 `{}`.
    pub fn answer_at_once() -> Endpoint {
        Endpoint::start(Arc::new(|_| Action::ok("{}")))
    }

    /// Base URL for the SDK's `endpoint_url`, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Invocations received so far (every one, whatever the handler answered).
    pub fn invocations(&self) -> u64 {
        self.invocations.load(Ordering::SeqCst)
    }

    /// Stops listening and drops every connection, with the requests in progress.
    pub async fn kill(&self) {
        let running = self.running.lock().unwrap().take();
        if let Some(r) = running {
            r.stop.cancel();
            let _ = r.accept.await;
        }
    }

    /// Listens again on the same port (after [`Endpoint::kill`]).
    pub async fn restart(&self) {
        let mut tries = 0;
        let listener = loop {
            match bind(self.addr) {
                Ok(l) => break l,
                // The old socket may take a moment to go away.
                Err(_) if tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("endpoint: cannot listen on {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let stop = CancellationToken::new();
        let handler = self.handler.clone();
        let counter = self.invocations.clone();
        let token = stop.clone();
        let accept = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    _ = token.cancelled() => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let _ = stream.set_nodelay(true);
                        let handler = handler.clone();
                        let counter = counter.clone();
                        let token = token.clone();
                        connections.spawn(async move {
                            tokio::select! {
                                _ = token.cancelled() => {}
                                _ = serve_connection(stream, handler, counter) => {}
                            }
                        });
                    }
                    // Reap finished connection tasks so the set does not grow.
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
            connections.shutdown().await;
        });
        *self.running.lock().unwrap() = Some(Running { stop, accept });
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        if let Some(r) = self.running.lock().unwrap().take() {
            r.stop.cancel();
            r.accept.abort();
        }
    }
}

fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// One parsed HTTP request.
struct Request {
    method: String,
    target: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// Serves requests on one connection until the client closes it or a handler hangs up.
async fn serve_connection(mut stream: TcpStream, handler: Handler, counter: Arc<AtomicU64>) {
    let mut buf = Vec::with_capacity(8192);
    loop {
        let request = match read_request(&mut stream, &mut buf).await {
            Ok(Some(r)) => r,
            Ok(None) | Err(_) => return,
        };
        let close = request
            .headers
            .get("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let action = match lambda_route(&request) {
            Some((function, query)) => {
                let seq = counter.fetch_add(1, Ordering::SeqCst) + 1;
                handler(&Invocation {
                    function,
                    query,
                    headers: request.headers,
                    body: request.body,
                    seq,
                })
            }
            None => Action::Answer {
                delay: Duration::ZERO,
                status: 404,
                headers: vec![(
                    "x-amzn-errortype".into(),
                    "UnknownOperationException".into(),
                )],
                body: br#"{"message":"not a Lambda Invoke route"}"#.to_vec(),
            },
        };
        match action {
            Action::HangUp => return,
            Action::Answer {
                delay,
                status,
                headers,
                body,
            } => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                if write_response(&mut stream, status, &headers, &body)
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        if close {
            return;
        }
    }
}

/// `(function, query)` of `POST /2015-03-31/functions/{name}/invocations[?query]`.
fn lambda_route(request: &Request) -> Option<(String, String)> {
    if request.method != "POST" {
        return None;
    }
    let (path, query) = match request.target.split_once('?') {
        Some((p, q)) => (p, q.to_owned()),
        None => (request.target.as_str(), String::new()),
    };
    let name = path
        .strip_prefix("/2015-03-31/functions/")?
        .strip_suffix("/invocations")?;
    if name.is_empty() {
        return None;
    }
    Some((percent_decode(name), query))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if bytes[i] == b'%'
            && let Some(v) = hex
        {
            out.push(v);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads one request; `Ok(None)` when the client closed the connection between requests.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Request>> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return Err(std::io::Error::other("request head too large"));
        }
        if !fill(stream, buf).await? {
            return Ok(None);
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    if headers
        .get("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        read_chunked(stream, buf).await?
    } else {
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < len {
            if !fill(stream, buf).await? {
                return Err(std::io::Error::other("connection closed inside a body"));
            }
        }
        buf.drain(..len).collect()
    };
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
    }))
}

async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = find(buf, b"\r\n") {
                break i;
            }
            if !fill(stream, buf).await? {
                return Err(std::io::Error::other("connection closed inside a chunk"));
            }
        };
        let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| std::io::Error::other("bad chunk size"))?;
        buf.drain(..line_end + 2);
        if size == 0 {
            // Trailers (none expected) end with an empty line.
            loop {
                if let Some(i) = find(buf, b"\r\n") {
                    let empty = i == 0;
                    buf.drain(..i + 2);
                    if empty {
                        return Ok(body);
                    }
                    continue;
                }
                if !fill(stream, buf).await? {
                    return Ok(body);
                }
            }
        }
        while buf.len() < size + 2 {
            if !fill(stream, buf).await? {
                return Err(std::io::Error::other("connection closed inside a chunk"));
            }
        }
        body.extend_from_slice(&buf[..size]);
        buf.drain(..size + 2);
    }
}

/// Reads more bytes into `buf`; `false` at end of stream.
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn write_response(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    {
        let reason = match status {
            200 => "OK",
            202 => "Accepted",
            204 => "No Content",
            400 => "Bad Request",
            404 => "Not Found",
            408 => "Request Timeout",
            413 => "Request Entity Too Large",
            429 => "Too Many Requests",
            500 => "Internal Server Error",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            _ => "Status",
        };
        let mut head = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        );
        let has_request_id = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("x-amzn-requestid"));
        if !has_request_id {
            static NEXT_ID: AtomicU64 = AtomicU64::new(1);
            let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
            head.push_str(&format!(
                "x-amzn-requestid: 00000000-0000-4000-8000-{id:012x}\r\n"
            ));
        }
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(body);
        stream.write_all(&out).await
    }
}
