//! Entity representations: what an entity is sent to its subgraph as (its `requires` fields,
//! with the planner's input rewrites), as JSON text. Also the planner's rewrites of answers.

use hive_router_query_planner::{
    ast::{selection_item::SelectionItem, selection_set::SelectionSet},
    planner::plan_nodes::{FetchNodePathSegment, FetchRewrite},
    state::supergraph_state::SupergraphState,
};

use crate::data::{Data, Object};

/// What an alias of an entity fetch sends for each entity.
pub(super) struct Requires<'p> {
    pub selection: &'p SelectionSet,
    pub input_rewrites: &'p [FetchRewrite],
    /// Representations can be written straight from the entities (see [`write_direct`]).
    pub direct: bool,
}

impl<'p> Requires<'p> {
    pub fn new(selection: &'p SelectionSet, input_rewrites: &'p [FetchRewrite]) -> Self {
        Self { selection, input_rewrites, direct: input_rewrites.is_empty() && fields_only(selection) }
    }
}

/// Whether a selection can be written straight from the entity ([`write_direct`]): fields and
/// inline fragments, at every depth, where a response key selected twice selects no subfields
/// (so the first value written is the whole value).
fn fields_only(set: &SelectionSet) -> bool {
    let mut seen: Vec<(&str, bool)> = Vec::new();
    fn walk<'s>(set: &'s SelectionSet, seen: &mut Vec<(&'s str, bool)>) -> bool {
        set.items.iter().all(|item| match item {
            SelectionItem::Field(f) => {
                let nested = !f.selections.items.is_empty();
                let clash = seen.iter().any(|(name, had)| *name == f.name && (*had || nested));
                seen.push((&f.name, nested));
                !clash && fields_only(&f.selections)
            }
            SelectionItem::InlineFragment(fragment) => walk(&fragment.selections, seen),
            SelectionItem::FragmentSpread(_) => false,
        })
    }
    walk(set, &mut seen)
}

/// The representation `entity` is sent as (its `requires` fields, rewritten) as JSON text in
/// `buf`; None when a required field is missing. Written straight from the entity when the
/// selection allows it: most entities of a large answer go through here twice (collected,
/// then matched with their answer), and building a tree for each was a tenth of the router's
/// time.
pub(super) fn representation<'b>(
    entity: &Data,
    requires: &Requires<'_>,
    state: &SupergraphState,
    buf: &'b mut Vec<u8>,
) -> Option<&'b str> {
    buf.clear();
    let written =
        if requires.direct { write_direct(entity, requires.selection, state, buf) } else { Err(Unwritable::Complex) };
    match written {
        Ok(()) => {}
        Err(Unwritable::Missing) => return None,
        Err(Unwritable::Complex) => {
            buf.clear();
            let mut representation = project(entity, requires.selection, state)?;
            apply_rewrites(&mut representation, requires.input_rewrites, state);
            serde_json::to_writer(&mut *buf, &representation).expect("a response tree always serializes");
        }
    }
    Some(std::str::from_utf8(buf).expect("JSON text is UTF-8"))
}

/// Why [`write_direct`] wrote no representation.
enum Unwritable {
    /// A required field is missing: the entity cannot be resolved.
    Missing,
    /// More fields than it tracks: build it as a tree instead.
    Complex,
}

/// Most distinct keys of one object [`write_direct`] tracks.
const DIRECT_KEYS: usize = 16;

/// [`project`] written as JSON, for a selection [`fields_only`] allows. Same keys and values as
/// `project`: an abstract value's `__typename` first, then the fields, those of the type
/// conditions that hold included, each key once.
fn write_direct(
    entity: &Data,
    set: &SelectionSet,
    state: &SupergraphState,
    out: &mut Vec<u8>,
) -> Result<(), Unwritable> {
    let obj = entity.as_object().ok_or(Unwritable::Missing)?;
    let mut written: [&str; DIRECT_KEYS] = [""; DIRECT_KEYS];
    let mut n = 0;
    out.push(b'{');
    let abstract_value = set.items.iter().any(|i| matches!(i, SelectionItem::InlineFragment(_)));
    let typename = obj.get("__typename").and_then(Data::as_str);
    if abstract_value && let Some(typename) = typename {
        out.extend_from_slice(b"\"__typename\":");
        serde_json::to_writer(&mut *out, typename).expect("a string always serializes");
        written[0] = "__typename";
        n = 1;
    }
    write_fields(obj, set, state, typename.unwrap_or_default(), out, &mut written, &mut n)?;
    out.push(b'}');
    Ok(())
}

