//! `lambdaflow serve`: the HTTP API of docs/api.md on actix-web, the embedded designer, and the
//! server's life cycle (start, signals, graceful shutdown).
//!
//! Layout: [`routes`] (the route table and handlers), [`events`] (server-sent events),
//! [`metrics`], [`openapi`], [`assets`] (the designer), [`auth`] (token and origin guards),
//! [`error`] (JSON errors), [`workspace`] (flow documents with their secrets), [`secrets`]
//! (the encrypted credential store), [`runner`] (running flows), [`state`].

pub mod assets;
pub mod auth;
pub mod broker;
pub mod error;
pub mod events;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod runner;
pub mod secrets;
pub mod state;
pub mod workspace;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next, from_fn};
use actix_web::{App, Error, HttpResponse, HttpServer, web};

use error::error_body;
pub use state::{AppState, DEFAULT_MAX_BODY, Settings, StateError};

/// Options of `lambdaflow serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The flows directory.
    pub flows: PathBuf,
    /// Address to listen on.
    pub bind: IpAddr,
    /// Port (0: any free port).
    pub port: u16,
    /// The bearer token, if any.
    pub token: Option<String>,
    /// Largest accepted request body in bytes.
    pub max_body: usize,
    /// The secret the credential key is derived from (else the key file).
    pub credential_secret: Option<String>,
    /// How long stopping lets in-flight work finish.
    pub drain: Duration,
    /// The NATS server flows with JetStream edges are deployed to (`--nats`).
    pub nats: Option<String>,
}

/// Errors that keep the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The flows directory or credentials cannot be used.
    #[error(transparent)]
    State(#[from] StateError),
    /// Listening or running failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Turns every error response that is not JSON yet (actix's own: bad payloads, unknown methods,
/// oversized bodies) into the API's JSON error shape.
async fn json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let max_body = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.max_body);
    let res = next.call(req).await?;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return Ok(res.map_into_left_body());
    }
    let message = match (status.as_u16(), max_body) {
        (413, Some(limit)) => format!("request body is larger than the limit of {limit} bytes"),
        (405, _) => "method not allowed".to_owned(),
        (500.., _) => error::INTERNAL.to_owned(),
        _ => match res.response().error() {
            Some(e) => e.to_string(),
            None => status.canonical_reason().unwrap_or("error").to_lowercase(),
        },
    };
    let allow = res.headers().get(header::ALLOW).cloned();
    let (req, _) = res.into_parts();
    let mut builder = HttpResponse::build(status);
    builder.content_type("application/json");
    if let Some(allow) = allow {
        builder.insert_header((header::ALLOW, allow));
    }
    Ok(ServiceResponse::new(req, builder.body(error_body(&message))).map_into_right_body())
}

/// Logs each request at debug level: method, path (never the query, which may hold the
/// event stream's token), status and duration.
async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let res = next.call(req).await?;
    tracing::debug!(%method, %path, status = res.status().as_u16(),
        ms = started.elapsed().as_millis() as u64, "Request.");
    Ok(res)
}

/// The application: every route, the guards, JSON errors, security headers and the designer.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let max_body = state.settings.max_body;
    App::new()
        .app_data(state)
        .app_data(web::PayloadConfig::new(max_body))
        .configure(routes::configure)
        .default_service(web::to(assets::serve))
        .wrap(from_fn(auth::host))
        .wrap(from_fn(json_errors))
        .wrap(from_fn(access_log))
        .wrap(
            DefaultHeaders::new()
                .add((
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .add((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
                .add((
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                )),
        )
}

/// Runs the server until SIGTERM or SIGINT, then shuts down gracefully: stops accepting, lets
/// in-flight requests finish, stops the running flows (in-flight work drains within
/// `options.drain`), and returns.
pub fn serve(options: ServeOptions) -> Result<(), ServeError> {
    let engine = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("lambdaflow-engine")
        .build()?;
    let settings = Settings {
        token: options.token.clone().filter(|t| !t.is_empty()),
        max_body: options.max_body,
        drain: options.drain,
        loopback: options.bind.is_loopback(),
        nats: options.nats.clone(),
        ..Settings::default()
    };
    if settings.token.is_none() && !settings.loopback {
        tracing::warn!(bind = %options.bind,
            "Listening beyond loopback without a token: anyone who can reach this port can run flows with the stored credentials. Set --token or LAMBDAFLOW_TOKEN.");
    }
    let state = AppState::open(
        &options.flows,
        options.credential_secret.as_deref(),
        settings,
        engine.handle().clone(),
    )?;
    match state.workspace.credentials.key_source() {
        secrets::KeySource::Environment => {
            tracing::info!("Credential key derived from LAMBDAFLOW_CREDENTIAL_SECRET.")
        }
        secrets::KeySource::KeyFile(path) => {
            tracing::info!(file = %path.display(), "Credential key read from its key file.")
        }
    }
    if let Err(e) = state.workspace.log_problems() {
        tracing::warn!("Could not list the flows: {e}");
    }
    let state = web::Data::new(state);
    let result = actix_web::rt::System::new().block_on(run(state.clone(), options));
    engine.shutdown_timeout(Duration::from_secs(2));
    result
}

async fn run(state: web::Data<AppState>, options: ServeOptions) -> Result<(), ServeError> {
    // Installed before anyone can learn the address, so an early SIGTERM is handled gracefully.
    let mut signals = Signals::install()?;
    let app_state = state.clone();
    let server = HttpServer::new(move || app(app_state.clone()))
        .disable_signals()
        .shutdown_timeout(options.drain.as_secs().max(1))
        .bind(SocketAddr::new(options.bind, options.port))?;
    let addrs = server.addrs();
    let server = server.run();
    let handle = server.handle();
    let mut server_task = actix_web::rt::spawn(server);
    for addr in &addrs {
        tracing::info!(address = %addr, token = state.settings.token.is_some(), "Serving lambdaflow.");
        println!("lambdaflow listening on http://{addr}");
    }
    tokio::select! {
        result = &mut server_task => {
            return result.map_err(|e| std::io::Error::other(e.to_string()))?.map_err(Into::into);
        }
        signal = signals.next() => {
            tracing::info!(signal, "Shutting down: no new requests; running flows drain.");
        }
    }
    actix_web::rt::spawn(async move {
        let signal = signals.next().await;
        tracing::warn!(signal, "Second signal: exiting at once.");
        std::process::exit(130);
    });
    state.shutdown.cancel();
    handle.stop(true).await;
    let _ = server_task.await;
    state.runner.stop_all(state.settings.drain).await;
    tracing::info!("Stopped.");
    Ok(())
}

/// SIGTERM and SIGINT (Ctrl-C elsewhere), handled from the moment they are installed.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// Waits for the next signal; returns its name.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "ctrl-c"
        }
    }
}
