//! A fuzz harness for the router's request path: random HTTP bodies, query texts from a GraphQL
//! grammar (fragments, spreads, directives, aliases, variables), variables, GET query strings and
//! websocket message sequences, sent to a real router in front of the real subgraphs.
//!
//! Run with `cargo bench --bench fuzz` (`FUZZ_SECONDS`, default 60; `FUZZ_SEED` to replay). It
//! stops by itself and prints how many cases ran, per kind, and every case that broke a rule:
//! - no 5xx, no dropped connection (a panic in a handler drops it), always JSON with `errors`
//!   or `data` for GraphQL requests;
//! - every case answers within 5 s, and `/health` answers between cases;
//! - the process's resident memory stays under 1 GiB.
//!
//! It is a bench target, not a test: it runs for a fixed time and reports figures.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_testkit::spawn_stack;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

const FIELDS: [&str; 16] = [
    "signedIn",
    "product",
    "user",
    "me",
    "order",
    "myOrders",
    "id",
    "name",
    "username",
    "email",
    "price",
    "title",
    "__typename",
    "__schema",
    "__type",
    "validateToken",
];
const TYPES: [&str; 6] = ["Product", "User", "Order", "Query", "Notification", "Nope"];
const DIRECTIVES: [&str; 4] = ["@skip(if: true)", "@include(if: $v)", "@include(if: false)", "@deprecated"];

struct Gen(fastrand::Rng);

impl Gen {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.0.usize(..items.len())]
    }

    fn literal(&mut self) -> String {
        match self.0.u8(..7) {
            0 => self.0.i64(..).to_string(),
            1 => format!("{:?}", self.text(12)),
            2 => "true".into(),
            3 => "null".into(),
            4 => "$v".into(),
            5 => format!("[{}, {}]", self.0.u8(..), self.0.u8(..)),
            _ => format!("{{ a: {} }}", self.0.u32(..)),
        }
    }

    fn text(&mut self, max: usize) -> String {
        let len = self.0.usize(..max);
        (0..len).map(|_| self.0.char(..)).collect()
    }

    fn selection_set(&mut self, depth: usize, fragments: usize) -> String {
        let n = 1 + self.0.usize(..4);
        let mut out = String::from("{ ");
        for _ in 0..n {
            match self.0.u8(..10) {
                0 if fragments > 0 => out.push_str(&format!("...F{} ", self.0.usize(..fragments))),
                1 if depth > 0 => {
                    let inner = self.selection_set(depth - 1, fragments);
                    out.push_str(&format!("... on {} {inner} ", self.pick(&TYPES)));
                }
                _ => {
                    if self.0.bool() {
                        out.push_str(&format!("a{}: ", self.0.u8(..4)));
                    }
                    out.push_str(self.pick(&FIELDS));
                    if self.0.u8(..3) == 0 {
                        out.push_str(&format!("(id: {})", self.literal()));
                    }
                    if self.0.u8(..4) == 0 {
                        out.push(' ');
                        out.push_str(self.pick(&DIRECTIVES));
                    }
                    if depth > 0 && self.0.bool() {
                        out.push(' ');
                        out.push_str(&self.selection_set(depth - 1, fragments));
                    }
                    out.push(' ');
                }
            }
        }
        out.push('}');
        out
    }

    /// A document from the grammar, sometimes with its bytes damaged afterwards.
    fn document(&mut self) -> String {
        let fragments = self.0.usize(..6);
        let kind = self.pick(&["", "query Q($v: Boolean = true) ", "mutation ", "subscription ", "query "]);
        let depth = 1 + self.0.usize(..6);
        let mut doc = format!("{kind}{}", self.selection_set(depth, fragments));
        for i in 0..fragments {
            // Fragments may spread later ones (chains, doublings) or themselves (cycles).
            let body = self.selection_set(2, fragments);
            doc.push_str(&format!("\nfragment F{i} on {} {body}", self.pick(&TYPES)));
        }
        match self.0.u8(..6) {
            0 if !doc.is_empty() => {
                let at = self.0.usize(..doc.len());
                doc.truncate(doc.floor_char_boundary(at));
            }
            1 => {
                let junk = self.text(8);
                let at = doc.floor_char_boundary(self.0.usize(..=doc.len()));
                doc.insert_str(at, &junk);
            }
            _ => {}
        }
        doc
    }

    fn variables(&mut self) -> Value {
        match self.0.u8(..5) {
            0 => Value::Null,
            1 => json!({ "v": self.0.bool() }),
            2 => json!({ "v": self.text(20) }),
            3 => json!([1, 2]),
            _ => json!({ "v": { "deep": [{ "x": self.0.i64(..) }] } }),
        }
    }

    fn body(&mut self) -> Vec<u8> {
        match self.0.u8(..8) {
            0 => (0..self.0.usize(..200)).map(|_| self.0.u8(..)).collect(),
            1 => json!({ "query": self.0.i64(..) }).to_string().into_bytes(),
            2 => json!({ "query": self.document(), "extensions": { "persistedQuery": { "version": 1, "sha256Hash": self.text(64) } } })
                .to_string()
                .into_bytes(),
            3 => json!({ "query": self.document(), "operationName": self.text(6), "extensions": self.0.u8(..) })
                .to_string()
                .into_bytes(),
            _ => json!({ "query": self.document(), "variables": self.variables() }).to_string().into_bytes(),
        }
    }

    fn ws_message(&mut self, id: usize) -> String {
        match self.0.u8(..6) {
            0 => self.text(40),
            1 => json!({ "type": self.pick(&["ping", "pong", "complete", "connection_init", "what"]), "id": id.to_string() })
                .to_string(),
            2 => json!({ "type": "subscribe", "id": "same", "payload": { "query": self.document() } }).to_string(),
            _ => json!({ "type": "subscribe", "id": id.to_string(), "payload": { "query": self.document(), "variables": self.variables() } })
                .to_string(),
        }
    }
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[derive(Default)]
struct Tally {
    http_post: usize,
    http_get: usize,
    ws_sessions: usize,
    ws_messages: usize,
    slowest: Duration,
    peak_rss: u64,
    broken: Vec<String>,
}