fn write_fields<'s>(
    obj: &Object,
    set: &'s SelectionSet,
    state: &SupergraphState,
    typename: &str,
    out: &mut Vec<u8>,
    written: &mut [&'s str; DIRECT_KEYS],
    n: &mut usize,
) -> Result<(), Unwritable> {
    for item in &set.items {
        match item {
            SelectionItem::Field(f) => {
                if written[..*n].contains(&f.name.as_str()) {
                    continue;
                }
                if *n == DIRECT_KEYS {
                    return Err(Unwritable::Complex);
                }
                let value = obj.get(&f.name).ok_or(Unwritable::Missing)?;
                if *n > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, f.name.as_str()).expect("a string always serializes");
                out.push(b':');
                write_value(value, &f.selections, state, out)?;
                written[*n] = &f.name;
                *n += 1;
            }
            SelectionItem::InlineFragment(fragment) => {
                let condition = fragment.type_condition.as_str();
                let holds = typename == condition
                    || state.interface_to_object_types.get(condition).is_some_and(|types| types.contains(typename));
                // `project` drops a fragment whose fields are missing and keeps the entity: a
                // partial write cannot be taken back, so that case goes the tree's way.
                if holds {
                    write_fields(obj, &fragment.selections, state, typename, out, written, n).map_err(|e| match e {
                        Unwritable::Missing => Unwritable::Complex,
                        other => other,
                    })?;
                }
            }
            SelectionItem::FragmentSpread(_) => return Err(Unwritable::Complex),
        }
    }
    Ok(())
}

fn write_value(
    value: &Data,
    selections: &SelectionSet,
    state: &SupergraphState,
    out: &mut Vec<u8>,
) -> Result<(), Unwritable> {
    match value {
        _ if selections.items.is_empty() => {
            serde_json::to_writer(&mut *out, value).expect("a response tree always serializes");
        }
        Data::Null => out.extend_from_slice(b"null"),
        Data::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, selections, state, out)?;
            }
            out.push(b']');
        }
        v => write_direct(v, selections, state, out)?,
    }
    Ok(())
}

