//! `fusecast serve` end to end: the real binary on a loopback port, answered over plain HTTP/1.1
//! (no client library): forecasts equal `fusecast predict`'s, history sent in the request
//! equals the saved one, each bad input fails alone, bad requests get a 4xx naming the field,
//! and the metrics count what happened.

mod common;

use common::*;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills the server however the test ends, so no process outlives it.
struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(cwd: &std::path::Path, run: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fusecast"))
        .current_dir(cwd)
        .args([
            "--quiet",
            "serve",
            run,
            "--addr",
            "127.0.0.1:0",
            "--body-limit-mib",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Server(child, addr)
}

/// One request on its own connection: (status, body).
fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    // Written beside the read: a server may answer (413) before reading the whole body.
    let mut w = s.try_clone().unwrap();
    let body = body.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(&body);
    });
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let _ = writer.join();
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

fn numbers(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// The same forecast to float precision (the windows share a forward pass with others).
fn assert_close(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= 1e-6 * (1.0 + y.abs()),
            "{what}: {a:?} vs {b:?}"
        );
    }
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn the_service_answers_as_predict_does_and_refuses_bad_requests_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("small.toml"),
        "[data]\nstart = \"2022-01-01\"\nend = \"2022-05-31\"\n[data.synthetic]\nzones = 6\n\
         [windows]\nencoder_length = 14\nhorizon = 7\n\
         [model]\nhidden_size = 8\nattention_heads = 1\nhidden_continuous_size = 4\n\
         [train]\nbatch_size = 16\nmax_epochs = 1\nbatches_per_epoch = 2\n\
         [baselines]\nmodels = [\"naive\"]\n",
    )
    .unwrap();
    let (ok, _, stderr) = fusecast(d, &["run", "small.toml", "--name", "s"]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = fusecast(d, &["predict", "runs/s", "--out", "p.csv"]);
    assert!(ok, "{stderr}");
    let predicted = std::fs::read_to_string(d.join("p.csv")).unwrap();
    let server = start(d, "runs/s");
    let addr = server.1.clone();

    assert_eq!(
        http(&addr, "GET", "/healthz", b""),
        (200, "ok\n".to_string())
    );
    let (status, body) = http(&addr, "GET", "/v1/series", b"");
    assert_eq!(status, 200);
    let series: Vec<String> = json(&body)["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(series.len(), 6);
    let (status, body) = http(&addr, "GET", "/v1/model", b"");
    assert_eq!(status, 200);
    let artifact: serde_json::Value =
        json(&std::fs::read_to_string(d.join("runs/s/best/artifact.json")).unwrap());
    assert_eq!(
        json(&body)["data_fingerprint"],
        artifact["features"]["data_fingerprint"]
    );

    // Saved-history inputs, one unknown series, and one sending the saved history itself.
    let panel_csv = d.join("panel.csv");
    let (ok, _, stderr) = fusecast(
        d,
        &[
            "prepare",
            "small.toml",
            "--out",
            panel_csv.to_str().unwrap(),
        ],
    );
    assert!(ok, "{stderr}");
    let first = &series[0];
    let values: Vec<f64> = std::fs::read_to_string(&panel_csv)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| l.starts_with(&format!("{first},")))
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(values.len(), 151);
    let tail = &values[values.len() - 20..];
    let request = serde_json::json!({
        "model": "small",
        "inputs": [
            {"type": "univariate_time_series", "name": series[0], "frequency": "D"},
            {"name": "nowhere"},
            {"name": series[1]},
            {"name": first, "series": tail, "start_timestamp": "2022-05-12T00:00:00Z"},
        ],
        "options": {"horizon": 7, "quantiles": [0.1, 0.5, 0.9]},
    });
    let (status, body) = http(
        &addr,
        "POST",
        "/v1/timeseries/forecast",
        request.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let r = json(&body);
    assert_eq!(r["status"], "partial");
    assert_eq!(r["model"], "small");
    let outputs = r["outputs"].as_array().unwrap();
    assert_eq!(outputs[1]["status"], "error");
    assert!(outputs[1]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("\"nowhere\""));
    let content = |i: usize| &outputs[i]["content"][0];
    assert_eq!(content(0)["start_timestamp"], "2022-06-01T00:00:00");
    // Every value equals `predict`'s CSV row for that series and day.
    for i in [0usize, 2] {
        let name = content(i)["name"].as_str().unwrap();
        let mean = numbers(&content(i)["mean_forecast"]);
        let rows: Vec<Vec<&str>> = predicted
            .lines()
            .filter(|l| l.starts_with(&format!("{name},")))
            .map(|l| l.split(',').collect())
            .collect();
        assert_eq!(rows.len(), 7);
        let p: Vec<f64> = rows.iter().map(|r| r[4].parse().unwrap()).collect();
        assert_close(&mean, &p, name);
        let q10 = content(i)["quantiles"]["0.1"].as_array().unwrap();
        assert_eq!(q10.len(), 7);
    }
    // Sending the history the model already has gives the same forecast.
    assert_close(
        &numbers(&content(3)["mean_forecast"]),
        &numbers(&content(0)["mean_forecast"]),
        "sent history",
    );
    for q in ["0.1", "0.5", "0.9"] {
        assert_close(
            &numbers(&content(3)["quantiles"][q]),
            &numbers(&content(0)["quantiles"][q]),
            q,
        );
    }

    // Bad requests: each a 4xx that names what is wrong.
    let (status, body) = http(&addr, "POST", "/v1/timeseries/forecast", b"{\"inputs\": [");
    assert_eq!(status, 400, "{body}");
    assert!(
        json(&body)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("EOF"),
        "{body}"
    );
    let (status, body) = http(
        &addr,
        "POST",
        "/v1/timeseries/forecast",
        br#"{"inputs":[{"name":"a"}]}"#,
    );
    assert_eq!(status, 400);
    assert!(body.contains("options"), "{body}");
    let bad_q = serde_json::json!({"inputs": [{"name": first}], "options": {"horizon": 7, "quantiles": [0.33]}});
    let (status, body) = http(
        &addr,
        "POST",
        "/v1/timeseries/forecast",
        bad_q.to_string().as_bytes(),
    );
    assert_eq!(status, 400);
    assert_eq!(json(&body)["error"]["param"], "options.quantiles[0]");
    let nan = serde_json::json!({"inputs": [{"name": first, "series": [1.0, null, 3.0], "start_timestamp": "2022-05-01"}], "options": {"horizon": 3}});
    let (status, body) = http(
        &addr,
        "POST",
        "/v1/timeseries/forecast",
        nan.to_string().as_bytes(),
    );
    assert_eq!(status, 200);
    let r = json(&body);
    assert_eq!(r["status"], "error");
    assert_eq!(r["outputs"][0]["error"]["param"], "inputs[0]");
    assert!(
        r["outputs"][0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("series[1]"),
        "{body}"
    );
    let huge = vec![b' '; 2 << 20];
    let (status, _) = http(&addr, "POST", "/v1/timeseries/forecast", &huge);
    assert_eq!(status, 413);
    let (status, _) = http(&addr, "GET", "/v2/nothing", b"");
    assert_eq!(status, 404);

    // A reload swaps the model in and keeps serving.
    let (status, body) = http(&addr, "POST", "/v1/reload", b"");
    assert_eq!(status, 200, "{body}");
    let again = serde_json::json!({"inputs": [{"name": first}], "options": {"horizon": 7, "quantiles": [0.1, 0.5, 0.9]}});
    let (status, body) = http(
        &addr,
        "POST",
        "/v1/timeseries/forecast",
        again.to_string().as_bytes(),
    );
    assert_eq!(status, 200);
    assert_close(
        &numbers(&json(&body)["outputs"][0]["content"][0]["mean_forecast"]),
        &numbers(&content(0)["mean_forecast"]),
        "after the reload",
    );

    let (status, text) = http(&addr, "GET", "/metrics", b"");
    assert_eq!(status, 200);
    assert!(
        text.contains("fusecast_requests_total{route=\"forecast\",status=\"200\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("fusecast_requests_total{route=\"forecast\",status=\"400\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("fusecast_requests_total{route=\"forecast\",status=\"413\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("fusecast_requests_total{route=\"other\",status=\"404\"} 1"),
        "{text}"
    );
    assert!(text.contains("fusecast_batch_requests_count"), "{text}");
    assert!(
        text.contains("fusecast_model_reloads_total{result=\"ok\"} 1"),
        "{text}"
    );

    // A new best model on disk is picked up by the file watch.
    let artifact = d.join("runs/s/best/artifact.json");
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&artifact)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let mut watched = false;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(100));
        let (_, text) = http(&addr, "GET", "/metrics", b"");
        if text.contains("fusecast_model_reloads_total{result=\"ok\"} 2") {
            watched = true;
            break;
        }
    }
    assert!(watched, "the file watch did not reload the model");
    drop(server);
}
