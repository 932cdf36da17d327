//! `fusecast serve RUN_DIR`: the HTTP forecast service over a run's best model.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use fusecast_pipeline::Event;
use fusecast_serve::ServeOptions;

use crate::terminal::Output;

#[derive(clap::Args)]
pub struct Args {
    /// A run directory (`runs/<name>`) or a tuning trial's folder.
    pub run_dir: PathBuf,
    /// Where to listen (port 0: any free port, printed on start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Milliseconds the service gathers concurrent requests into one batch.
    #[arg(long, default_value_t = 2)]
    pub batch_window_ms: u64,
    /// The most series windows in one forward pass.
    #[arg(long, default_value_t = 2048)]
    pub max_windows: usize,
    /// Requests waiting beyond this many are refused with 503.
    #[arg(long, default_value_t = 1024)]
    pub queue: usize,
    /// Seconds between checks for a newer best model in RUN_DIR (swapped in without dropping
    /// requests); 0: reload only on POST /v1/reload.
    #[arg(long, default_value_t = 2)]
    pub watch_secs: u64,
    /// The largest request body, in MiB.
    #[arg(long, default_value_t = 16)]
    pub body_limit_mib: usize,
}

pub fn run(args: Args, out: &Output) -> Result<()> {
    let opts = ServeOptions {
        batch_window: Duration::from_millis(args.batch_window_ms),
        max_windows: args.max_windows,
        queue: args.queue,
        body_limit: args.body_limit_mib << 20,
        watch: (args.watch_secs > 0).then(|| Duration::from_secs(args.watch_secs)),
        ..ServeOptions::new(&args.run_dir, args.addr)
    };
    fusecast_serve::serve_blocking(opts, |addr| {
        out.sink().emit(Event::Note {
            message: format!(
                "serving {} on http://{addr} (POST /v1/timeseries/forecast; Ctrl-C stops)",
                args.run_dir.display()
            ),
        });
        // The address on stdout alone, for scripts and tests that start on port 0.
        println!("listening on {addr}");
    })
    .context("fusecast serve")?;
    Ok(())
}