/// `entity` narrowed to the `requires` selection (response keys equal field names there).
/// None when a required field is missing: such an entity cannot be resolved. A type condition
/// holds for its own type and, when it is an interface, for every object implementing it.
fn project(entity: &Data, requires: &SelectionSet, state: &SupergraphState) -> Option<Data> {
    let obj = entity.as_object()?;
    let mut out = Object::with_capacity(requires.items.len() + 1);
    // An abstract value's representation names its concrete type, as Apollo's planner sends it
    // (`packaging { __typename weight ... on Box { volume } }`): the subgraph cannot read an
    // interface value without it.
    let abstract_value = requires.items.iter().any(|i| matches!(i, SelectionItem::InlineFragment(_)));
    if abstract_value && let Some(typename) = obj.get("__typename") {
        out.insert("__typename", typename.clone());
    }
    for item in &requires.items {
        match item {
            SelectionItem::Field(f) => {
                let value = obj.get(&f.name)?;
                let projected = if f.selections.items.is_empty() {
                    value.clone()
                } else {
                    match value {
                        Data::List(items) => {
                            Data::List(items.iter().map(|v| project(v, &f.selections, state)).collect::<Option<_>>()?)
                        }
                        Data::Null => Data::Null,
                        v => project(v, &f.selections, state)?,
                    }
                };
                out.insert(f.name.as_str(), projected);
            }
            SelectionItem::InlineFragment(fragment) => {
                let typename = obj.get("__typename").and_then(Data::as_str).unwrap_or_default();
                let condition = fragment.type_condition.as_str();
                let holds = typename == condition
                    || state.interface_to_object_types.get(condition).is_some_and(|types| types.contains(typename));
                if holds && let Some(Data::Object(more)) = project(entity, &fragment.selections, state) {
                    for (k, v) in more.into_pairs() {
                        out.insert(k, v);
                    }
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
    Some(Data::Object(out))
}

/// Applies the planner's rewrites: set a value (e.g. `__typename` of an interface object) or
/// rename a key, where the path's type conditions match (an interface matches its objects).
pub(super) fn apply_rewrites(value: &mut Data, rewrites: &[FetchRewrite], state: &SupergraphState) {
    for rewrite in rewrites {
        match rewrite {
            FetchRewrite::ValueSetter(setter) => {
                if let Some(slot) = walk_rewrite_path(value, &setter.path, state) {
                    *slot = Data::String(setter.set_value_to.as_str().into());
                }
            }
            FetchRewrite::KeyRenamer(renamer) => {
                let (last, parent) = match renamer.path.split_last() {
                    Some((FetchNodePathSegment::Key(k), parent)) => (k.clone(), parent),
                    _ => continue,
                };
                if let Some(Data::Object(obj)) = walk_rewrite_path(value, parent, state)
                    && let Some(v) = obj.remove(&last)
                {
                    obj.insert(renamer.rename_key_to.as_str(), v);
                }
            }
        }
    }
}

fn walk_rewrite_path<'v>(
    value: &'v mut Data,
    path: &[FetchNodePathSegment],
    state: &SupergraphState,
) -> Option<&'v mut Data> {
    let mut current = value;
    for segment in path {
        match segment {
            FetchNodePathSegment::TypenameEquals(types) => {
                let typename = current.get("__typename").and_then(Data::as_str).unwrap_or_default();
                let holds = types.iter().any(|t| {
                    t == typename
                        || state.interface_to_object_types.get(t).is_some_and(|objects| objects.contains(typename))
                });
                if !holds {
                    return None;
                }
            }
            FetchNodePathSegment::Key(k) => {
                current = current.as_object_mut()?.entry(k);
            }
        }
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn field(name: &str, sub: Vec<Value>) -> Value {
        json!({ "kind": "Field", "name": name, "selections": { "items": sub } })
    }

    fn on(type_name: &str, items: Vec<Value>) -> Value {
        json!({ "kind": "InlineFragment", "typeCondition": type_name, "selections": { "items": items } })
    }

    fn selection(items: Vec<Value>) -> SelectionSet {
        serde_json::from_value(json!({ "items": items })).expect("a selection set")
    }

    /// The representation written straight from the entity, and the one built as a tree.
    fn both(entity: Value, set: &SelectionSet) -> (Option<String>, Option<String>) {
        let supergraph =
            crate::supergraph::Supergraph::new(include_str!("../../../schema/supergraph.graphql"), 8, false)
                .expect("our supergraph loads");
        let state = supergraph.state();
        let entity = Data::from(entity);
        let requires = Requires::new(set, &[]);
        assert!(requires.direct, "the selection is one direct writing takes");
        let mut buf = Vec::new();
        let direct = representation(&entity, &requires, state, &mut buf).map(str::to_owned);
        let tree = project(&entity, set, state).map(|d| d.to_json());
        (direct, tree)
    }

    #[test]
    fn a_representation_written_straight_from_the_entity_is_the_one_the_tree_gives() {
        let key = selection(vec![on("Product", vec![field("__typename", vec![]), field("id", vec![])])]);
        let product = json!({ "__typename": "Product", "id": "p1", "name": "Pen", "price": 3 });
        let (direct, tree) = both(product.clone(), &key);
        assert_eq!(direct.as_deref(), Some(r#"{"__typename":"Product","id":"p1"}"#));
        assert_eq!(direct, tree);

        // A condition that does not hold keeps the type name only, as the tree does.
        let other = selection(vec![on("User", vec![field("id", vec![])])]);
        let (direct, tree) = both(product.clone(), &other);
        assert_eq!(direct.as_deref(), Some(r#"{"__typename":"Product"}"#));
        assert_eq!(direct, tree);

        // Nested lists of objects, a null, and a field selected twice.
        let nested = selection(vec![
            field("id", vec![]),
            field("lines", vec![field("sku", vec![]), field("qty", vec![])]),
            field("note", vec![field("text", vec![])]),
            field("id", vec![]),
        ]);
        let order = json!({ "id": "o1", "lines": [{ "sku": "a", "qty": 1, "x": 0 }, { "sku": "b\"", "qty": 2 }], "note": null });
        let (direct, tree) = both(order, &nested);
        assert_eq!(
            direct.as_deref(),
            Some(r#"{"id":"o1","lines":[{"sku":"a","qty":1},{"sku":"b\"","qty":2}],"note":null}"#)
        );
        assert_eq!(direct, tree);
    }

    #[test]
    fn an_entity_missing_a_required_field_has_no_representation_either_way() {
        let key = selection(vec![field("id", vec![]), field("upc", vec![])]);
        assert_eq!(both(json!({ "id": "p1" }), &key), (None, None));
        // Inside a type condition the tree drops the fragment, not the entity: so does the
        // direct path, by handing over to the tree.
        let partial = selection(vec![on("Product", vec![field("id", vec![]), field("upc", vec![])])]);
        let (direct, tree) = both(json!({ "__typename": "Product", "id": "p1" }), &partial);
        assert_eq!(direct, tree);
        assert_eq!(direct.as_deref(), Some(r#"{"__typename":"Product"}"#));
    }
}
