//! The catalogue through the router: admins change it under optimistic locking, customers
//! cannot (neither through the router nor at the subgraph), and bad input names every field.

mod common;

use common::{code, gql, token};
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_testkit::{TestStack, graphql_with, spawn_stack};
use uuid::Uuid;

const FIELDS: &str = "id sku name description price { amount currency } status categories images stock version";
const CREATE: &str = "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id sku name description price { amount currency } status categories images stock version } } }";
const UPDATE: &str =
    "mutation($i: UpdateProductInput!) { updateProduct(input: $i) { product { id name price { amount } version } } }";
const ARCHIVE: &str =
    "mutation($i: ProductVersionInput!) { archiveProduct(input: $i) { product { id status version } } }";
const RESTORE: &str =
    "mutation($i: ProductVersionInput!) { restoreProduct(input: $i) { product { id status version } } }";
const ADJUST: &str = "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { product { id stock } } }";

fn pen(sku: &str) -> Value {
    json!({
        "sku": sku, "name": "Fountain pen", "description": "Blue ink.", "status": "ACTIVE",
        "price": { "amount": 2450, "currency": "eur" }, "categories": ["stationery"],
        "images": ["https://cdn.example.com/pen.png"], "stock": 5,
    })
}

async fn tokens(stack: &TestStack) -> (String, String) {
    (token(stack, Uuid::now_v7(), &["admin", "customer"]).await, token(stack, Uuid::now_v7(), &["customer"]).await)
}

async fn create(stack: &TestStack, admin: &str, input: Value) -> Value {
    let body = gql(stack, CREATE, json!({ "i": input }), Some(admin)).await;
    body["data"]["createProduct"]["product"].clone()
}

#[tokio::test]
async fn an_admin_creates_updates_archives_and_restores_a_product_and_a_customer_can_do_none_of_it() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (admin, customer) = tokens(&stack).await;
    let created = create(&stack, &admin, pen("pen-1")).await;
    assert_eq!(created["sku"], "PEN-1", "{created}");
    assert_eq!(created["price"], json!({ "amount": 2450, "currency": "EUR" }));
    assert_eq!(created["version"], 1);
    let id = created["id"].as_str().expect("an id").to_owned();

    let updated = gql(
        &stack,
        UPDATE,
        json!({ "i": { "id": id, "expectedVersion": 1, "price": { "amount": 1999, "currency": "EUR" } } }),
        Some(&admin),
    )
    .await;
    assert_eq!(updated["data"]["updateProduct"]["product"]["price"]["amount"], 1999, "{updated}");
    assert_eq!(updated["data"]["updateProduct"]["product"]["version"], 2);

    let archived = gql(&stack, ARCHIVE, json!({ "i": { "id": id, "expectedVersion": 2 } }), Some(&admin)).await;
    assert_eq!(archived["data"]["archiveProduct"]["product"]["status"], "ARCHIVED", "{archived}");
    // Archived: still resolves by id (orders point at it), no longer listed.
    let seen =
        gql(&stack, &format!("{{ product(id: \"{id}\") {{ status }} products {{ totalCount }} }}"), json!({}), None)
            .await;
    assert_eq!(seen["data"]["product"]["status"], "ARCHIVED", "{seen}");
    assert_eq!(seen["data"]["products"]["totalCount"], 0, "{seen}");
    let restored = gql(&stack, RESTORE, json!({ "i": { "id": id, "expectedVersion": 3 } }), Some(&admin)).await;
    assert_eq!(restored["data"]["restoreProduct"]["product"]["status"], "ACTIVE", "{restored}");

    // A customer is refused each one, by the router and again by the subgraph called directly.
    let attempts = [
        (CREATE, json!({ "i": pen("pen-2") })),
        (UPDATE, json!({ "i": { "id": id, "expectedVersion": 4, "name": "Mine" } })),
        (ARCHIVE, json!({ "i": { "id": id, "expectedVersion": 4 } })),
        (RESTORE, json!({ "i": { "id": id, "expectedVersion": 4 } })),
        (ADJUST, json!({ "i": { "id": id, "delta": 100, "reason": "free pens" } })),
    ];
    let subgraph = stack.subgraph("products").url("/graphql");
    for (query, variables) in attempts {
        let routed = gql(&stack, query, variables.clone(), Some(&customer)).await;
        assert_eq!(code(&routed), "FORBIDDEN", "router: {routed}");
        let direct = graphql_with(&subgraph, query, variables.clone(), Some(&customer)).await.1;
        assert_eq!(code(&direct), "FORBIDDEN", "subgraph: {direct}");
        let anonymous = graphql_with(&subgraph, query, variables, None).await.1;
        assert_eq!(code(&anonymous), "UNAUTHENTICATED", "subgraph: {anonymous}");
    }
    let after = gql(&stack, &format!("{{ product(id: \"{id}\") {{ name version stock }} }}"), json!({}), None).await;
    assert_eq!(
        after["data"]["product"],
        json!({ "name": "Fountain pen", "version": 4, "stock": 5 }),
        "nothing changed"
    );
}

