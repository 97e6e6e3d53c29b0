//! Cache tags: which entities an answer holds, so a cache can drop exactly the answers that
//! hold an entity when it changes.
//!
//! A resolver that returns an entity calls [`tag`]; the kit's GraphQL handler sends the tags of
//! the whole answer in one `Cache-Tag` header (comma-separated, as CDNs read it). An event about
//! an entity lists the entity's key in `payload.entities` (`[{"__typename": "Product", "id": …}]`)
//! and [`event_tags`] turns it into the same tags. The router unions the tags of every subgraph
//! answer behind a cached response and drops the response when an event names one of them.

use std::sync::Mutex;

use async_graphql::Context;
use serde_json::Value;

/// The response header.
pub const HEADER: &str = "cache-tag";
/// Most tags one answer sends; past it the answer says `*`, which a cache takes as "do not
/// cache by tag" (a page of 100 products plus its references stays well below).
pub const MAX_TAGS: usize = 500;

/// The tags of one request's answer, collected while it resolves.
#[derive(Debug, Default)]
pub struct CacheTags(Mutex<Vec<String>>);

impl CacheTags {
    fn push(&self, tag: String) {
        let mut tags = self.0.lock().expect("cache tags lock poisoned");
        if tags.len() <= MAX_TAGS && !tags.contains(&tag) {
            tags.push(tag);
        }
    }

    /// The header value, or None when nothing was tagged.
    pub fn header(&self) -> Option<String> {
        let tags = self.0.lock().expect("cache tags lock poisoned");
        match tags.len() {
            0 => None,
            n if n > MAX_TAGS => Some("*".into()),
            _ => Some(tags.join(",")),
        }
    }
}

/// The tag of an entity: its type and its key's value (`Product:0193…`).
pub fn entity_tag(typename: &str, id: impl std::fmt::Display) -> String {
    format!("{typename}:{id}")
}

/// Records that the current answer holds this entity.
pub fn tag(ctx: &Context<'_>, typename: &str, id: impl std::fmt::Display) {
    if let Some(tags) = ctx.data_opt::<std::sync::Arc<CacheTags>>() {
        tags.push(entity_tag(typename, id));
    }
}

/// The tags of the entities an event is about (its payload's `entities`), for entities keyed
/// by `id`.
pub fn event_tags(payload: &Value) -> Vec<String> {
    let Some(entities) = payload.get("entities").and_then(Value::as_array) else {
        return Vec::new();
    };
    entities
        .iter()
        .filter_map(|e| {
            let typename = e.get("__typename")?.as_str()?;
            let id = match e.get("id")? {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some(entity_tag(typename, id))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_events_entities_become_the_tags_an_answer_holding_them_sent() {
        let tags = CacheTags::default();
        tags.push(entity_tag("Product", "a1"));
        tags.push(entity_tag("Product", "a1"));
        tags.push(entity_tag("Product", "b2"));
        assert_eq!(tags.header().as_deref(), Some("Product:a1,Product:b2"));
        let payload = json!({ "entities": [{ "__typename": "Product", "id": "a1" }, { "id": "no type" }] });
        assert_eq!(event_tags(&payload), ["Product:a1"]);
        assert!(event_tags(&json!({ "productId": "a1" })).is_empty());
    }

    #[test]
    fn too_many_tags_say_so_instead_of_growing_the_header() {
        let tags = CacheTags::default();
        for i in 0..=MAX_TAGS {
            tags.push(entity_tag("Product", i));
        }
        assert_eq!(tags.header().as_deref(), Some("*"));
    }
}
