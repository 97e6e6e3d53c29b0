//! Projection written straight into the response's JSON text.
//!
//! [`Projector::project`] builds a second tree, which `crate::reply` then serializes and drops:
//! an allocation per object and list, a copy of every leaf, and a third walk. For an answer
//! going out over HTTP the writer walks the merged tree once, in the same order with the same
//! checks, and appends to the response body. The output is byte for byte what serializing
//! `project`'s tree gives (`tests` below, and the federation corpus).
//!
//! Null propagation needs no tree: a non-null position that comes out null makes its nearest
//! nullable parent null, and that parent's text is always the last thing written. So each
//! nullable object or list remembers where its text began, and on a [`Bubble`] the body is cut
//! back there and `null` written instead. Errors are recorded in the same order as `project`.
//!
//! One case keeps the tree: a selection set that can select the same response key twice
//! (through inline fragments), whose values `project` merges into the first one's place. The
//! writer cannot go back to add fields to an object it already closed, so such an object is
//! projected as a tree and serialized, as before. Whether a set can do it is worked out once per
//! set and call.

use hive_router_query_planner::{
    ast::{selection_item::SelectionItem, selection_set::SelectionSet},
    state::supergraph_state::TypeNode,
};

use super::{Bubble, Emit, FieldType, Leaf, Projector, Seg};
use crate::data::{Data, Object};

/// `serde_json` writing into a `Vec` cannot fail: only the writer's I/O could.
fn json(out: &mut Vec<u8>, value: &(impl serde::Serialize + ?Sized)) {
    serde_json::to_writer(out, value).expect("writing JSON into memory cannot fail");
}

const NULL: &[u8] = b"null";

