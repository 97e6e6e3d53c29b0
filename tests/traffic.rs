//! How the router treats subgraphs: replicas with failover, circuit breakers, and sharing one
//! request among identical queries in flight.

use tessera::SUBGRAPHS;
use tessera_auth::KeyRing;
use tessera_testkit::{TestStack, claims_for, graphql, spawn_configured, spawn_stack, test_bus};
use uuid::Uuid;

async fn token(stack: &TestStack) -> String {
    KeyRing::open(&stack.subgraph("auth").rt).await.expect("keys").sign(&claims_for(Uuid::now_v7(), &["customer"]))
}

fn dead_url() -> url::Url {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("binds").local_addr().expect("bound").port();
    url::Url::parse(&format!("http://127.0.0.1:{port}/")).expect("a URL")
}

#[tokio::test]
async fn a_dead_replica_is_skipped_and_every_query_still_succeeds() {
    let dead = dead_url();
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, move |c| {
        c.router.traffic.replicas.insert("users".into(), vec![dead]);
        c.router.traffic.breaker_failures = 1;
    })
    .await;
    let token = token(&stack).await;
    for _ in 0..6 {
        let (status, body) = graphql(&stack.router_url("/graphql"), "{ me { id displayName } }", Some(&token)).await;
        assert_eq!(status, 200);
        assert!(body.get("errors").is_none(), "failover hides the dead replica: {body}");
    }
}

#[tokio::test]
async fn a_subgraph_that_keeps_failing_is_cut_off_by_its_breaker() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| {
        c.router.traffic.retries = 0;
        c.router.traffic.breaker_failures = 2;
        c.router.traffic.breaker_open_ms = 60_000;
    })
    .await;
    let token = token(&stack).await;
    stack.subgraph("users").stop();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut messages = Vec::new();
    for _ in 0..3 {
        let (_, body) = graphql(&stack.router_url("/graphql"), "{ signedIn me { id } }", Some(&token)).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "SUBGRAPH_UNAVAILABLE", "{body}");
        messages.push(body["errors"][0]["message"].as_str().expect("a message").to_owned());
    }
    assert!(
        messages[0].contains("could not be reached") && messages[1].contains("could not be reached"),
        "{messages:?}"
    );
    assert!(messages[2].contains("temporarily disabled"), "the third is cut off without trying: {messages:?}");
}

#[tokio::test]
async fn identical_queries_in_flight_share_one_subgraph_request() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let auth = stack.subgraph("auth");
    let before = auth.request_count();
    let url = stack.router_url("/graphql");
    let answers = futures::future::join_all((0..50).map(|_| graphql(&url, "{ signedIn }", None))).await;
    assert!(answers.iter().all(|(status, body)| *status == 200 && body["data"]["signedIn"] == false));
    let sent = auth.request_count() - before;
    assert!(sent < 50, "50 identical queries at once caused {sent} subgraph requests");
}

#[tokio::test]
async fn identical_anonymous_queries_in_flight_share_one_execution_and_signed_in_callers_do_not() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let url = stack.router_url("/graphql");
    let shared = || async {
        let text = reqwest::get(stack.router_url("/metrics")).await.expect("answers").text().await.expect("text");
        text.lines()
            .find_map(|l| l.strip_prefix("tessera_router_inbound_dedup_shared_total ")?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let answers = futures::future::join_all((0..50).map(|_| graphql(&url, "{ signedIn }", None))).await;
    assert!(answers.iter().all(|(status, body)| *status == 200 && body["data"]["signedIn"] == false));
    let anonymous = shared().await;
    assert!(anonymous > 0, "50 identical anonymous queries at once shared no execution");

    // Each signed-in caller runs their own, by default: nobody is answered with another's data.
    let mut tokens = Vec::new();
    for _ in 0..20 {
        tokens.push(token(&stack).await);
    }
    let answers = futures::future::join_all(tokens.iter().map(|t| graphql(&url, "{ signedIn }", Some(t)))).await;
    assert!(answers.iter().all(|(status, body)| *status == 200 && body["data"]["signedIn"] == true), "{answers:?}");
    assert_eq!(shared().await, anonymous, "signed-in requests never shared");
}

/// A server that reads each request, then sends an answer's headers and its first byte, and
/// never the rest: a subgraph stalled mid-answer. Returns its URL and how many requests it got.
async fn stalled_mid_answer() -> (url::Url, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let url = url::Url::parse(&format!("http://{}/graphql", listener.local_addr().expect("bound"))).expect("a URL");
    let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut buf = vec![0; 64 * 1024];
                if socket.read(&mut buf).await.unwrap_or(0) == 0 {
                    return;
                }
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{";
                let _ = socket.write_all(head.as_bytes()).await;
                // Held open, never finished, until the router gives up on it.
                let _ = socket.read(&mut buf).await;
            });
        }
    });
    (url, requests)
}

