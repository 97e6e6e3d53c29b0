//! The router answers introspection from the API schema: join internals and federation
//! plumbing are hidden, and introspection can be turned off.

use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_testkit::{graphql, spawn_configured, spawn_stack, test_bus};

#[tokio::test]
async fn the_schema_lists_the_api_types_and_hides_join_internals() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let before: Vec<usize> = stack.subgraphs.iter().map(|s| s.request_count()).collect();
    let (_, body) = graphql(
        &stack.router_url("/graphql"),
        "{ __schema { queryType { name } subscriptionType { name } types { name } } }",
        None,
    )
    .await;
    let schema = &body["data"]["__schema"];
    assert_eq!(schema["queryType"]["name"], "Query", "{body}");
    assert_eq!(schema["subscriptionType"]["name"], "Subscription", "{body}");
    let names: Vec<&str> =
        schema["types"].as_array().expect("types").iter().filter_map(|t| t["name"].as_str()).collect();
    for wanted in ["Query", "Order", "User", "Product", "Notification", "DateTime"] {
        assert!(names.contains(&wanted), "{wanted} missing from {names:?}");
    }
    for hidden in ["join__Graph", "join__FieldSet", "_Entity", "_Service", "_Any", "link__Import"] {
        assert!(!names.contains(&hidden), "{hidden} leaks into {names:?}");
    }
    let after: Vec<usize> = stack.subgraphs.iter().map(|s| s.request_count()).collect();
    assert_eq!(before, after, "introspection needs no subgraph");
}

#[tokio::test]
async fn a_type_is_described_with_its_fields_and_descriptions() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (_, body) = graphql(
        &stack.router_url("/graphql"),
        r#"{ __type(name: "Query") { fields { name description args { name } } } }"#,
        None,
    )
    .await;
    let fields = body["data"]["__type"]["fields"].as_array().unwrap_or_else(|| panic!("fields: {body}"));
    let order = fields.iter().find(|f| f["name"] == "order").expect("order");
    assert_eq!(order["args"], json!([{ "name": "id" }]));
    assert!(order["description"].as_str().expect("a description").contains("caller's orders"));
}

#[tokio::test]
async fn introspection_and_regular_fields_mix_in_one_operation() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (_, body) =
        graphql(&stack.router_url("/graphql"), r#"{ signedIn __typename t: __type(name: "User") { name } }"#, None)
            .await;
    assert_eq!(body, json!({ "data": { "signedIn": false, "__typename": "Query", "t": { "name": "User" } } }));
}

#[tokio::test]
async fn introspection_can_be_turned_off() {
    let stack = spawn_configured(&SUBGRAPHS, test_bus().await, |c| c.router.introspection = false).await;
    let (_, body) = graphql(&stack.router_url("/graphql"), "{ signedIn __schema { types { name } } }", None).await;
    assert_eq!(body["data"]["signedIn"], false, "{body}");
    assert!(body["data"].get("__schema").is_none_or(Value::is_null), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "INTROSPECTION_DISABLED");
}

/// graphql-js's `getIntrospectionQuery()` (v16, with descriptions, `specifiedByURL`,
/// `isRepeatable` and deprecated input values): what GraphiQL and codegen send.
const INTROSPECTION_QUERY: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) {
    name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
"#;

#[tokio::test]
async fn the_full_introspection_query_answers_the_whole_api_schema() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (_, mut body) = graphql(&stack.router_url("/graphql"), INTROSPECTION_QUERY, None).await;
    assert!(body.get("errors").is_none(), "{body}");
    // The order of `types` and `directives` is not part of the contract; names are.
    for list in ["types", "directives"] {
        let items = body["data"]["__schema"][list].as_array_mut().expect("a list");
        items.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    }
    insta::assert_json_snapshot!("full_introspection", body);
}

