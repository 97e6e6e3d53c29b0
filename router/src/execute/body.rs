//! Reading a subgraph's GraphQL response body into the response tree.

use serde::Deserialize;
use serde_json::Value;

use crate::data::Data;

/// A GraphQL response as a subgraph sends it, read straight into the response tree's type.
#[derive(Deserialize)]
pub(super) struct Body {
    #[serde(default, deserialize_with = "present")]
    pub data: Option<Data>,
    #[serde(default)]
    pub errors: Option<Vec<Value>>,
}

/// Reads a subgraph's answer. sonic-rs rather than serde_json: parsing answers was about a tenth
/// of the router's CPU on the gateway benchmark (docs/performance.md). Like serde_json it refuses
/// invalid UTF-8 and trailing text; nesting is bounded by the tree ([`crate::data::MAX_DEPTH`]).
pub(super) fn read_body(raw: &[u8]) -> Option<Body> {
    sonic_rs::from_slice(raw).ok()
}

/// `Some` whenever the member is there, null included (`Option`'s own reading maps null to None).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Data>, D::Error> {
    Data::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_reads_into_the_same_tree_as_serde_json_would_read_it() {
        let text = r#"{"data":{"s":"tab\there \"quoted\" \u00e9 \ud83d\ude00 é","n":[0,-1,18446744073709551615,-9223372036854775808,0.1,1.5e300,-2.5E-3],"b":[true,false,null],"o":{"deep":[[{"x":{}}],[]]}},"errors":[{"message":"m","path":["a",1]}]}"#;
        let body = read_body(text.as_bytes()).expect("reads");
        let expected: Value = serde_json::from_str(text).unwrap();
        assert_eq!(Value::from(&body.data.expect("data")), expected["data"]);
        assert_eq!(Value::Array(body.errors.expect("errors")), expected["errors"]);
    }

    #[test]
    fn null_data_is_present_and_missing_data_is_absent() {
        assert_eq!(read_body(br#"{"data":null}"#).expect("reads").data, Some(Data::Null));
        let body = read_body(br#"{"errors":[{"message":"no"}]}"#).expect("reads");
        assert!(body.data.is_none());
    }

    #[test]
    fn a_malformed_answer_is_refused_and_never_overflows_the_stack() {
        let nested = |n: usize| format!("{{\"data\":{}{}}}", "[".repeat(n), "]".repeat(n));
        assert!(read_body(nested(crate::data::MAX_DEPTH).as_bytes()).is_some(), "nesting up to the limit");
        assert!(read_body(nested(crate::data::MAX_DEPTH + 1).as_bytes()).is_none(), "nesting past the limit");
        assert!(read_body(nested(100_000).as_bytes()).is_none(), "nesting far past it");
        assert!(read_body(b"{\"data\":{\"s\":\"\xff\"}}").is_none(), "invalid UTF-8");
        assert!(read_body(br#"{"data":{}} trailing"#).is_none(), "text after the answer");
        assert!(read_body(br#"{"data":{"a":1,}}"#).is_none(), "a trailing comma");
        assert!(read_body(b"").is_none(), "an empty body");
    }
}
