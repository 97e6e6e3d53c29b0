//! Subscription fan-out through the router, for `bench/subscriptions/bench.py`: N websocket
//! clients of one user subscribe to `notificationAdded`, one `sendNotification` is sent, and
//! the time from sending it to each client's event is measured. Prints one `RESULT` line of
//! JSON: clients connected and served, latency percentiles, the router process's RSS before
//! and after the clients subscribed, and its upstream subscriptions (the router's gauge).
//! Figures only; it fails (exit 1) only when clients miss the event.
//!
//! sub-fanout ROUTER_HTTP_URL TOKEN USER_ID CLIENTS ROUTER_PID
//!
//! TOKEN may be `@FILE`, a file of access tokens (one per line, all the same user's): client
//! i then signs in with token i modulo their number, so the router sees that many callers.
//!
//! Each client takes its arrival time the moment it reads the event, and hands it over a
//! channel. (An earlier version pushed it into a vector behind an async mutex, taking the time
//! after the lock: 10,000 clients queued on that lock one wake-up at a time, and the figure
//! measured the queue. On the same router build, p99 went from about 530 to about 90 ms; see
//! docs/performance.md.) Each keeps its socket open after the event, as a subscriber would,
//! until every client is measured, and reads through 4 KiB websocket buffers: tungstenite's
//! default is 128 KiB each way, which for 10,000 sockets is gigabytes of client memory.
//!
//! With `FANOUT_IDLE=1` the clients only connect (`connection_init`, ack) and nothing is sent:
//! the memory of an idle connection, to tell it from a subscription's.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::{
    Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
};

/// The websocket buffers each client reads and writes through: GraphQL messages are small.
const WS_BUFFER: usize = 4 * 1024;

const ADDED: &str = "subscription { notificationAdded { kind title } }";
const SEND: &str = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { notification { kind } } }";

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("VmRSS:")?.trim().strip_suffix("kB")?.trim().parse().ok()))
        .unwrap_or(0)
}

async fn gauge(http: &str, name: &str) -> i64 {
    let text = reqwest::get(format!("{http}/metrics")).await.expect("metrics answer").text().await.expect("text");
    text.lines().find_map(|l| l.strip_prefix(&format!("tessera_router_{name} "))?.trim().parse().ok()).unwrap_or(-1)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, http, token, user, clients, pid] = &args[..] else {
        eprintln!("usage: sub-fanout ROUTER_HTTP_URL TOKEN USER_ID CLIENTS ROUTER_PID");
        std::process::exit(2);
    };
    let clients: usize = clients.parse().expect("a number of clients");
    let tokens: Vec<String> = match token.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).expect("a token file").lines().map(str::to_owned).collect(),
        None => vec![token.clone()],
    };
    let token = &tokens[0];
    let pid: u32 = pid.parse().expect("a pid");
    let ws_url = format!("{}/graphql", http.replacen("http", "ws", 1));
    let idle = std::env::var("FANOUT_IDLE").is_ok_and(|v| v == "1");
    let rss_before = rss_kb(pid);

    let (arrived, mut arrivals) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let connected = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // Connect a bounded number at a time: the point is the steady state, not a connect storm.
    let gate = Arc::new(Semaphore::new(64));
    let mut tasks = Vec::with_capacity(clients);
    for i in 0..clients {
        let (ws_url, token, arrived, connected, gate) =
            (ws_url.clone(), tokens[i % tokens.len()].clone(), arrived.clone(), connected.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.expect("open");
            let mut request = ws_url.as_str().into_client_request().expect("a URL");
            request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
            let config = WebSocketConfig::default().read_buffer_size(WS_BUFFER).write_buffer_size(0);
            let Ok((mut ws, _)) = tokio_tungstenite::connect_async_with_config(request, Some(config), false).await
            else {
                return;
            };
            let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
            let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": ADDED } });
            if ws.send(Message::text(init.to_string())).await.is_err() {
                return;
            }
            // Wait for the ack before subscribing, as graphql-ws does.
            while let Some(Ok(msg)) = ws.next().await {
                if msg.to_text().is_ok_and(|t| t.contains("connection_ack")) {
                    break;
                }
            }
            if !idle && ws.send(Message::text(subscribe.to_string())).await.is_err() {
                return;
            }
            connected.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(permit);
            while let Some(Ok(msg)) = ws.next().await {
                let Ok(text) = msg.to_text() else { continue };
                let Ok(v) = serde_json::from_str::<Value>(text) else { continue };
                match v["type"].as_str() {
                    Some("next") => {
                        // One event is the measurement; the socket stays open until main ends.
                        let _ = arrived.send(Instant::now());
                    }
                    Some("ping") => {
                        let _ = ws.send(Message::text(json!({ "type": "pong" }).to_string())).await;
                    }
                    Some("error" | "complete") => return,
                    _ => {}
                }
            }
        }));
    }
    // Every client's subscription is running in the router before the event is sent.
    let deadline = Instant::now() + Duration::from_secs(120);
    let counted = if idle { "websocket_connections" } else { "websocket_subscriptions" };
    while gauge(http, counted).await < clients as i64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let subscribed = gauge(http, "websocket_subscriptions").await;
    let upstreams = gauge(http, "subscription_upstreams").await;
    let connections = gauge(http, "subscription_connections").await;
    let rss_after = rss_kb(pid);
    if idle {
        let per_client = (rss_after.saturating_sub(rss_before)) as f64 / clients.max(1) as f64;
        let connected = gauge(http, "websocket_connections").await;
        println!(
            "RESULT {}",
            json!({ "clients": clients, "connected": connected, "rss_per_client_kb": per_client, "idle": true })
        );
        return;
    }

    let input = json!({ "userId": user, "channel": "IN_APP", "subject": "Fan-out", "message": "One event." });
    let sent = Instant::now();
    let answer: Value = reqwest::Client::new()
        .post(format!("{http}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": SEND, "variables": { "i": input } }))
        .send()
        .await
        .expect("the router answers")
        .json()
        .await
        .expect("JSON");
    assert!(answer["errors"].is_null(), "sendNotification failed: {answer}");
    drop(arrived);
    let wait_until = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut latencies: Vec<f64> = Vec::with_capacity(clients);
    while latencies.len() < clients {
        let Ok(Some(at)) = tokio::time::timeout_at(wait_until, arrivals.recv()).await else { break };
        latencies.push(at.duration_since(sent).as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies.get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied();
    let result = json!({
        "clients": clients,
        "connected": connected.load(std::sync::atomic::Ordering::SeqCst),
        "subscribed": subscribed,
        "received": latencies.len(),
        "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99), "max_ms": latencies.last(),
        "rss_before_kb": rss_before, "rss_after_kb": rss_after,
        "rss_per_client_kb": (rss_after.saturating_sub(rss_before)) as f64 / clients.max(1) as f64,
        "upstream_subscriptions": upstreams,
        "upstream_connections": connections,
    });
    println!("RESULT {result}");
    for task in tasks {
        task.abort();
    }
    if latencies.len() < clients {
        std::process::exit(1);
    }
}