/// A supergraph that is not ours: an object narrows an interface field's type (covariance,
/// which GraphQL allows and async-graphql's dynamic schema used to refuse at start). Its
/// composition is committed beside it, for `tests/clients/introspection.mjs` to serve with
/// `tessera serve router --supergraph`; this test keeps the two in step.
const LIBRARY: &str = include_str!("clients/fixtures/library.graphql");
const LIBRARY_SUPERGRAPH: &str = "tests/clients/fixtures/library-supergraph.graphql";

#[tokio::test]
async fn a_supergraph_with_covariant_interface_fields_starts_and_is_introspected_as_written() {
    let library = tessera_router::compose::SubgraphSdl {
        name: "library".into(),
        url: "http://127.0.0.1:9/graphql".into(),
        sdl: LIBRARY.into(),
    };
    let sdl = tessera_router::compose::compose(&[library]).expect("composes");
    let committed = std::fs::read_to_string(LIBRARY_SUPERGRAPH).unwrap_or_default();
    if std::env::var("UPDATE_FIXTURES").is_ok() {
        std::fs::write(LIBRARY_SUPERGRAPH, &sdl).expect("writes the fixture");
    } else {
        assert_eq!(committed, sdl, "{LIBRARY_SUPERGRAPH} is stale: rerun with UPDATE_FIXTURES=1");
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("library.graphql");
    std::fs::write(&path, sdl).expect("writes");
    let mut config = tessera_kit::config::Config::default();
    config.router.supergraph_path = Some(path);
    let app = tessera_router::build(&config, tessera_router::Subgraphs::default(), None).await.expect("starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let query = r#"{
      book: __type(name: "Book") { kind fields { name type { kind ofType { kind name } } } interfaces { name } }
      similar: __type(name: "Similar") { kind possibleTypes { name } fields { name type { kind ofType { name } } } }
    }"#;
    let url = format!("http://{addr}/graphql");
    // Deprecated fields only on request; aliases, `__typename` and `@include` as anywhere else.
    let deprecated = r#"query($all: Boolean!) {
      t: __type(name: "Book") {
        __typename
        live: fields { name }
        every: fields(includeDeprecated: true) @include(if: $all) { name isDeprecated deprecationReason }
      }
    }"#;
    let body = tessera_testkit::graphql_with(&url, deprecated, json!({ "all": true }), None).await.1;
    let t = &body["data"]["t"];
    assert_eq!(t["__typename"], "__Type", "{body}");
    let names = |list: &Value| list.as_array().map(|l| l.iter().map(|f| f["name"].clone()).collect::<Vec<_>>());
    assert_eq!(names(&t["live"]), Some(vec![json!("id"), json!("similar"), json!("title")]), "{body}");
    let isbn = t["every"].as_array().and_then(|l| l.iter().find(|f| f["name"] == "isbn")).expect("listed on request");
    assert_eq!(isbn["deprecationReason"], "Use id.");
    let without = tessera_testkit::graphql_with(&url, deprecated, json!({ "all": false }), None).await.1;
    assert!(without["data"]["t"].get("every").is_none(), "{without}");

    let (_, body) = graphql(&url, query, None).await;
    insta::assert_json_snapshot!(body, @r#"
    {
      "data": {
        "book": {
          "kind": "OBJECT",
          "fields": [
            {
              "name": "id",
              "type": {
                "kind": "NON_NULL",
                "ofType": {
                  "kind": "SCALAR",
                  "name": "ID"
                }
              }
            },
            {
              "name": "similar",
              "type": {
                "kind": "LIST",
                "ofType": {
                  "kind": "OBJECT",
                  "name": "Book"
                }
              }
            },
            {
              "name": "title",
              "type": {
                "kind": "SCALAR",
                "ofType": null
              }
            }
          ],
          "interfaces": [
            {
              "name": "Similar"
            }
          ]
        },
        "similar": {
          "kind": "INTERFACE",
          "possibleTypes": [
            {
              "name": "Book"
            }
          ],
          "fields": [
            {
              "name": "similar",
              "type": {
                "kind": "LIST",
                "ofType": {
                  "name": "Similar"
                }
              }
            }
          ]
        }
      }
    }
    "#);
}