impl Projector<'_> {
    /// [`Projector::project`]'s `data`, appended to `out` as JSON text. For a projection that
    /// traces no deferred fragment (the trace is only filled by [`Projector::traced`]).
    pub fn write(&mut self, root_type: &str, selections: &SelectionSet, data: &Data, out: &mut Vec<u8>) {
        // Keyed by the addresses of this call's selection sets (see `project`).
        self.field_types.clear();
        self.unique_keys.clear();
        let empty = Object::new();
        let root = data.as_object().unwrap_or(&empty);
        let mark = out.len();
        if self.write_object(root_type, selections, root, &mut Vec::new(), out).is_err() {
            out.truncate(mark);
            out.extend_from_slice(NULL);
        }
    }

    fn write_object<'s>(
        &mut self,
        type_name: &str,
        selections: &'s SelectionSet,
        value: &Object,
        path: &mut Vec<Seg<'s>>,
        out: &mut Vec<u8>,
    ) -> Result<(), Bubble> {
        if !self.keys_unique(selections) {
            let object = self.object(type_name, selections, value, path)?;
            json(out, &object);
            return Ok(());
        }
        out.push(b'{');
        let mut first = true;
        self.write_selections(type_name, selections, value, path, out, &mut first)?;
        out.push(b'}');
        Ok(())
    }

    /// `selections_into`, writing each field as `"key":value` after a comma unless `first`.
    fn write_selections<'s>(
        &mut self,
        type_name: &str,
        selections: &'s SelectionSet,
        value: &Object,
        path: &mut Vec<Seg<'s>>,
        out: &mut Vec<u8>,
        first: &mut bool,
    ) -> Result<(), Bubble> {
        let runtime = value.get("__typename").and_then(Data::as_str).unwrap_or(type_name);
        let types = self.field_types(selections, runtime, type_name);
        for (item, field_type) in selections.items.iter().zip(types.iter()) {
            match item {
                SelectionItem::Field(f) => {
                    let (key, FieldType { ty, enum_values }) = match self.emit(f, *field_type) {
                        None => continue,
                        Some(Emit::Typename(key)) => {
                            write_key(out, key, first);
                            json(out, runtime);
                            continue;
                        }
                        Some(Emit::Value(key, field_type)) => (key, field_type),
                    };
                    write_key(out, key, first);
                    path.push(Seg::Key(key));
                    let leaf = Leaf { field: (runtime, &f.name), enum_values };
                    let written = self.write_value(ty, &f.selections, value.get(key), path, leaf, out);
                    path.pop();
                    written?;
                }
                SelectionItem::InlineFragment(fragment) => {
                    if self.applies(&fragment.type_condition, runtime)
                        && self.included(fragment.skip_if.as_ref(), fragment.include_if.as_ref())
                    {
                        self.write_selections(type_name, &fragment.selections, value, path, out, first)?;
                    }
                }
                SelectionItem::FragmentSpread(_) => {} // normalization inlines fragments
            }
        }
        Ok(())
    }

    /// `complete`, written: Ok(true) when what it wrote is `null`.
    fn write_value<'s>(
        &mut self,
        ty: &TypeNode,
        selections: &'s SelectionSet,
        value: Option<&Data>,
        path: &mut Vec<Seg<'s>>,
        leaf: Leaf<'_>,
        out: &mut Vec<u8>,
    ) -> Result<bool, Bubble> {
        let null = |out: &mut Vec<u8>| {
            out.extend_from_slice(NULL);
            Ok(true)
        };
        match ty {
            TypeNode::NonNull(inner) => {
                if self.write_value(inner, selections, value, path, leaf, out)? {
                    self.null_error(path, leaf.field);
                    return Err(Bubble);
                }
                Ok(false)
            }
            TypeNode::List(inner) => {
                let Some(Data::List(items)) = value else { return null(out) };
                let mark = out.len();
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    path.push(Seg::Index(i));
                    let written = self.write_value(inner, selections, Some(item), path, leaf, out);
                    path.pop();
                    if written.is_err() {
                        out.truncate(mark);
                        return null(out);
                    }
                }
                out.push(b']');
                Ok(false)
            }
            TypeNode::Named(name) => match value {
                None | Some(Data::Null) => null(out),
                Some(v) if selections.items.is_empty() => {
                    if self.leaf_allowed(leaf, v, path) {
                        json(out, v);
                        Ok(false)
                    } else {
                        null(out)
                    }
                }
                Some(Data::Object(object)) => {
                    let mark = out.len();
                    match self.write_object(name, selections, object, path, out) {
                        Ok(()) => Ok(false),
                        Err(Bubble) => {
                            out.truncate(mark);
                            null(out)
                        }
                    }
                }
                Some(_) => null(out),
            },
        }
    }

    /// Whether no response key can be written twice into one object of `selections`: no key
    /// appears twice among its fields and those of its inline fragments, whatever their type
    /// conditions. Cached per set for this call.
    fn keys_unique(&mut self, selections: &SelectionSet) -> bool {
        let address = std::ptr::from_ref(selections) as usize;
        if let Some(&unique) = self.unique_keys.get(&address) {
            return unique;
        }
        let unique = collect_keys(selections);
        self.unique_keys.insert(address, unique);
        unique
    }
}

/// Whether no key repeats among the response keys `selections` can write, through its inline
/// fragments. Sorted rather than compared pairwise: a hostile operation may be wide.
fn collect_keys(selections: &SelectionSet) -> bool {
    fn keys<'s>(selections: &'s SelectionSet, into: &mut Vec<&'s str>) {
        for item in &selections.items {
            match item {
                SelectionItem::Field(f) if !f.omit_from_response => into.push(f.alias.as_deref().unwrap_or(&f.name)),
                SelectionItem::InlineFragment(fragment) => keys(&fragment.selections, into),
                _ => {}
            }
        }
    }
    let mut all = Vec::new();
    keys(selections, &mut all);
    all.sort_unstable();
    all.windows(2).all(|pair| pair[0] != pair[1])
}