#[tokio::test]
async fn a_replica_that_stalls_mid_answer_is_cut_off_at_the_subgraph_timeout_and_the_query_fails_over() {
    let (stalled, requests) = stalled_mid_answer().await;
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, move |c| {
        c.router.traffic.replicas.insert("users".into(), vec![stalled]);
        c.router.traffic.timeouts_ms.insert("users".into(), 300);
        c.router.traffic.breaker_failures = 100;
    })
    .await;
    let token = token(&stack).await;
    // A guard against hanging for good if the deadline did not cover the body; no time is asserted.
    let queries = async {
        for _ in 0..4 {
            let (status, body) =
                graphql(&stack.router_url("/graphql"), "{ me { id displayName } }", Some(&token)).await;
            assert_eq!(status, 200);
            assert!(body.get("errors").is_none(), "the retry goes to the healthy replica: {body}");
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), queries).await.expect("every query was answered");
    assert!(requests.load(std::sync::atomic::Ordering::SeqCst) >= 1, "the stalled replica was tried");
}

#[tokio::test]
async fn a_subgraph_that_stalls_mid_answer_without_retries_is_reported_as_timed_out() {
    let (stalled, requests) = stalled_mid_answer().await;
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, move |c| {
        c.router.traffic.replicas.insert("users".into(), vec![stalled]);
        c.router.traffic.timeouts_ms.insert("users".into(), 300);
        c.router.traffic.retries = 0;
        c.router.traffic.breaker_failures = 100;
    })
    .await;
    let token = token(&stack).await;
    let queries = async {
        let mut messages = Vec::new();
        for _ in 0..4 {
            let (_, body) = graphql(&stack.router_url("/graphql"), "{ me { id } }", Some(&token)).await;
            if let Some(error) = body["errors"].get(0) {
                assert_eq!(error["extensions"]["code"], "SUBGRAPH_UNAVAILABLE", "{body}");
                messages.push(error["message"].as_str().expect("a message").to_owned());
            }
        }
        messages
    };
    let messages =
        tokio::time::timeout(std::time::Duration::from_secs(60), queries).await.expect("every query was answered");
    assert_eq!(messages.len(), 2, "every other query went to the stalled replica: {messages:?}");
    assert!(messages.iter().all(|m| m.contains("timed out")), "{messages:?}");
    assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 2);
}

/// A users replica that answers `me` (an id of its own) after a pause, one connection per
/// request, and records the most requests it held at once.
async fn slow_replica() -> (url::Url, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let url = url::Url::parse(&format!("http://{}/graphql", listener.local_addr().expect("bound"))).expect("a URL");
    let (now, most) = (std::sync::Arc::new(AtomicUsize::new(0)), std::sync::Arc::new(AtomicUsize::new(0)));
    let seen = most.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (now, most) = (now.clone(), most.clone());
            tokio::spawn(async move {
                let mut buf = vec![0; 64 * 1024];
                if socket.read(&mut buf).await.unwrap_or(0) == 0 {
                    return;
                }
                most.fetch_max(now.fetch_add(1, SeqCst) + 1, SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
                now.fetch_sub(1, SeqCst);
                let body = r#"{"data":{"me":{"id":"0190a1b2-0000-7000-8000-000000000001"}}}"#;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(format!("{head}{body}").as_bytes()).await;
            });
        }
    });
    (url, seen)
}

/// Runs 8 signed-in `{ me { id } }` at once with `max_executions`; every other one goes to a
/// slow replica. Returns the most that replica held at once.
async fn most_at_once_at_a_slow_subgraph(max_executions: usize) -> usize {
    let (slow, most) = slow_replica().await;
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, move |c| {
        c.router.traffic.replicas.insert("users".into(), vec![slow]);
        c.router.traffic.max_executions = max_executions;
        // Identical queries would otherwise share one subgraph request.
        c.router.traffic.dedup = false;
    })
    .await;
    let token = token(&stack).await;
    let url = stack.router_url("/graphql");
    let answers = futures::future::join_all((0..8).map(|_| graphql(&url, "{ me { id } }", Some(&token)))).await;
    for (status, body) in &answers {
        assert_eq!(*status, 200);
        assert!(body.get("errors").is_none() && body["data"].get("me").is_some(), "{body}");
    }
    most.load(std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test]
async fn with_max_executions_queries_past_the_bound_wait_their_turn_and_are_all_answered() {
    assert_eq!(most_at_once_at_a_slow_subgraph(1).await, 1, "one execution at a time");
    assert!(most_at_once_at_a_slow_subgraph(0).await > 1, "without a bound they overlap");
}
