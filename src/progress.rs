//! Progress output on stderr: a spinner per stage, silent with `--quiet`.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    quiet: bool,
    bar: ProgressBar,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new_spinner()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { quiet, bar }
    }

    /// Runs one stage under a spinner and reports how long it took.
    pub fn stage<T>(&self, name: &str, f: impl FnOnce() -> T) -> T {
        self.bar.set_message(name.to_string());
        let t0 = Instant::now();
        let out = f();
        self.note(&format!("{name}: {:.2}s", t0.elapsed().as_secs_f64()));
        out
    }

    /// A line of progress information (not printed with --quiet).
    pub fn note(&self, line: &str) {
        if self.quiet {
            return;
        }
        // indicatif draws nothing when stderr is not a terminal (CI, logs): print plainly there.
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    pub fn quiet(&self) -> bool {
        self.quiet
    }

    pub fn clear(&self) {
        self.bar.finish_and_clear();
    }
}