const CASE_BOUND: Duration = Duration::from_secs(5);
const RSS_BOUND: u64 = 1 << 30;

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| fastrand::u64(..));
    let stack = spawn_stack(&SUBGRAPHS).await;
    let http = reqwest::Client::new();
    let url = stack.router_url("/graphql");
    let ws_url = format!("ws://{}/graphql", stack.router);
    let mut input = Gen(fastrand::Rng::with_seed(seed));
    let mut tally = Tally::default();
    // `FUZZ_LOG=1` prints each case before it is sent, to find one that brings the process down.
    let log = std::env::var("FUZZ_LOG").is_ok_and(|v| v == "1");
    let started = Instant::now();
    println!("fuzzing the router for {seconds} s, seed {seed}");
    while started.elapsed() < Duration::from_secs(seconds) {
        let case_started = Instant::now();
        let (what, outcome) = match input.0.u8(..10) {
            0..=5 => {
                tally.http_post += 1;
                let body = input.body();
                if log {
                    eprintln!("POST {}", String::from_utf8_lossy(&body));
                }
                let sent = http.post(&url).header("content-type", "application/json").body(body.clone()).send();
                (
                    "POST",
                    check_http(tokio::time::timeout(CASE_BOUND, sent).await, &String::from_utf8_lossy(&body)).await,
                )
            }
            6..=7 => {
                tally.http_get += 1;
                let query = input.document();
                let variables = input.variables().to_string();
                if log {
                    eprintln!("GET {query} {variables}");
                }
                let sent = http.get(&url).query(&[("query", query.as_str()), ("variables", variables.as_str())]).send();
                ("GET", check_http(tokio::time::timeout(CASE_BOUND, sent).await, &query).await)
            }
            _ => {
                tally.ws_sessions += 1;
                let messages: Vec<String> = (0..1 + input.0.usize(..6)).map(|i| input.ws_message(i)).collect();
                tally.ws_messages += messages.len();
                if log {
                    eprintln!("WS {messages:?}");
                }
                (
                    "WS",
                    tokio::time::timeout(CASE_BOUND, ws_case(&ws_url, &messages))
                        .await
                        .unwrap_or_else(|_| Err(format!("no answer within {CASE_BOUND:?}: {messages:?}"))),
                )
            }
        };
        let took = case_started.elapsed();
        tally.slowest = tally.slowest.max(took);
        if let Err(why) = outcome {
            tally.broken.push(format!("{what}: {why}"));
        }
        let health = tokio::time::timeout(CASE_BOUND, http.get(stack.router_url("/health")).send()).await;
        if !matches!(health, Ok(Ok(ref r)) if r.status().is_success()) {
            tally.broken.push("/health did not answer".into());
        }
        tally.peak_rss = tally.peak_rss.max(rss_bytes());
        if tally.peak_rss > RSS_BOUND {
            tally.broken.push(format!("resident memory reached {} MiB", tally.peak_rss >> 20));
            break;
        }
    }
    let cases = tally.http_post + tally.http_get + tally.ws_sessions;
    println!(
        "{cases} cases in {:.1} s: {} POST, {} GET, {} websocket sessions ({} messages)",
        started.elapsed().as_secs_f64(),
        tally.http_post,
        tally.http_get,
        tally.ws_sessions,
        tally.ws_messages
    );
    println!(
        "slowest case {:?} (bound {CASE_BOUND:?}); peak RSS {} MiB (bound {} MiB)",
        tally.slowest,
        tally.peak_rss >> 20,
        RSS_BOUND >> 20
    );
    if tally.broken.is_empty() {
        println!("no case panicked, answered 5xx, dropped the connection or exceeded a bound");
    } else {
        println!("{} cases broke a rule:", tally.broken.len());
        for why in tally.broken.iter().take(20) {
            println!("  {why}");
        }
        std::process::exit(1);
    }
}

