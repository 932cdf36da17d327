//! The forecast service: `fusecast serve RUN_DIR`. KServe's open time-series forecast API
//! (`POST /v1/timeseries/forecast`) over a run's best model, plus `GET /v1/series`,
//! `GET /v1/model`, `GET /healthz`, `GET /metrics` (Prometheus) and `POST /v1/reload` (swap in
//! a newer best model without dropping requests). The model lives on one worker thread
//! ([`worker`]); concurrent requests are batched into shared forward passes.

pub mod info;
pub mod metrics;
pub mod request;
mod routes;
pub mod schema;
pub mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use fusecast_pipeline::stages::future::Forecaster;

pub use routes::router;

use crate::info::ModelInfo;
use crate::metrics::Metrics;

#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub run_dir: PathBuf,
    pub addr: SocketAddr,
    /// How long the worker gathers requests into one batch after the first arrives.
    pub batch_window: Duration,
    /// The most series windows in one forward pass.
    pub max_windows: usize,
    /// Requests waiting for the worker beyond this are refused (503), not queued without end.
    pub queue: usize,
    /// The largest request body, in bytes (413 beyond).
    pub body_limit: usize,
    /// A request not answered in this time gets a 503.
    pub timeout: Duration,
    /// How often the model folder is checked for a newer best model (swapped in as by
    /// `POST /v1/reload`); `None`: only on request.
    pub watch: Option<Duration>,
}

impl ServeOptions {
    pub fn new(run_dir: impl Into<PathBuf>, addr: SocketAddr) -> Self {
        ServeOptions {
            run_dir: run_dir.into(),
            addr,
            batch_window: Duration::from_millis(2),
            max_windows: 2048,
            queue: 1024,
            body_limit: 16 << 20,
            timeout: Duration::from_secs(30),
            watch: Some(Duration::from_secs(2)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Pipeline(#[from] fusecast_pipeline::Error),
    #[error("{addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// The shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    tx: std::sync::mpsc::SyncSender<worker::Msg>,
    info: Arc<RwLock<Arc<ModelInfo>>>,
    metrics: Arc<Metrics>,
    timeout: Duration,
    body_limit: usize,
}

impl AppState {
    /// Loads the model and starts its worker thread (which ends when the state is dropped).
    pub fn start(opts: &ServeOptions) -> Result<Self, ServeError> {
        let forecaster = Forecaster::load(&opts.run_dir)?;
        let info = Arc::new(RwLock::new(Arc::new(ModelInfo::of(
            &forecaster,
            &opts.run_dir,
        ))));
        let metrics = Arc::new(Metrics::default());
        let (tx, rx) = std::sync::mpsc::sync_channel(opts.queue.max(1));
        let settings = worker::Settings {
            run_dir: opts.run_dir.clone(),
            window: opts.batch_window,
            max_windows: opts.max_windows.max(1),
        };
        let (i, m) = (info.clone(), metrics.clone());
        std::thread::Builder::new()
            .name("fusecast-model".into())
            .spawn(move || worker::run(forecaster, settings, rx, i, m))?;
        if let Some(every) = opts.watch {
            watch(opts.run_dir.clone(), every, tx.clone())?;
        }
        Ok(AppState {
            tx,
            info,
            metrics,
            timeout: opts.timeout,
            body_limit: opts.body_limit,
        })
    }

    fn info(&self) -> Arc<ModelInfo> {
        self.info.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Reloads the model whenever the best model's `artifact.json` changes (a training run or a
/// tuner swaps `best/` in whole, so the file changes exactly when a new model is complete). The
/// thread lives as long as the process: serving ends by ending the process.
fn watch(
    run_dir: PathBuf,
    every: Duration,
    tx: std::sync::mpsc::SyncSender<worker::Msg>,
) -> std::io::Result<()> {
    let path = fusecast_pipeline::RunDir::new(&run_dir)
        .best()
        .join(fusecast_pipeline::artifact::ARTIFACT_FILE);
    let stamp = move || std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    let mut last = stamp();
    std::thread::Builder::new()
        .name("fusecast-watch".into())
        .spawn(move || loop {
            std::thread::sleep(every);
            let now = stamp();
            if now.is_some() && now != last {
                let (reply, _) = tokio::sync::oneshot::channel();
                // A full queue just means the next check tries again.
                if tx.try_send(worker::Msg::Reload { reply }).is_ok() {
                    last = now;
                }
            }
        })?;
    Ok(())
}

/// Serves until Ctrl-C or SIGTERM; `ready` gets the bound address (port 0 picks a free one).
pub async fn serve(opts: ServeOptions, ready: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    let state = AppState::start(&opts)?;
    let listener = tokio::net::TcpListener::bind(opts.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: opts.addr,
            source,
        })?;
    ready(listener.local_addr()?);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

/// [`serve`] on its own multi-threaded runtime, for callers that are not async.
pub fn serve_blocking(
    opts: ServeOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(opts, ready))
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