/// `"key":`, after a comma unless `first`. A response key is a GraphQL name (an alias or a
/// field name of the parsed operation: letters, digits and `_`), so it needs no escaping; writing
/// it through serde_json's string escaper was a tenth of the writer's time.
fn write_key(out: &mut Vec<u8>, key: &str, first: &mut bool) {
    debug_assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{key} is a GraphQL name");
    if !std::mem::take(first) {
        out.push(b',');
    }
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::*;
    use crate::{limits::Limits, supergraph::Supergraph};

    /// Projects `data` for `query` both ways: written, and as a tree then serialized. Each
    /// with the errors it recorded.
    fn both(query: &str, variables: Value, data: Value) -> ((String, Vec<Value>), (String, Vec<Value>)) {
        let supergraph = Supergraph::new(include_str!("../../../schema/supergraph.graphql"), 8, false)
            .expect("our supergraph loads");
        let prepared = supergraph.prepare(query, None, &Limits::default()).expect("the query prepares");
        let variables: Map<String, Value> = serde_json::from_value(variables).expect("variables");
        let (data, set) = (Data::from(data), &prepared.operation.selection_set);
        let (state, enums) = (supergraph.state(), supergraph.api_enums());
        let (mut written_errors, mut tree_errors, mut out) = (Vec::new(), Vec::new(), Vec::new());
        Projector::new(state, enums, &variables, &mut written_errors).write("Query", set, &data, &mut out);
        let tree = Projector::new(state, enums, &variables, &mut tree_errors).project("Query", set, &data);
        ((String::from_utf8(out).expect("UTF-8"), written_errors), (tree.to_json(), tree_errors))
    }

    /// A product as the merged tree holds it: by response key (`label` is an alias of `name`).
    fn product(name: Value, status: &str) -> Value {
        json!({ "__typename": "Product", "id": "p1", "name": name.clone(), "label": name, "sku": "S-1", "status": status,
                "categories": ["pens", "ink \"blue\" \u{e9}"], "stock": 3, "extra": "not asked for" })
    }

    const QUERY: &str = r#"query($yes: Boolean!) {
        products(first: 2) { nodes { __typename id label: name sku @include(if: $yes) stock @skip(if: $yes) categories }
                             pageInfo { hasNextPage endCursor } totalCount }
        product(id: "p1") { kind: __typename name status }
    }"#;

    #[test]
    fn the_written_projection_is_byte_for_byte_the_serialized_tree() {
        let data = json!({
            "products": { "nodes": [product(json!("Pen"), "ACTIVE"), product(json!("Ink"), "ACTIVE")],
                          "pageInfo": { "hasNextPage": false }, "totalCount": 2 },
            "product": product(json!("Pen"), "ACTIVE"),
        });
        for yes in [true, false] {
            let (written, tree) = both(QUERY, json!({ "yes": yes }), data.clone());
            assert_eq!(written, tree);
            assert!(written.1.is_empty());
        }
        let (written, _) = both(QUERY, json!({ "yes": true }), data);
        assert_eq!(
            written.0,
            r#"{"products":{"nodes":[{"__typename":"Product","id":"p1","label":"Pen","sku":"S-1","categories":["pens","ink \"blue\" é"]},{"__typename":"Product","id":"p1","label":"Ink","sku":"S-1","categories":["pens","ink \"blue\" é"]}],"pageInfo":{"hasNextPage":false,"endCursor":null},"totalCount":2},"product":{"kind":"Product","name":"Pen","status":"ACTIVE"}}"#
        );
    }

    #[test]
    fn a_null_in_a_non_null_position_nulls_the_nearest_nullable_parent_as_the_tree_does() {
        // `product.name` is `String!`: `product` (nullable) becomes null, the rest stays.
        let data = json!({
            "products": { "nodes": [], "pageInfo": { "hasNextPage": false }, "totalCount": 0 },
            "product": product(Value::Null, "ACTIVE"),
        });
        let (written, tree) = both(QUERY, json!({ "yes": true }), data);
        assert_eq!(written, tree);
        assert!(written.0.ends_with(r#""totalCount":0},"product":null}"#), "{}", written.0);
        assert_eq!(written.1.len(), 1, "one error, at the null: {:?}", written.1);

        // Inside `nodes: [Product!]!` under `products: ProductConnection!`: nothing nullable
        // until the root, so `data` itself is null.
        let data = json!({
            "products": { "nodes": [product(json!("Pen"), "ACTIVE"), product(Value::Null, "ACTIVE")],
                          "pageInfo": { "hasNextPage": false }, "totalCount": 2 },
            "product": product(json!("Pen"), "ACTIVE"),
        });
        let (written, tree) = both(QUERY, json!({ "yes": true }), data);
        assert_eq!(written, tree);
        assert_eq!(written.0, "null");
        assert_eq!(written.1[0]["path"], json!(["products", "nodes", 1, "label"]));
    }

    #[test]
    fn an_enum_value_the_client_schema_lacks_is_an_error_and_a_null_either_way() {
        let data = json!({
            "products": { "nodes": [], "pageInfo": { "hasNextPage": true, "endCursor": "c" }, "totalCount": 0 },
            "product": product(json!("Pen"), "NOT_A_STATUS"),
        });
        let (written, tree) = both(QUERY, json!({ "yes": false }), data);
        assert_eq!(written, tree);
        assert!(written.0.ends_with(r#""product":null}"#), "{}", written.0);
        // One error: the invalid value's, which also explains the null it leaves.
        assert_eq!(written.1.len(), 1, "{:?}", written.1);
        assert_eq!(written.1[0]["path"], json!(["product", "status"]));
    }

    #[test]
    fn a_key_selected_twice_through_fragments_is_merged_as_the_tree_merges_it() {
        let query = r#"{ product(id: "p1") { name ... on Product { name sku } id ... on Product { sku } } }"#;
        let (written, tree) = both(query, json!({}), json!({ "product": product(json!("Pen"), "ACTIVE") }));
        assert_eq!(written, tree);
        assert_eq!(written.0, r#"{"product":{"name":"Pen","sku":"S-1","id":"p1"}}"#);
    }
}

#[cfg(test)]
mod hostile {
    use serde_json::{Map, json};

    use super::*;
    use crate::{limits::Limits, project::TYPES_PER_SELECTION, supergraph::Supergraph};

    #[test]
    fn a_subgraph_inventing_a_typename_per_object_cannot_grow_the_type_cache_past_its_bound() {
        let supergraph = Supergraph::new(include_str!("../../../schema/supergraph.graphql"), 8, false)
            .expect("our supergraph loads");
        let prepared = supergraph
            .prepare("{ products(first: 100) { nodes { id name } } }", None, &Limits::default())
            .expect("the query prepares");
        let nodes: Vec<_> = (0..500)
            .map(|i| json!({ "__typename": format!("Invented{i}"), "id": i.to_string(), "name": "n" }))
            .collect();
        let data = Data::from(json!({ "products": { "nodes": nodes } }));
        let (variables, mut errors, mut out) = (Map::new(), Vec::new(), Vec::new());
        let mut projector = Projector::new(supergraph.state(), supergraph.api_enums(), &variables, &mut errors);
        projector.write("Query", &prepared.operation.selection_set, &data, &mut out);
        assert!(
            projector.field_types.values().all(|types| types.len() <= TYPES_PER_SELECTION),
            "at most {TYPES_PER_SELECTION} runtime types per selection set"
        );
        // The rest were looked up each time, through the static type: every node is answered.
        let answer: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
        assert_eq!(answer["products"]["nodes"].as_array().map(Vec::len), Some(500));
        assert_eq!(answer["products"]["nodes"][499], json!({ "id": "499", "name": "n" }));
    }
}
