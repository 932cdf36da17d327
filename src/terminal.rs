//! How the CLI shows a run: results on stdout, progress (spinners, bars, notes) on stderr and
//! silent with `--quiet`; or, with `--json`, every event as one JSON line on stdout and nothing
//! else there.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use fusecast_pipeline::events::{Event, ModelScore, Sink, TrialRow};
use indicatif::{ProgressBar, ProgressStyle};

pub enum Output {
    Human(Terminal),
    Json,
}

impl Output {
    pub fn new(quiet: bool, json: bool) -> Self {
        match json {
            true => Output::Json,
            false => Output::Human(Terminal::new(quiet)),
        }
    }

    pub fn sink(&self) -> &dyn Sink {
        self
    }

    /// Reports a failed command: a line on stderr, and an error event with `--json`.
    pub fn error(&self, e: &anyhow::Error) {
        match self {
            Output::Human(t) => t.clear(),
            Output::Json => println!(
                "{}",
                serde_json::json!({"event": "error", "message": format!("{e:#}")})
            ),
        }
        eprintln!("error: {e:#}");
    }

    /// A result line of a command (stdout; a `result` event with `--json`).
    pub fn result(&self, line: &str) {
        match self {
            Output::Human(_) => println!("{line}"),
            Output::Json => println!(
                "{}",
                serde_json::json!({"event": "result", "message": line})
            ),
        }
    }

    /// Runs one step of a command that has no pipeline stage (aggregate, synth-trips).
    pub fn stage<T>(&self, name: &str, f: impl FnOnce() -> T) -> T {
        let t0 = Instant::now();
        if let Output::Human(t) = self {
            t.spinner.set_message(name.to_string());
        }
        let out = f();
        self.emit(Event::Note {
            message: format!("{name}: {:.2}s", t0.elapsed().as_secs_f64()),
        });
        out
    }
}

impl Sink for Output {
    fn emit(&self, event: Event) {
        match self {
            Output::Human(t) => t.show(event),
            Output::Json if event.is_tick() => {}
            Output::Json => println!(
                "{}",
                serde_json::to_string(&event).expect("events serialize")
            ),
        }
    }
}

pub struct Terminal {
    quiet: bool,
    spinner: ProgressBar,
    bar: Mutex<Option<ProgressBar>>,
}

