//! Reading JSON into the tree: one pass, each object and list allocated once at its exact
//! size, nesting bounded whatever the reader (serde_json, or sonic-rs for subgraph answers).

use std::fmt;

use compact_str::CompactString;
use serde::{
    Deserialize, Deserializer,
    de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor},
};
use serde_json::Number;

use super::{Data, MAX_DEPTH, Object};

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        DataSeed { depth: 0, scratch: &mut Scratch::default() }.deserialize(deserializer)
    }
}

/// Where one parse gathers the fields and items of the objects and lists it is inside, so that
/// each is allocated once, at its exact size, when it ends. Pushing into its own vector instead
/// grew it through 4, 8, 16 … entries, a reallocation and a copy each time: about a tenth of
/// the router's allocator time on the gateway benchmark, and memory held by spare capacity.
#[derive(Default)]
struct Scratch {
    fields: Vec<(CompactString, Data)>,
    items: Vec<Data>,
}

/// Reads one value `depth` levels down.
struct DataSeed<'s> {
    depth: usize,
    scratch: &'s mut Scratch,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = Data;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Data, D::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom("the answer is nested too deeply"));
        }
        deserializer.deserialize_any(DataVisitor { depth: self.depth, scratch: self.scratch })
    }
}

struct DataVisitor<'s> {
    depth: usize,
    scratch: &'s mut Scratch,
}

impl<'de> Visitor<'de> for DataVisitor<'_> {
    type Value = Data;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_none<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Data, E> {
        Ok(Data::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Data, E> {
        Ok(Data::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Data, E> {
        Ok(Data::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Data, E> {
        Ok(Number::from_f64(n).map_or(Data::Null, Data::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Data, E> {
        Ok(Data::String(s.into()))
    }

    fn visit_string<E>(self, s: String) -> Result<Data, E> {
        Ok(Data::String(s.into()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        let base = self.scratch.items.len();
        while let Some(item) = seq.next_element_seed(DataSeed { depth: self.depth + 1, scratch: &mut *self.scratch })? {
            self.scratch.items.push(item);
        }
        // The items nested lists pushed were taken back when those lists ended: ours are
        // the last ones.
        Ok(Data::List(self.scratch.items.drain(base..).collect()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let base = self.scratch.fields.len();
        while let Some(key) = map.next_key::<Key>()? {
            let value = map.next_value_seed(DataSeed { depth: self.depth + 1, scratch: &mut *self.scratch })?;
            // No search for a duplicate key (legal JSON, which no GraphQL server sends): it
            // would make every parse quadratic in the object's width. Lookups find the first
            // value; projection writes each key the client asked for once.
            self.scratch.fields.push((key.0, value));
        }
        Ok(Data::Object(Object(self.scratch.fields.drain(base..).collect())))
    }
}

/// An object key, read without an intermediate `String`.
struct Key(CompactString);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E>(self, s: &str) -> Result<Key, E> {
                Ok(Key(s.into()))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}
