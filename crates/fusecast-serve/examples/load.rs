//! A bounded load test of a running `fusecast serve` on loopback: `REQUESTS` forecast requests
//! for every series the service knows, `CONCURRENCY` at a time, every tenth one malformed.
//! Reports latency percentiles and requests per second; fails on any 5xx, any valid request not
//! answered 200, any malformed one not answered 4xx, or a connection error.
//!
//! `cargo run --release -p fusecast-serve --example load -- 127.0.0.1:8080 10000 64`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn request(
    addr: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw[..raw.len().min(64)]).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {text:?}")))?;
    let at = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(raw.len(), |i| i + 4);
    Ok((status, raw[at..].to_vec()))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args
        .first()
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let total: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(64);
    let (status, body) = request(&addr, "GET", "/v1/model", b"")
        .await
        .expect("GET /v1/model");
    assert_eq!(status, 200, "GET /v1/model");
    let model: serde_json::Value = serde_json::from_slice(&body).expect("model info is JSON");
    let horizon = model["horizon"].as_u64().expect("horizon");
    let (_, body) = request(&addr, "GET", "/v1/series", b"")
        .await
        .expect("GET /v1/series");
    let series: serde_json::Value = serde_json::from_slice(&body).expect("series are JSON");
    let names: Vec<serde_json::Value> = series["series"]
        .as_array()
        .expect("a series list")
        .iter()
        .map(|s| serde_json::json!({ "name": s["name"] }))
        .collect();
    let valid = Arc::new(
        serde_json::json!({ "inputs": names, "options": { "horizon": horizon } })
            .to_string()
            .into_bytes(),
    );
    let malformed: Arc<Vec<u8>> = Arc::new(b"{\"inputs\": [{\"name\": 1}], \"options\": ".to_vec());
    println!(
        "load: {total} requests, {concurrency} concurrent, {} series x {horizon} steps each, 10% malformed",
        names.len()
    );
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (addr, next, failures) = (addr.clone(), next.clone(), failures.clone());
        let (valid, malformed) = (valid.clone(), malformed.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let bad = i % 10 == 9;
                let body = if bad { &malformed } else { &valid };
                let t = Instant::now();
                let ok = match request(&addr, "POST", "/v1/timeseries/forecast", body).await {
                    Ok((s, _)) if bad => (400..500).contains(&s),
                    Ok((s, _)) => s == 200,
                    Err(e) => {
                        eprintln!("request {i}: {e}");
                        false
                    }
                };
                if !ok {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
                if !bad {
                    latencies.push(t.elapsed());
                }
            }
            latencies
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("a load task"));
    }
    let wall = t0.elapsed().as_secs_f64();
    latencies.sort();
    let pct =
        |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
    let failed = failures.load(Ordering::Relaxed);
    println!(
        "load: {:.0} requests/s over {wall:.1} s; valid requests p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {failed} failures",
        total as f64 / wall,
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    let (_, metrics) = request(&addr, "GET", "/metrics", b"")
        .await
        .expect("GET /metrics");
    for line in String::from_utf8_lossy(&metrics).lines() {
        if line.starts_with("fusecast_requests_total")
            || line.starts_with("fusecast_batch_requests_sum")
            || line.starts_with("fusecast_batch_requests_count")
        {
            println!("  {line}");
        }
    }
    if failed > 0 {
        std::process::exit(1);
    }
}