#[tokio::test]
async fn of_two_concurrent_updates_with_one_version_exactly_one_wins_and_the_other_learns_the_current_version() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (admin, _) = tokens(&stack).await;
    let id = create(&stack, &admin, pen("race-1")).await["id"].as_str().expect("an id").to_owned();
    let update = |name: &'static str| {
        let (stack, admin, id) = (&stack, &admin, &id);
        async move {
            gql(stack, UPDATE, json!({ "i": { "id": id, "expectedVersion": 1, "name": name } }), Some(admin)).await
        }
    };
    let (a, b) = tokio::join!(update("Pen A"), update("Pen B"));
    let (won, lost) = if a["errors"].is_null() { (a, b) } else { (b, a) };
    assert_eq!(won["data"]["updateProduct"]["product"]["version"], 2, "{won}");
    assert_eq!(code(&lost), "VERSION_CONFLICT", "{lost}");
    assert_eq!(lost["errors"][0]["extensions"]["currentVersion"], 2, "{lost}");
}

#[tokio::test]
async fn bad_input_names_every_bad_field_and_a_taken_sku_is_a_conflict_on_sku() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (admin, _) = tokens(&stack).await;
    let bad = json!({
        "sku": "has spaces", "name": "x".repeat(201), "price": { "amount": -1, "currency": "EURO" },
        "images": ["http://cdn.example.com/a.png"], "categories": ["Not a slug"], "stock": -3,
    });
    let body = gql(&stack, CREATE, json!({ "i": bad }), Some(&admin)).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let fields: Vec<&str> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().expect("a name"))
        .collect();
    assert_eq!(fields, ["sku", "name", "price.amount", "price.currency", "categories", "images", "stock"], "{body}");

    create(&stack, &admin, pen("dup-1")).await;
    let again = gql(&stack, CREATE, json!({ "i": pen("DUP-1") }), Some(&admin)).await;
    assert_eq!(code(&again), "CONFLICT", "{again}");
    assert_eq!(again["errors"][0]["extensions"]["field"], "sku");

    let id = create(&stack, &admin, pen("few-1")).await["id"].as_str().expect("an id").to_owned();
    let short =
        gql(&stack, ADJUST, json!({ "i": { "id": id, "delta": -6, "reason": "stock take" } }), Some(&admin)).await;
    assert_eq!(code(&short), "BAD_USER_INPUT", "{short}");
    assert_eq!(short["errors"][0]["extensions"]["stock"], 5, "{short}");
    let ok = gql(&stack, ADJUST, json!({ "i": { "id": id, "delta": -5, "reason": "stock take" } }), Some(&admin)).await;
    assert_eq!(ok["data"]["adjustStock"]["product"]["stock"], 0, "{ok}");
}

#[tokio::test]
async fn drafts_and_reserved_units_are_for_admins_only() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (admin, customer) = tokens(&stack).await;
    let mut draft = pen("draft-1");
    draft["status"] = json!("DRAFT");
    let id = create(&stack, &admin, draft).await["id"].as_str().expect("an id").to_owned();
    let query = format!("{{ product(id: \"{id}\") {{ {FIELDS} }} }}");
    let hidden = gql(&stack, &query, json!({}), Some(&customer)).await;
    assert_eq!(hidden["data"]["product"], Value::Null, "{hidden}");
    let seen = gql(&stack, &query, json!({}), Some(&admin)).await;
    assert_eq!(seen["data"]["product"]["status"], "DRAFT", "{seen}");

    let reserved = format!("{{ product(id: \"{id}\") {{ reserved }} }}");
    let refused = gql(&stack, &reserved, json!({}), Some(&customer)).await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    let admins = gql(&stack, &reserved, json!({}), Some(&admin)).await;
    assert_eq!(admins["data"]["product"]["reserved"], 0, "{admins}");
    let listed =
        gql(&stack, "{ products(filter: { status: [DRAFT] }) { totalCount } }", json!({}), Some(&customer)).await;
    assert_eq!(code(&listed), "BAD_USER_INPUT", "{listed}");
}

#[tokio::test]
async fn entity_references_resolve_archived_products_in_one_batch_and_hide_drafts() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let (admin, _) = tokens(&stack).await;
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(create(&stack, &admin, pen(&format!("batch-{i}"))).await["id"].as_str().expect("an id").to_owned());
    }
    let archived = gql(&stack, ARCHIVE, json!({ "i": { "id": ids[1], "expectedVersion": 1 } }), Some(&admin)).await;
    assert_eq!(archived["data"]["archiveProduct"]["product"]["status"], "ARCHIVED", "{archived}");
    let mut draft = pen("batch-draft");
    draft["status"] = json!("DRAFT");
    let draft = create(&stack, &admin, draft).await["id"].as_str().expect("an id").to_owned();
    let mut representations: Vec<Value> = ids.iter().map(|id| json!({ "__typename": "Product", "id": id })).collect();
    representations.push(json!({ "__typename": "Product", "id": draft }));
    representations.push(json!({ "__typename": "Product", "id": Uuid::now_v7() }));
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id status } } }";
    let (_, body) =
        graphql_with(&stack.subgraph("products").url("/graphql"), query, json!({ "r": representations }), None).await;
    let found = body["data"]["_entities"].as_array().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(found.len(), 42);
    assert_eq!(found[0]["id"], ids[0].as_str());
    assert_eq!(found[1]["status"], "ARCHIVED", "an order's archived product still resolves");
    assert_eq!(found[40], Value::Null, "a draft is not for anonymous callers");
    assert_eq!(found[41], Value::Null, "no such product");
}
