//! Orders written straight into the orders subgraph's database, for tests and benches whose
//! subject is not checkout (reads, entities, exports): checkout's own tests place orders
//! through the router.

use tessera_kit::{
    db::{Db, Tx},
    on_tx,
};
use uuid::Uuid;

/// An order of `user` in `status` for `total_cents` EUR, with no lines; returns its id.
pub async fn insert_order_tx(tx: &mut Tx, user: Uuid, status: &str, total_cents: i64) -> Uuid {
    let id = Uuid::now_v7();
    let number = format!("ORD-T{}", &id.simple().to_string()[24..]);
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO orders (id, number, user_id, status, currency, subtotal_cents, total_cents, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'EUR', $5, $5, $6, $6)"
    )
    .bind(id)
    .bind(number)
    .bind(user)
    .bind(status)
    .bind(total_cents)
    .bind(chrono::Utc::now())
    .execute(c)
    .await
    .map(|_| ()))
    .expect("the order inserts");
    id
}

/// [`insert_order_tx`] in a transaction of its own.
pub async fn insert_order(db: &Db, user: Uuid, status: &str, total_cents: i64) -> Uuid {
    let mut tx = db.begin().await.expect("a transaction");
    let id = insert_order_tx(&mut tx, user, status, total_cents).await;
    tx.commit().await.expect("commits");
    id
}
