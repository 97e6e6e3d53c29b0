//! Product lists through the router: keyset pages in every sort order that neither skip nor
//! repeat a product while others are added, filters and `totalCount`, and ranked search.

mod common;

use std::collections::HashSet;

use common::{code, gql, token};
use serde_json::{Value, json};
use tessera::SUBGRAPHS;
use tessera_products::{
    domain::{Status, money::Price},
    store::catalogue::{NewProduct, insert},
};
use tessera_testkit::{TestStack, spawn_stack};
use uuid::Uuid;

const PAGE: &str = "query($after: String, $sort: ProductSort, $filter: ProductFilter) {
  products(first: 100, after: $after, sort: $sort, filter: $filter) {
    totalCount edges { cursor node { id name price { amount } } } pageInfo { hasNextPage endCursor } } }";

/// Inserts products straight into the subgraph's database (the admin path has its own tests).
async fn add(stack: &TestStack, n: usize, tag: &str, description: &str, category: &str) -> Vec<Uuid> {
    let db = &stack.subgraph("products").rt.db;
    let mut tx = db.begin().await.expect("a transaction");
    let mut ids = Vec::new();
    for i in 0..n {
        let new = NewProduct {
            sku: format!("{tag}-{i}"),
            // Names and prices repeat, so ties must be broken by id.
            name: format!("{} item {}", ["Lamp", "desk", "Chair", "Älg"][i % 4], i % 10),
            description: description.to_owned(),
            price: Price { amount: ((i * 37) % 50) as i64 * 100, currency: "EUR".into() },
            status: Status::Active,
            categories: vec![category.to_owned()],
            images: Vec::new(),
            stock: (i % 3) as i64,
        };
        ids.push(insert(&mut tx, &new).await.expect("inserts").id);
    }
    tx.commit().await.expect("commits");
    ids
}

/// Every page of a list, adding five products between pages.
async fn walk(stack: &TestStack, token: &str, sort: &str, filter: Value) -> Vec<Value> {
    let mut after = Value::Null;
    let mut nodes = Vec::new();
    for round in 0.. {
        let vars = json!({ "after": after, "sort": sort, "filter": filter });
        let body = gql(stack, PAGE, vars, Some(token)).await;
        let products = &body["data"]["products"];
        let edges = products["edges"].as_array().unwrap_or_else(|| panic!("{sort}: {body}"));
        nodes.extend(edges.iter().map(|e| e["node"].clone()));
        if !products["pageInfo"]["hasNextPage"].as_bool().expect("a flag") {
            return nodes;
        }
        after = products["pageInfo"]["endCursor"].clone();
        add(stack, 5, &format!("{sort}-{round}"), "added between pages", "late").await;
    }
    unreachable!()
}

