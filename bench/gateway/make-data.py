#!/usr/bin/env python3
"""Writes data/*.json for the gateway benchmark: USERS users, PRODUCTS products, each user
reviewing REVIEWS_EACH products. The sizes are chosen so that queries/benchmark.graphql
answers about 90 KB, as the public benchmark's does."""
import json
import os

USERS, PRODUCTS, REVIEWS_EACH = 10, 9, 3
here = os.path.dirname(os.path.abspath(__file__))

users = [{"id": str(u), "name": f"User {u}", "username": f"user{u}", "birthday": 1_000_000 + u} for u in range(1, USERS + 1)]
products = [{"upc": str(p), "name": f"Product {p}", "price": 100 * p + 99, "weight": 10 * p} for p in range(1, PRODUCTS + 1)]
reviews = []
for u in range(1, USERS + 1):
    for k in range(REVIEWS_EACH):
        p = (u * REVIEWS_EACH + k) % PRODUCTS + 1
        reviews.append({"id": str(len(reviews) + 1), "body": f"Review {len(reviews) + 1} of product {p} by user {u}: solid, would buy again.", "author": u, "product": p})


def review_view(r):
    return {"id": r["id"], "body": r["body"], "author": {"id": str(r["author"]), "username": f"user{r['author']}"}, "product": {"upc": str(r["product"])}}


data = {
    "accounts": {"Query": {"users": users, "me": users[0]}, "entities": {"User": users}},
    "products": {"Query": {"topProducts": products[:5]}, "entities": {"Product": products}},
    "inventory": {
        "entities": {
            "Product": [
                {"upc": p["upc"], "inStock": int(p["upc"]) % 4 != 0, "shippingEstimate": p["weight"] // 2, "__requires": {"price": p["price"], "weight": p["weight"]}}
                for p in products
            ]
        }
    },
    "reviews": {
        "entities": {
            "User": [{"id": str(u), "reviews": [review_view(r) for r in reviews if r["author"] == u]} for u in range(1, USERS + 1)],
            "Product": [{"upc": str(p), "reviews": [review_view(r) for r in reviews if r["product"] == p]} for p in range(1, PRODUCTS + 1)],
            "Review": [review_view(r) for r in reviews],
        }
    },
}
for name, body in data.items():
    with open(os.path.join(here, "data", f"{name}.json"), "w") as f:
        json.dump(body, f, indent=1)
        f.write("\n")
print(f"{USERS} users, {PRODUCTS} products, {len(reviews)} reviews")