impl Terminal {
    fn new(quiet: bool) -> Self {
        let spinner = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new_spinner()
        };
        spinner.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"),
        );
        spinner.enable_steady_tick(Duration::from_millis(120));
        Terminal {
            quiet,
            spinner,
            bar: Mutex::new(None),
        }
    }

    /// A line of progress information (not printed with --quiet).
    fn note(&self, line: &str) {
        if self.quiet {
            return;
        }
        // indicatif draws nothing when stderr is not a terminal (CI, logs): print plainly there.
        if self.spinner.is_hidden() {
            eprintln!("{line}");
        } else {
            self.spinner.println(line);
        }
    }

    fn start_bar(&self, total: usize, unit: &str) {
        let bar = if self.quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(total as u64)
        };
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{bar:30}} {{pos}}/{{len}} {unit} {{msg}} [{{elapsed}} < {{eta}}]"
            ))
            .expect("valid template"),
        );
        if let Some(old) = self.bar.lock().expect("bar lock").replace(bar) {
            old.finish_and_clear();
        }
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        if let Some(bar) = self.bar.lock().expect("bar lock").as_ref() {
            f(bar);
        }
    }

    fn end_bar(&self) {
        if let Some(bar) = self.bar.lock().expect("bar lock").take() {
            bar.finish_and_clear();
        }
    }

    fn clear(&self) {
        self.end_bar();
        self.spinner.finish_and_clear();
    }

    fn show(&self, event: Event) {
        match event {
            Event::StageStarted { stage } => self.spinner.set_message(stage.label()),
            Event::StageFinished { stage, seconds } => {
                self.note(&format!("{}: {seconds:.2}s", stage.label()))
            }
            Event::Note { message } => self.note(&message),
            Event::Warning { message } => eprintln!("warning: {message}"),
            Event::DataReady { summary, .. } => println!("data stage done: {summary}"),
            Event::Windows { train, validation, test, encoder_length, horizon, stride } => self.note(&format!(
                "windows: {train} train, {validation} validation, {test} test (encoder {encoder_length}, horizon {horizon}, stride {stride})"
            )),
            Event::ModelReady { parameters, static_variables, encoder_variables, decoder_variables, mflops_per_window } => self.note(&format!(
                "model: TFT with {parameters} parameters over {static_variables} static, {encoder_variables} encoder and {decoder_variables} decoder variables; {mflops_per_window:.1} MFLOPs per window forward"
            )),
            Event::RunDirectory { path } => println!("run directory: {}", path.display()),
            Event::Skipped { reason } => println!("{reason}"),
            Event::TrainingStarted { total_steps } => self.start_bar(total_steps, "steps"),
            Event::Step { step, loss } => self.with_bar(|b| {
                b.set_position(step as u64);
                b.set_message(format!("loss {loss:.4}"));
            }),
            Event::Epoch(m) => self.note(&format!(
                "epoch {:>3}: train {:.4}  val {:.4}  q-Risk P50 {:.4} P90 {:.4}  MAE {:.2}  lr {:.1e}  {:.0} samples/s",
                m.epoch, m.train_loss, m.val_loss, m.q_risk50, m.q_risk90, m.mae, m.lr, m.samples_per_s
            )),
            Event::Trained { epochs, best_epoch, val_loss, q_risk50, q_risk90, mae, artifact } => {
                self.end_bar();
                println!(
                    "trained {epochs} epochs; best epoch {best_epoch}: validation loss {val_loss:.4}, q-Risk P50 {q_risk50:.4}, P90 {q_risk90:.4}, MAE {mae:.2}; model in {}",
                    artifact.display()
                );
            }
            Event::UnknownCategories { categories } => {
                for c in categories {
                    eprintln!(
                        "warning: {} = {:?} ({} series) is not in the model's vocabulary: coded as unknown",
                        c.variable, c.value, c.series
                    );
                }
            }
            Event::FitsStarted { total } => self.start_bar(total, "fits"),
            Event::Fit { model } => self.with_bar(|b| {
                b.set_message(model);
                b.inc(1);
            }),
            Event::BaselineDone { model, series, cutoffs, seconds, fallbacks } => self.note(&format!(
                "{model}: {series} series x {cutoffs} cutoffs in {seconds:.1}s ({fallbacks} fallbacks)"
            )),
            Event::ShardWritten { path, index, count, series, models } => println!(
                "shard {index}/{count}: {models} models on {series} series in {}",
                path.display()
            ),
            Event::ShardsMerged { path, count, series } => {
                println!("merged {count} shards ({series} series) from {}", path.display())
            }
            Event::Scores { series, models } => {
                self.end_bar();
                println!("{}", headline(&models, series));
            }
            Event::ReportWritten { path, files } => {
                println!("report: {} ({files} files)", path.display())
            }
            Event::PanelWritten { path, rows } => println!("wrote {rows} rows to {}", path.display()),
            Event::Predicted { path, series, fallbacks, horizon, first, last } => {
                let fell = if fallbacks > 0 {
                    format!(", {fallbacks} by the SeasonalNaive fallback")
                } else {
                    String::new()
                };
                println!(
                    "forecast: {series} series x {horizon} steps ({first} to {last}){fell}: {}",
                    path.display()
                )
            }
            Event::Paused { epoch, checkpoint, .. } => self.note(&format!(
                "epoch {epoch}: checkpoint exported to {}; waiting for `continue` or `stop` on stdin",
                checkpoint.display()
            )),
            Event::Interrupted { signal } => {
                eprintln!("interrupted by {signal}: the last checkpoint is intact")
            }
            Event::Trials { metric, rows } => self.trial_table(&metric, &rows),
            Event::TrialEnded { trial, status, message } => match message {
                Some(m) => self.note(&format!("{trial}: {} ({m})", status.label())),
                None => self.note(&format!("{trial}: {}", status.label())),
            },
        }
    }
}

impl Terminal {
    /// Ray Tune's reporter table: redrawn in place on a terminal, plain lines in a log.
    fn trial_table(&self, metric: &str, rows: &[TrialRow]) {
        let mut t = format!(
            "{:<10} {:<10} {:<44} {:>6} {:>12} {:>12} {:>8}",
            "trial",
            "status",
            "params",
            "epochs",
            format!("last {metric}"),
            format!("best {metric}"),
            "time s"
        );
        for r in rows {
            let f = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.4}"));
            t.push_str(&format!(
                "\n{:<10} {:<10} {:<44} {:>6} {:>12} {:>12} {:>8.1}",
                r.trial,
                r.status.label(),
                r.params,
                r.epochs,
                f(r.last),
                f(r.best),
                r.seconds
            ));
        }
        if self.quiet {
            return;
        }
        if self.spinner.is_hidden() {
            eprintln!("{t}");
        } else {
            self.spinner.set_message(t);
        }
    }
}

/// A CSV file as aligned columns.
pub fn csv_table(text: &str) -> String {
    let rows: Vec<Vec<String>> = text.lines().map(fusecast_data::csvline::split).collect();
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|j| {
            rows.iter()
                .filter_map(|r| r.get(j))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn headline(models: &[ModelScore], n_series: usize) -> String {
    let mut s = format!(
        "{:<24} {:>10} {:>8} {:>11} {:>11} {:>11} {:>8}\n",
        "model", "MAE", "MASE", "q-Risk P50", "q-Risk P90", "coverage80", "wins"
    );
    for m in models {
        s.push_str(&format!(
            "{:<24} {:>10.3} {:>8.4} {:>11.4} {:>11.4} {:>11.3} {:>4}/{}\n",
            m.model, m.mae, m.mase, m.q_risk50, m.q_risk90, m.coverage80, m.wins, n_series
        ));
    }
    s.trim_end().to_string()
}
