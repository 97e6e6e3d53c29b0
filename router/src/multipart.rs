//! Subscriptions over multipart HTTP, as Apollo Client sends them
//! (`Accept: multipart/mixed;subscriptionSpec="1.0"`). The same subscription task as for
//! websockets runs; each event becomes one part of a streamed response, with an empty `{}` part
//! every few seconds as a heartbeat so proxies keep the connection open. A client that goes away
//! drops the stream, which ends the task and releases its upstream subscription.

use std::{sync::Arc, time::Duration};

use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::{
    RouterState,
    ws::{Out, subscription},
};

const HEARTBEAT: Duration = Duration::from_secs(5);
const CONTENT_TYPE: &str = r#"multipart/mixed;boundary="graphql";subscriptionSpec="1.0""#;

pub(crate) fn accepts(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).any(|v| v.contains("multipart/mixed"))
}

fn part(value: &Value) -> Bytes {
    Bytes::from(format!("\r\n--graphql\r\ncontent-type: application/json; charset=utf-8\r\n\r\n{value}"))
}

pub(crate) fn respond(state: Arc<RouterState>, request: subscription::Request) -> Response {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(subscription::run(state, request, tx));
    struct Parts {
        rx: mpsc::Receiver<Out>,
        beat: tokio::time::Interval,
        done: bool,
    }
    let parts =
        Parts { rx, beat: tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT), done: false };
    let stream = futures::stream::unfold(parts, |mut p| async move {
        if p.done {
            return None;
        }
        loop {
            tokio::select! {
                out = p.rx.recv() => match out {
                    // The end of the stream says "complete"; no part for it.
                    Some(Out::Message(msg)) if msg.get("type").is_some_and(|t| t == "complete") => continue,
                    Some(Out::Message(msg)) => return Some((Ok::<_, std::convert::Infallible>(part(&msg)), p)),
                    Some(Out::Done(_)) | None => {
                        p.done = true;
                        return Some((Ok(Bytes::from_static(b"\r\n--graphql--\r\n")), p));
                    }
                },
                _ = p.beat.tick() => return Some((Ok(part(&json!({}))), p)),
            }
        }
    });
    ([(header::CONTENT_TYPE, CONTENT_TYPE), (header::CACHE_CONTROL, "no-cache")], Body::from_stream(stream))
        .into_response()
}
