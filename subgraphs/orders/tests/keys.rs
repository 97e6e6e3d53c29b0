//! Idempotency keys in the database: one order per user and key, until the key is 24 hours old.

use chrono::{Duration, Utc};
use tessera_orders::store::keys::{self, Claim};
use uuid::Uuid;

#[tokio::test]
async fn a_key_names_its_order_until_it_expires_then_it_can_be_claimed_again() {
    let test = tessera_testkit::fresh_db("orders_keys").await;
    test.db.migrate(&tessera_orders::MIGRATIONS).await.expect("migrates");
    let (user, first, second) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let now = Utc::now();
    let day_ago = now - Duration::hours(24);

    let mut tx = test.db.begin().await.expect("a transaction");
    assert!(matches!(keys::claim(&mut tx, user, "k", "fp", first, now, day_ago).await, Ok(Claim::Fresh)));
    tx.commit().await.expect("commits");

    let mut tx = test.db.begin().await.expect("a transaction");
    let again = keys::claim(&mut tx, user, "k", "fp2", second, now, day_ago).await.expect("claims");
    assert!(
        matches!(again, Claim::Taken { order_id, ref fingerprint } if order_id == first && fingerprint == "fp"),
        "{again:?}"
    );
    tx.rollback().await.expect("rolls back");

    // A day later the same key is free: the claim takes it for the new order.
    let mut tx = test.db.begin().await.expect("a transaction");
    let later = now + Duration::hours(25);
    let fresh = keys::claim(&mut tx, user, "k", "fp2", second, later, later - Duration::hours(24)).await;
    assert!(matches!(fresh, Ok(Claim::Fresh)), "{fresh:?}");
    tx.commit().await.expect("commits");
    assert_eq!(keys::purge(&test.db, later).await.expect("purges"), 0, "the renewed key is not older than its new use");
    assert_eq!(keys::purge(&test.db, later + Duration::seconds(1)).await.expect("purges"), 1);
}