async fn check_http(
    sent: Result<reqwest::Result<reqwest::Response>, tokio::time::error::Elapsed>,
    input: &str,
) -> Result<(), String> {
    let short: String = input.chars().take(300).collect();
    let res = match sent {
        Err(_) => return Err(format!("no answer within {CASE_BOUND:?}: {short:?}")),
        Ok(Err(e)) => return Err(format!("the connection failed ({e}): {short:?}")),
        Ok(Ok(res)) => res,
    };
    let status = res.status();
    if status.is_server_error() {
        return Err(format!("{status}: {short:?}"));
    }
    let body: Value = res.json().await.map_err(|e| format!("{status} without a JSON body ({e}): {short:?}"))?;
    if body.get("errors").is_none() && body.get("data").is_none() {
        return Err(format!("{status} with neither data nor errors: {body}"));
    }
    Ok(())
}

/// One websocket session: init, the messages, then whatever the router answers until it goes
/// quiet or closes. Any close code is fine; a dropped connection without one is not.
async fn ws_case(url: &str, messages: &[String]) -> Result<(), String> {
    let mut req = url.into_client_request().map_err(|e| e.to_string())?;
    req.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.map_err(|e| format!("cannot connect: {e}"))?;
    let _ = ws.send(Message::text(json!({ "type": "connection_init", "payload": {} }).to_string())).await;
    for message in messages {
        if ws.send(Message::text(message.clone())).await.is_err() {
            break; // closed by the router, which is allowed
        }
    }
    loop {
        match tokio::time::timeout(Duration::from_millis(300), ws.next()).await {
            Err(_) => return Ok(()),
            Ok(None) => return Err(format!("dropped without a close frame after {messages:?}")),
            Ok(Some(Ok(Message::Close(_)))) => return Ok(()),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => return Err(format!("{e} after {messages:?}")),
        }
    }
}
