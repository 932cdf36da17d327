//! Time of one forecast of every series of a trained run (what a lone `fusecast serve` request
//! of all series costs), by windows per forward pass and threads, on the CPU backend.
//!
//!     cargo build --release --workspace --examples
//!     MIMALLOC_PURGE_DELAY=-1 target/release/examples/forecast_time runs/quickstart [REPS]
//!
//! With the allocator `fusecast` runs on (mimalloc, freed pages kept as `fusecast` keeps them).

use std::path::PathBuf;
use std::time::Instant;

use fusecast_pipeline::stages::future::Forecaster;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let run = PathBuf::from(args.next().unwrap_or_else(|| "runs/quickstart".into()));
    let reps: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let mut f = Forecaster::load(&run).expect("a trained run directory");
    let job = f.job(&f.history, None).expect("the history's windows");
    let cores = f.threads;
    println!("{}: {} windows per forecast", run.display(), job.batch.size);
    for threads in [1, cores] {
        f.threads = threads;
        for pass in [16, 32, 64, 0] {
            let mut times = Vec::new();
            for _ in 0..reps + 2 {
                let t0 = Instant::now();
                let out = f
                    .run(std::slice::from_ref(&job), pass, false)
                    .expect("forecast");
                assert_eq!(out.len(), 1);
                times.push(t0.elapsed().as_secs_f64() * 1e3);
            }
            times.drain(..2);
            times.sort_by(f64::total_cmp);
            println!(
                "threads {threads}, windows per pass {:>4}: p50 {:.1} ms, min {:.1} ms",
                if pass == 0 {
                    "all".to_string()
                } else {
                    pass.to_string()
                },
                times[times.len() / 2],
                times[0]
            );
        }
    }
}