#[tokio::test]
async fn paging_in_every_order_neither_skips_nor_repeats_a_product_while_others_are_added() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let customer = token(&stack, Uuid::now_v7(), &["customer"]).await;
    let first: HashSet<String> =
        add(&stack, 250, "base", "an item for the shelf", "home").await.iter().map(Uuid::to_string).collect();
    for (sort, filter) in [
        ("NEWEST", json!({})),
        ("PRICE_ASC", json!({})),
        ("PRICE_DESC", json!({})),
        ("NAME", json!({})),
        ("RELEVANCE", json!({ "search": "item" })),
    ] {
        let nodes = walk(&stack, &customer, sort, filter).await;
        let ids: Vec<String> = nodes.iter().map(|n| n["id"].as_str().expect("an id").to_owned()).collect();
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{sort}: a product came twice");
        assert!(first.iter().all(|id| unique.contains(id)), "{sort}: a product that was there all along was skipped");
        let prices: Vec<i64> = nodes.iter().map(|n| n["price"]["amount"].as_i64().expect("a price")).collect();
        match sort {
            "PRICE_ASC" => assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{sort} is out of order"),
            "PRICE_DESC" => assert!(prices.windows(2).all(|w| w[0] >= w[1]), "{sort} is out of order"),
            "NAME" => {
                let names: Vec<String> =
                    nodes.iter().map(|n| n["name"].as_str().expect("a name").to_lowercase()).collect();
                assert!(names.windows(2).all(|w| w[0] <= w[1]), "{sort} is out of order: {names:?}");
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn filters_narrow_the_list_and_total_count_counts_what_they_hold() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let customer = token(&stack, Uuid::now_v7(), &["customer"]).await;
    add(&stack, 30, "kitchen", "for the kitchen", "kitchen").await;
    add(&stack, 20, "garden", "for the garden", "garden").await;
    let total = |filter: Value| {
        let (stack, customer) = (&stack, &customer);
        async move {
            let body = gql(stack, PAGE, json!({ "filter": filter }), Some(customer)).await;
            body["data"]["products"]["totalCount"].as_i64().unwrap_or_else(|| panic!("{body}"))
        }
    };
    assert_eq!(total(json!({})).await, 50);
    assert_eq!(total(json!({ "category": "garden" })).await, 20);
    // Prices are ((i * 37) % 50) * 100: of 30, those from 10.00 to 20.00 inclusive.
    let expected = (0..30).filter(|i| (1000..=2000).contains(&(((i * 37) % 50) * 100))).count() as i64;
    assert_eq!(total(json!({ "category": "kitchen", "minPrice": 1000, "maxPrice": 2000 })).await, expected);
    assert_eq!(total(json!({ "inStock": true })).await, (0..30).filter(|i| i % 3 != 0).count() as i64 + 13);
    assert_eq!(total(json!({ "search": "garden" })).await, 20);

    let categories = gql(&stack, "{ categories { name productCount } }", json!({}), None).await;
    assert_eq!(
        categories["data"]["categories"],
        json!([{ "name": "garden", "productCount": 20 }, { "name": "kitchen", "productCount": 30 }])
    );
    let swapped = gql(&stack, PAGE, json!({ "filter": { "minPrice": 10, "maxPrice": 5 } }), Some(&customer)).await;
    assert_eq!(code(&swapped), "BAD_USER_INPUT", "{swapped}");
    let forged = gql(&stack, PAGE, json!({ "after": "bm90IGEgY3Vyc29y" }), Some(&customer)).await;
    assert_eq!(code(&forged), "BAD_USER_INPUT", "{forged}");
}

#[tokio::test]
async fn search_ranks_a_match_in_the_name_above_one_in_the_description() {
    let stack = spawn_stack(&SUBGRAPHS).await;
    let customer = token(&stack, Uuid::now_v7(), &["customer"]).await;
    let db = &stack.subgraph("products").rt.db;
    let mut tx = db.begin().await.expect("a transaction");
    let mut ids = Vec::new();
    for (sku, name, description) in [
        ("d-1", "Cutting board", "Made of walnut wood, oiled."),
        ("n-1", "Walnut cutting board", "End grain, 40 by 30 cm."),
        ("x-1", "Oak stool", "Three legs."),
    ] {
        let new = NewProduct {
            sku: sku.into(),
            name: name.into(),
            description: description.into(),
            price: Price { amount: 100, currency: "EUR".into() },
            status: Status::Active,
            categories: Vec::new(),
            images: Vec::new(),
            stock: 1,
        };
        ids.push(insert(&mut tx, &new).await.expect("inserts").id.to_string());
    }
    tx.commit().await.expect("commits");
    // The description-only match is the newer of the two, so a newest-first order would put it first.
    for search in ["walnut", "WALN", "walnut board!"] {
        let body = gql(&stack, PAGE, json!({ "filter": { "search": search } }), Some(&customer)).await;
        let found: Vec<&str> = body["data"]["products"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|e| e["node"]["id"].as_str().expect("an id"))
            .collect();
        assert_eq!(found, [ids[1].as_str(), ids[0].as_str()], "{search}: {body}");
    }
}
