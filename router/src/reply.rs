//! A query's response, serialized once.
//!
//! The executor's tree (`crate::data`) is written straight to the bytes the client receives:
//! no `serde_json::Value` is built for an answer that only goes out over HTTP. Sharing it among
//! identical requests in flight (`crate::inflight`) is a reference count, not a copy.

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use crate::data::Data;

#[derive(Debug, Clone)]
pub struct Reply {
    /// `{"data": …, "errors": […]}` as JSON text (`errors` only when there are some).
    pub body: Bytes,
    pub has_errors: bool,
}

#[derive(Serialize)]
struct Body<'a, D: Serialize> {
    data: &'a D,
    #[serde(skip_serializing_if = "<[Value]>::is_empty")]
    errors: &'a [Value],
}

impl Reply {
    pub fn new(data: &Data, errors: &[Value]) -> Self {
        let body = serde_json::to_vec(&Body { data, errors }).expect("a response always serializes");
        Self { body: body.into(), has_errors: !errors.is_empty() }
    }

    /// The start of a body whose `data` is written next (`crate::project::Projector::write`),
    /// with room for `expected` bytes (at least 4 KiB, at most 4 MiB: past that it grows).
    pub fn open(expected: usize) -> Vec<u8> {
        let mut body = Vec::with_capacity(expected.clamp(4096, 4 << 20));
        body.extend_from_slice(br#"{"data":"#);
        body
    }

    /// Ends a body begun with [`Reply::open`]: the `errors`, if any, as [`Reply::new`] writes them.
    pub fn close(mut body: Vec<u8>, errors: &[Value]) -> Self {
        if !errors.is_empty() {
            body.extend_from_slice(br#","errors":"#);
            serde_json::to_writer(&mut body, errors).expect("a JSON value always serializes");
        }
        body.push(b'}');
        // The body keeps its buffer until it is sent: one sized after a much larger answer
        // must not be held at that size.
        if body.capacity() - body.len() > body.len().max(4096) {
            body.shrink_to_fit();
        }
        Self { body: body.into(), has_errors: !errors.is_empty() }
    }

    /// A response built elsewhere as a JSON value (a refusal, a cached answer).
    pub fn of_value(value: &Value) -> Self {
        let body = serde_json::to_vec(value).expect("a JSON value always serializes");
        Self { body: body.into(), has_errors: value.get("errors").is_some() }
    }

    pub fn to_value(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a reply is JSON")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_reply_without_errors_has_no_errors_member_and_round_trips() {
        let data = Data::from(json!({ "a": [1, "x"] }));
        let reply = Reply::new(&data, &[]);
        assert_eq!(&reply.body[..], br#"{"data":{"a":[1,"x"]}}"#);
        assert!(!reply.has_errors);
        let failed = Reply::new(&Data::Null, &[json!({ "message": "no" })]);
        assert_eq!(failed.to_value(), json!({ "data": null, "errors": [{ "message": "no" }] }));
        assert!(failed.has_errors);
    }
}
