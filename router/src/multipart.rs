//! Subscriptions over multipart HTTP, as Apollo Client sends them
//! (`Accept: multipart/mixed;subscriptionSpec="1.0"`). The subscription core's events become
//! parts of one streamed response. This module only frames.
//!
//! Framing follows the incremental-delivery and Apollo multipart specs: the body opens with a
//! delimiter, and each part is written *followed by* its delimiter. A client's parser yields a
//! part once it sees the delimiter after it, so writing the delimiter with the part delivers it
//! at once (rather than when the next event or heartbeat arrives). The close delimiter
//! (`--graphql--`) ends the response. An empty `{}` part every few seconds is a heartbeat that
//! keeps proxies from closing an idle connection. A client that goes away drops the stream,
//! which drops the core's receiver and so releases the upstream subscription.

use std::time::Duration;

use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::subscription::Event;

const HEARTBEAT: Duration = Duration::from_secs(5);
const CONTENT_TYPE: &str = r#"multipart/mixed;boundary="graphql";subscriptionSpec="1.0""#;
/// What opens the body: the first delimiter.
const OPENING: &[u8] = b"\r\n--graphql";
/// What ends it, written after the last part's delimiter.
const CLOSING: &[u8] = b"--\r\n";

pub(crate) fn accepts(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).any(|v| v.contains("multipart/mixed"))
}

/// One part, followed by the delimiter that completes it.
fn part(value: &Value) -> Bytes {
    Bytes::from(format!("\r\ncontent-type: application/json; charset=utf-8\r\n\r\n{value}\r\n--graphql"))
}

/// [`part`] for `{"payload": <json>}`, with the payload's JSON text as it is (serialized once per
/// event, however many clients receive it).
fn payload_part(json: &[u8]) -> Bytes {
    let head = b"\r\ncontent-type: application/json; charset=utf-8\r\n\r\n{\"payload\":";
    let tail = b"}\r\n--graphql";
    let mut out = Vec::with_capacity(head.len() + json.len() + tail.len());
    out.extend_from_slice(head);
    out.extend_from_slice(json);
    out.extend_from_slice(tail);
    out.into()
}

/// The part for one event: `{payload}` for a result, `{payload: null, errors}` for a fatal
/// error (Apollo's multipart protocol); None for completion, which the close delimiter says.
fn event_part(event: Event) -> Option<Bytes> {
    match event {
        Event::Next(payload) => Some(payload_part(&payload)),
        Event::Error(errors) => Some(part(&json!({ "payload": null, "errors": errors }))),
        Event::Complete => None,
    }
}

/// A deferred query's payloads (`crate::defer`) as one multipart response: no heartbeat (the
/// incremental clients would read an empty part as a payload), closed after the last.
pub(crate) fn payloads(content_type: &'static str, payloads: mpsc::Receiver<Value>) -> Response {
    let opening = futures::stream::once(async { Bytes::from_static(OPENING) });
    let parts = tokio_stream_of(payloads).map(|payload| part(&payload));
    let closing = futures::stream::once(async { Bytes::from_static(CLOSING) });
    let stream = opening.chain(parts).chain(closing).map(Ok::<_, std::convert::Infallible>);
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], Body::from_stream(stream))
        .into_response()
}

fn tokio_stream_of<T: Send + 'static>(mut rx: mpsc::Receiver<T>) -> impl futures::Stream<Item = T> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

pub(crate) fn respond(events: mpsc::Receiver<Event>) -> Response {
    enum Stage {
        Opening,
        Streaming,
        Done,
    }
    struct Parts {
        events: mpsc::Receiver<Event>,
        beat: tokio::time::Interval,
        stage: Stage,
    }
    let parts = Parts {
        events,
        beat: tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT),
        stage: Stage::Opening,
    };
    let stream = futures::stream::unfold(parts, |mut p| async move {
        let ok = Ok::<_, std::convert::Infallible>;
        match p.stage {
            Stage::Done => return None,
            Stage::Opening => {
                p.stage = Stage::Streaming;
                return Some((ok(Bytes::from_static(OPENING)), p));
            }
            Stage::Streaming => {}
        }
        tokio::select! {
            event = p.events.recv() => match event.map(event_part) {
                Some(Some(bytes)) => Some((ok(bytes), p)),
                Some(None) | None => {
                    p.stage = Stage::Done;
                    Some((ok(Bytes::from_static(CLOSING)), p))
                }
            },
            _ = p.beat.tick() => Some((ok(part(&json!({}))), p)),
        }
    });
    ([(header::CONTENT_TYPE, CONTENT_TYPE), (header::CACHE_CONTROL, "no-cache")], Body::from_stream(stream))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_carries_the_delimiter_that_completes_it() {
        let bytes = event_part(Event::Next(Bytes::from_static(br#"{"data":{"x":1}}"#))).expect("a part");
        let text = std::str::from_utf8(&bytes).expect("UTF-8");
        assert!(text.ends_with("{\"payload\":{\"data\":{\"x\":1}}}\r\n--graphql"), "{text:?}");
        assert!(event_part(Event::Complete).is_none(), "completion is the close delimiter");
    }
}
