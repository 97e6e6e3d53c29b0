//! The response tree the executor builds from subgraph answers, and projection reads.
//!
//! Not `serde_json::Value`, for what the profile showed (docs/performance.md): with
//! `preserve_order` (which a dependency turns on for the whole build) every object is an
//! `IndexMap` hashing each key with SipHash on insert and lookup, and every string is its own
//! allocation. GraphQL objects are small and their keys short, so here:
//! - an object is a vector of pairs, searched linearly (a few key comparisons beat a hash),
//!   with a temporary index only when merging into a large one;
//! - keys and strings are [`CompactString`]s: up to 24 bytes inline, no allocation, so cloning
//!   an entity into every place that shares it is mostly a copy.
//!
//! It is parsed straight from a subgraph's bytes (its own `Deserialize`), and converts to and
//! from `serde_json::Value` at the edges (subscription events in, the client's response out).

mod read;

use compact_str::CompactString;
use serde::{
    Serialize, Serializer,
    ser::{SerializeMap, SerializeSeq},
};
use serde_json::{Number, Value};

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Data {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(CompactString),
    List(Vec<Data>),
    Object(Object),
}

/// An object's fields in the order they arrived. Lookups find a key's first value (see
/// `read.rs`'s `visit_map` for duplicate keys in a subgraph's JSON).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object(Vec<(CompactString, Data)>);

impl Object {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    pub fn get(&self, key: &str) -> Option<&Data> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Data> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn reserve(&mut self, more: usize) {
        self.0.reserve(more);
    }

    /// `key`'s place among the fields, and its value.
    pub fn find(&self, key: &str) -> Option<(usize, &Data)> {
        self.0.iter().enumerate().find(|(_, (k, _))| k == key).map(|(i, (_, v))| (i, v))
    }

    /// The value of the field at `place` (from [`Object::find`]).
    pub fn at_mut(&mut self, place: usize) -> Option<&mut Data> {
        self.0.get_mut(place).map(|(_, v)| v)
    }

    /// Sets `key` to `value`, replacing an existing value in place.
    pub fn insert(&mut self, key: impl Into<CompactString> + AsRef<str>, value: Data) {
        match self.get_mut(key.as_ref()) {
            Some(slot) => *slot = value,
            None => self.0.push((key.into(), value)),
        }
    }

    /// Appends without looking for an existing `key`: for callers that know it is new.
    pub fn push_new(&mut self, key: CompactString, value: Data) {
        self.0.push((key, value));
    }

    pub fn remove(&mut self, key: &str) -> Option<Data> {
        let i = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(i).1)
    }

    /// The slot for `key`, added as null when missing.
    pub fn entry(&mut self, key: &str) -> &mut Data {
        let i = match self.0.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                self.0.push((key.into(), Data::Null));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }

    pub fn iter(&self) -> impl Iterator<Item = (&CompactString, &Data)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn pairs_mut(&mut self) -> &mut Vec<(CompactString, Data)> {
        &mut self.0
    }

    pub(crate) fn into_pairs(self) -> Vec<(CompactString, Data)> {
        self.0
    }
}

impl Data {
    pub fn object() -> Self {
        Data::Object(Object::new())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Data::Null)
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Data::Object(_))
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Data::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Object> {
        match self {
            Data::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Data::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Data::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The field `key` of an object; None for anything else.
    pub fn get(&self, key: &str) -> Option<&Data> {
        self.as_object()?.get(key)
    }

    pub fn take(&mut self) -> Data {
        std::mem::take(self)
    }

    /// This value as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a response tree always serializes")
    }
}

impl From<Value> for Data {
    fn from(value: Value) -> Self {
        match value {
            Value::Null => Data::Null,
            Value::Bool(b) => Data::Bool(b),
            Value::Number(n) => Data::Number(n),
            Value::String(s) => Data::String(s.into()),
            Value::Array(items) => Data::List(items.into_iter().map(Data::from).collect()),
            Value::Object(map) => Data::Object(Object(map.into_iter().map(|(k, v)| (k.into(), v.into())).collect())),
        }
    }
}

impl From<&Data> for Value {
    fn from(data: &Data) -> Self {
        match data {
            Data::Null => Value::Null,
            Data::Bool(b) => Value::Bool(*b),
            Data::Number(n) => Value::Number(n.clone()),
            Data::String(s) => Value::String(s.to_string()),
            Data::List(items) => Value::Array(items.iter().map(Value::from).collect()),
            Data::Object(o) => Value::Object(o.0.iter().map(|(k, v)| (k.to_string(), Value::from(v))).collect()),
        }
    }
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Data::Null => serializer.serialize_unit(),
            Data::Bool(b) => serializer.serialize_bool(*b),
            Data::Number(n) => n.serialize(serializer),
            Data::String(s) => serializer.serialize_str(s),
            Data::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Data::Object(o) => o.serialize(serializer),
        }
    }
}

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k.as_str(), v)?;
        }
        map.end()
    }
}

/// The deepest nesting of lists and objects read into a tree. Reading recurses once per level,
/// on a tokio worker's stack: a subgraph answer nested thousands deep must be an error, not a
/// crashed process. serde_json stops at 128 levels by itself, sonic-rs (which reads subgraph
/// answers) only at 255, so the tree sets its own bound, the same whatever the reader.
pub const MAX_DEPTH: usize = 128;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subgraph_answer_parses_and_serializes_back_to_the_same_json() {
        let text = r#"{"a":1,"b":[true,null,"x",-2,1.5],"c":{"long string beyond inline size":"é ✓ \"quoted\""}}"#;
        let data: Data = serde_json::from_str(text).unwrap();
        assert_eq!(data.to_json(), text);
        assert_eq!(Value::from(&data), serde_json::from_str::<Value>(text).unwrap());
        assert_eq!(Data::from(serde_json::from_str::<Value>(text).unwrap()), data);
    }

    #[test]
    fn nested_objects_and_lists_are_read_whole_each_allocated_at_its_exact_size() {
        let text = r#"{"m":[{"a":[1,{"b":[2,3,4,5,6]},7],"c":5,"d":{"e":[],"f":[[8],[9,10]]}},{"g":[]},6,7,8],"z":{"y":1,"x":2,"w":3,"v":4,"u":5}}"#;
        let data: Data = serde_json::from_str(text).unwrap();
        assert_eq!(data.to_json(), text, "every value where it was, none lost to another level");
        fn exact(value: &Data) -> bool {
            match value {
                Data::List(items) => items.capacity() == items.len() && items.iter().all(exact),
                Data::Object(o) => o.0.capacity() == o.0.len() && o.0.iter().all(|(_, v)| exact(v)),
                _ => true,
            }
        }
        assert!(exact(&data), "no spare capacity from growing by doubling");
    }

    #[test]
    fn a_duplicate_key_is_read_as_its_first_value() {
        let data: Data = serde_json::from_str(r#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(data.get("a"), Some(&Data::Number(1.into())));
    }

    #[test]
    fn object_lookups_find_fields_and_entry_adds_missing_ones() {
        let mut o = Object::new();
        o.insert("id", Data::String("1".into()));
        *o.entry("name") = Data::String("Ada".into());
        assert_eq!(o.get("id").and_then(Data::as_str), Some("1"));
        assert_eq!(o.remove("id"), Some(Data::String("1".into())));
        assert_eq!(Data::Object(o).to_json(), r#"{"name":"Ada"}"#);
    }
}
