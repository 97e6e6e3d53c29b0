//! Sign-in throughput and load shedding, measured.
//!
//! Run with `cargo bench --bench auth`. In one run, on this machine:
//! 1. the raw argon2id rate: the DESIGN.md parameters (19 MiB, t=2, p=1), one thread per core,
//!    verifying a hash in a loop over kept memory: the ceiling no login service can beat;
//! 2. logins/s through the router (HTTP, GraphQL, lockout bookkeeping, session, JWT), with
//!    enough clients to keep every hash slot busy; the figure that matters is the ratio to (1),
//!    in rounds that alternate (1) and (2), and its median;
//! 3. a flood at 4x that login capacity for a few seconds, with a cheap query (`{ signedIn }`)
//!    running beside it: how many logins were shed (`RATE_LIMITED`) and how fast, and the cheap
//!    query's p99 next to its p99 on an idle stack.
//!
//! Everything is bounded in time and count and targets 127.0.0.1 only.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use argon2::Params;
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_auth::credentials::argon::{self, Memory};
use tessera_kit::config::BucketConfig;
use tessera_testkit::{spawn_configured, test_bus};

const PASSWORD: &str = "violet kettle drifting over marble";
const USERS: usize = 32;
const MEASURE: Duration = Duration::from_secs(4);
const ROUNDS: usize = 5;
const FLOOD: Duration = Duration::from_secs(6);

fn cores() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(2)
}

