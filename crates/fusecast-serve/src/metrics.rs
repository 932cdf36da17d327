//! Prometheus text metrics: requests by route and status, request latency, and how requests
//! were batched (requests per batch, windows per forward pass).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

struct Histogram {
    bounds: Vec<f64>,
    /// One count per bound, then +Inf; not cumulative (summed when rendered).
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    fn new(bounds: &[f64]) -> Self {
        Histogram {
            bounds: bounds.to_vec(),
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
        }
    }

    fn observe(&mut self, v: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[i] += 1;
        self.sum += v;
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut total = 0;
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            total += c;
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {total}");
        }
        total += self.counts[self.bounds.len()];
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
        let _ = writeln!(out, "{name}_sum {}\n{name}_count {total}", self.sum);
    }
}

struct Inner {
    requests: BTreeMap<(&'static str, u16), u64>,
    /// `(succeeded, count)` of model reloads (by request or by the file watch).
    reloads: BTreeMap<bool, u64>,
    latency: Histogram,
    batch_requests: Histogram,
    pass_windows: Histogram,
}

pub struct Metrics(Mutex<Inner>);

impl Default for Metrics {
    fn default() -> Self {
        Metrics(Mutex::new(Inner {
            requests: BTreeMap::new(),
            reloads: BTreeMap::new(),
            latency: Histogram::new(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ]),
            batch_requests: Histogram::new(&[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]),
            pass_windows: Histogram::new(&[1.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0]),
        }))
    }
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// One request answered; `route` is one of the service's routes (or "other"), so the
    /// label set stays bounded whatever paths clients try.
    pub fn request(&self, route: &'static str, status: u16, seconds: f64) {
        self.with(|m| {
            *m.requests.entry((route, status)).or_default() += 1;
            m.latency.observe(seconds);
        });
    }

    /// A model reload, successful or not (a failed one keeps the old model serving).
    pub fn reload(&self, ok: bool) {
        self.with(|m| *m.reloads.entry(ok).or_default() += 1);
    }

    /// One batch of forecast requests answered together.
    pub fn batch(&self, requests: usize) {
        self.with(|m| m.batch_requests.observe(requests as f64));
    }

    /// `windows` forecast in passes of up to `max` windows.
    pub fn passes(&self, windows: usize, max: usize) {
        self.with(|m| {
            let mut left = windows;
            while left > 0 {
                let n = left.min(max.max(1));
                m.pass_windows.observe(n as f64);
                left -= n;
            }
        });
    }

    pub fn render(&self) -> String {
        self.with(|m| {
            let mut out = String::new();
            out.push_str("# HELP fusecast_requests_total Requests answered, by route and HTTP status.\n# TYPE fusecast_requests_total counter\n");
            for ((route, status), n) in &m.requests {
                let _ = writeln!(
                    out,
                    "fusecast_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
            out.push_str("# HELP fusecast_model_reloads_total Model reloads, by result.\n# TYPE fusecast_model_reloads_total counter\n");
            for (ok, n) in &m.reloads {
                let result = if *ok { "ok" } else { "failed" };
                let _ = writeln!(out, "fusecast_model_reloads_total{{result=\"{result}\"}} {n}");
            }
            m.latency.render(
                &mut out,
                "fusecast_request_duration_seconds",
                "Time from a request's arrival to its answer.",
            );
            m.batch_requests.render(
                &mut out,
                "fusecast_batch_requests",
                "Forecast requests answered by one batch of forward passes.",
            );
            m.pass_windows.render(
                &mut out,
                "fusecast_forward_pass_windows",
                "Series windows in one forward pass.",
            );
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_counts_by_label() {
        let m = Metrics::default();
        m.request("forecast", 200, 0.003);
        m.request("forecast", 200, 0.2);
        m.request("forecast", 400, 0.0001);
        m.passes(300, 256);
        let text = m.render();
        assert!(text.contains("fusecast_requests_total{route=\"forecast\",status=\"200\"} 2"));
        assert!(text.contains("fusecast_requests_total{route=\"forecast\",status=\"400\"} 1"));
        assert!(text.contains("fusecast_request_duration_seconds_bucket{le=\"0.001\"} 1"));
        assert!(text.contains("fusecast_request_duration_seconds_bucket{le=\"0.005\"} 2"));
        assert!(text.contains("fusecast_request_duration_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("fusecast_request_duration_seconds_count 3"));
        // 300 windows in passes of 256: one of 256, one of 44.
        assert!(text.contains("fusecast_forward_pass_windows_bucket{le=\"64\"} 1"));
        assert!(text.contains("fusecast_forward_pass_windows_bucket{le=\"256\"} 2"));
    }
}