/// Verifications per second with one thread per core, for `MEASURE`. Each thread keeps its
/// argon2 memory between hashes, as the service's hashing threads do: the ceiling is the
/// cheapest verification this library allows, not the one that allocates 19 MiB each time.
fn raw_argon2_rate() -> f64 {
    let params = Params::new(19_456, 2, 1, None).expect("valid parameters");
    let hash = argon::hash(&params, &mut Memory::default(), PASSWORD.as_bytes()).expect("hashes");
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..cores() {
            let (done, hash, params) = (done.clone(), hash.clone(), params.clone());
            s.spawn(move || {
                let mut memory = Memory::default();
                while started.elapsed() < MEASURE {
                    let verdict = argon::verify(&params, &mut memory, PASSWORD.as_bytes(), &hash);
                    assert_eq!(verdict, argon::Verdict::Right);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn post(http: &reqwest::Client, url: &str, body: &Value) -> (Duration, Value) {
    let t = Instant::now();
    let res = http.post(url).json(body).send().await.expect("the router answers");
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (t.elapsed(), body)
}

fn login_body(i: usize) -> Value {
    json!({
        "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        "variables": { "i": { "identifier": format!("user{}", i % USERS), "password": PASSWORD } },
    })
}

fn outcome(body: &Value) -> &str {
    if body["data"]["login"]["accessToken"].is_string() {
        "ok"
    } else {
        body["errors"][0]["extensions"]["code"].as_str().unwrap_or("other")
    }
}

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// The cheap query in a loop until `stop`, one at a time; its latencies, sorted.
async fn cheap_queries(http: reqwest::Client, url: String, stop: Arc<AtomicBool>) -> Vec<Duration> {
    let body = json!({ "query": "{ signedIn }" });
    let mut latencies = Vec::new();
    while !stop.load(Ordering::Relaxed) && latencies.len() < 100_000 {
        latencies.push(post(&http, &url, &body).await.0);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    latencies.sort();
    latencies
}

/// What a login costs beside its hash: CPU seconds of the hashing threads (`argon2-*`) and of
/// everything else in this process (router, subgraphs, SQLite workers, this bench's client), and
/// context switches, by thread name. Per login, the last two are what the rest of a sign-in
/// costs, and unlike the ratio they hardly move with the neighbours' load on a shared machine.
#[derive(Default, Clone)]
struct Usage {
    hash_cpu: f64,
    other_cpu: f64,
    switches: std::collections::BTreeMap<String, f64>,
}

/// One snapshot: the process's CPU seconds (threads that ended included), and per live thread
/// its name, CPU seconds and context switches.
struct Snapshot {
    process_cpu: f64,
    threads: std::collections::HashMap<String, (String, f64, u64)>,
}

/// Linux reports CPU time in clock ticks of 1/100 s (USER_HZ).
const TICKS: f64 = 100.0;

/// utime + stime from a `/proc/.../stat` line ("pid (comm) state ..."; the name may hold spaces).
fn stat_cpu(stat: &str) -> Option<(String, f64)> {
    let (head, rest) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_owned();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    Some((name, ticks as f64 / TICKS))
}

fn snapshot() -> Snapshot {
    let process_cpu = std::fs::read_to_string("/proc/self/stat").ok().and_then(|s| stat_cpu(&s)).map_or(0.0, |c| c.1);
    let mut threads = std::collections::HashMap::new();
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let (Ok(stat), Ok(status)) =
            (std::fs::read_to_string(task.path().join("stat")), std::fs::read_to_string(task.path().join("status")))
        else {
            continue; // the thread ended meanwhile
        };
        let Some((name, cpu)) = stat_cpu(&stat) else { continue };
        let switches = status
            .lines()
            .filter(|l| l.starts_with("voluntary_ctxt_switches") || l.starts_with("nonvoluntary_ctxt_switches"))
            .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
            .sum();
        threads.insert(task.file_name().to_string_lossy().into_owned(), (name, cpu, switches));
    }
    Snapshot { process_cpu, threads }
}

/// From `before` to `after`, per login of `n`.
fn per_login(before: &Snapshot, after: &Snapshot, n: f64) -> Usage {
    let mut usage = Usage::default();
    let mut hash = 0.0;
    for (tid, (name, cpu, switches)) in &after.threads {
        let (cpu0, switches0) = before.threads.get(tid).map_or((0.0, 0), |t| (t.1, t.2));
        if name.starts_with("argon2-") {
            hash += cpu - cpu0;
        }
        // Names without their numbers: the argon2 threads, the SQLite workers, tokio's.
        let group = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-').to_owned();
        *usage.switches.entry(group).or_default() += switches.saturating_sub(switches0) as f64 / n;
    }
    usage.hash_cpu = hash / n;
    usage.other_cpu = (after.process_cpu - before.process_cpu - hash) / n;
    usage
}

/// Logins per second for `MEASURE`, `clients` of them in a closed loop: enough to keep every
/// hashing thread busy without overflowing the queue. Also what they cost per login (see
/// [`Usage`]).
async fn login_rate(http: &reqwest::Client, url: &str, clients: usize) -> (f64, Usage) {
    let before = snapshot();
    let ok = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, url, ok) = (http.clone(), url.to_owned(), ok.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = c;
            while started.elapsed() < MEASURE {
                let (_, body) = post(&http, &url, &login_body(i)).await;
                if outcome(&body) == "ok" {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
                i += clients;
            }
        }));
    }
    for t in tasks {
        t.await.expect("a client");
    }
    let after = snapshot();
    let n = ok.load(Ordering::Relaxed).max(1) as f64;
    (ok.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64(), per_login(&before, &after, n))
}

fn main() {
    println!("cores: {}, argon2id m=19456 KiB t=2 p=1, 127.0.0.1, SQLite, bench (release) profile\n", cores());

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| {
            // Measure the auth subgraph's own shedding, not the router's per-IP bucket.
            c.router.rate_limit.per_ip = BucketConfig { capacity: 1e9, per_second: 1e9 };
            c.identity.registrations_per_ip_per_hour = 1_000_000;
        })
        .await;
        let http = reqwest::Client::new();
        let url = stack.router_url("/graphql");
        for i in 0..USERS {
            let register = json!({
                "query": "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }",
                "variables": { "i": { "email": format!("user{i}@example.com"), "username": format!("user{i}"), "password": PASSWORD } },
            });
            let (_, body) = post(&http, &url, &register).await;
            assert!(body["data"]["register"].is_object(), "registered: {body}");
        }

        let (_, idle) = {
            let stop = Arc::new(AtomicBool::new(false));
            let task = tokio::spawn(cheap_queries(http.clone(), url.clone(), stop.clone()));
            tokio::time::sleep(Duration::from_secs(2)).await;
            stop.store(true, Ordering::Relaxed);
            ((), task.await.expect("cheap queries"))
        };

        // Rounds alternate the raw rate and the logins, so a noisy neighbour on this shared
        // machine weighs on both sides of a ratio alike; the median ratio is the figure.
        let clients = 4 * cores();
        let mut ratios = Vec::new();
        let mut logins = 0.0;
        let mut costs = Vec::new();
        for round in 1..=ROUNDS {
            let raw = tokio::task::spawn_blocking(raw_argon2_rate).await.expect("raw rate");
            let cost;
            (logins, cost) = login_rate(&http, &url, clients).await;
            ratios.push(logins / raw);
            println!(
                "round {round}: raw argon2id {raw:>6.1} /s ({} threads), logins through the router {logins:>6.1} /s ({clients} clients), ratio {:.3}",
                cores(),
                logins / raw
            );
            let switches: f64 = cost.switches.values().sum();
            let by_thread: Vec<String> = cost.switches.iter().map(|(name, n)| format!("{name} {n:.0}")).collect();
            println!(
                "         per login: hashing threads {:.2} ms CPU, everything else {:.2} ms CPU; {switches:.0} context switches ({})",
                cost.hash_cpu * 1e3,
                cost.other_cpu * 1e3,
                by_thread.join(", ")
            );
            costs.push(cost);
        }
        ratios.sort_by(f64::total_cmp);
        let median = ratios[ratios.len() / 2];
        println!("median ratio of logins to raw argon2id  {median:.3}   (goal: at least 0.90)");
        let mut other: Vec<f64> = costs.iter().map(|c| c.other_cpu * 1e3).collect();
        other.sort_by(f64::total_cmp);
        let mut switches: Vec<f64> = costs.iter().map(|c| c.switches.values().sum()).collect();
        switches.sort_by(f64::total_cmp);
        println!(
            "median per login beside the hash: {:.2} ms CPU, {:.0} context switches\n",
            other[other.len() / 2],
            switches[switches.len() / 2]
        );

        // Open loop at 4x capacity: requests start on a schedule, whatever the answers do.
        let rate = 4.0 * logins;
        let stop = Arc::new(AtomicBool::new(false));
        let cheap = tokio::spawn(cheap_queries(http.clone(), url.clone(), stop.clone()));
        let interval = Duration::from_secs_f64(1.0 / rate);
        let started = Instant::now();
        let mut sent = Vec::new();
        let mut n = 0;
        while started.elapsed() < FLOOD {
            let (http, url) = (http.clone(), url.clone());
            sent.push(tokio::spawn(async move {
                let (took, body) = post(&http, &url, &login_body(n)).await;
                (took, outcome(&body).to_owned())
            }));
            n += 1;
            let next = interval.mul_f64(n as f64);
            tokio::time::sleep(next.saturating_sub(started.elapsed())).await;
        }
        let mut by_outcome: std::collections::BTreeMap<String, Vec<Duration>> = Default::default();
        for t in sent {
            let (took, outcome) = t.await.expect("a login");
            by_outcome.entry(outcome).or_default().push(took);
        }
        stop.store(true, Ordering::Relaxed);
        let busy = cheap.await.expect("cheap queries");
        println!("flood: {n} logins in {:.1} s at {rate:.0}/s (4x capacity)", FLOOD.as_secs_f64());
        for (outcome, mut latencies) in by_outcome {
            latencies.sort();
            println!(
                "  {outcome:<16} {:>6}   p50 {:>8.1} ms   p99 {:>8.1} ms",
                latencies.len(),
                percentile(&latencies, 50),
                percentile(&latencies, 99)
            );
        }
        println!(
            "cheap query {{ signedIn }}: idle p50 {:.2} ms p99 {:.2} ms; under the flood p50 {:.2} ms p99 {:.2} ms ({} queries, ratio p99 {:.1}x)",
            percentile(&idle, 50),
            percentile(&idle, 99),
            percentile(&busy, 50),
            percentile(&busy, 99),
            busy.len(),
            percentile(&busy, 99) / percentile(&idle, 99).max(0.001),
        );
        stack.stop();
    });
}
