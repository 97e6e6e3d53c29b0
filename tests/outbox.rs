//! The outbox and the idempotent consumer: an event committed while it cannot be published is
//! delivered once the way is clear, exactly once, and a redelivery changes nothing.
//!
//! The producer side is a bare outbox in a fresh database (auth's migrations); the consumer is
//! the real users subgraph, which creates a profile per `AccountRegistered`.

use serde_json::json;
use tessera_kit::{
    bus::{Bus, Event, outbox},
    db::Db,
};
use tessera_testkit::{TestStack, eventually, fresh_db, redis_server::RedisServer, spawn_subgraphs, test_bus};
use uuid::Uuid;

fn registered(user: Uuid) -> Event {
    Event::new("AccountRegistered", json!({ "userId": user, "username": "ada" }))
}

async fn commit_event(db: &Db, event: &Event) {
    let mut tx = db.begin().await.expect("begins");
    outbox::enqueue(&mut tx, event).await.expect("enqueues");
    tx.commit().await.expect("commits");
}

async fn profiles(stack: &TestStack) -> i64 {
    tessera_users::store::profile_count(&stack.subgraph("users").rt.db).await.expect("counts")
}

async fn inbox_rows(stack: &TestStack) -> i64 {
    let db = &stack.subgraph("users").rt.db;
    tessera_kit::on_db!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM inbox").fetch_one(pool).await)
        .expect("counts")
}

async fn producer(bus: &Bus) -> (tessera_testkit::TestDb, outbox::Relay) {
    let producer = fresh_db("producer").await;
    producer.db.migrate(&tessera_auth::MIGRATIONS).await.expect("migrates");
    let relay = outbox::Relay::new(producer.db.clone(), bus.clone());
    (producer, relay)
}

#[tokio::test]
async fn an_event_committed_while_the_relay_is_stopped_is_delivered_once_after_it_starts() {
    let bus = test_bus().await;
    let stack = spawn_subgraphs(&[tessera_users::SPEC], bus.clone()).await;
    let (producer, relay) = producer(&bus).await;

    let first = registered(Uuid::now_v7());
    commit_event(&producer.db, &first).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(profiles(&stack).await, 0, "nothing is published while the relay is stopped");
    assert_eq!(relay.pending().await.expect("counts"), 1);

    assert_eq!(relay.publish_due().await.expect("publishes"), 1);
    eventually("the profile is created", || async { profiles(&stack).await == 1 }).await;
    assert_eq!(relay.pending().await.expect("counts"), 0);
    assert_eq!(relay.publish_due().await.expect("nothing left"), 0, "a published row is not published again");

    // Redeliver the same event, then a new one. Events arrive in order, so once the second is
    // applied the duplicate has been seen, and ignored.
    bus.publish(&first).await.expect("redelivers");
    let second = registered(Uuid::now_v7());
    commit_event(&producer.db, &second).await;
    relay.publish_due().await.expect("publishes");
    eventually("the second profile is created", || async { profiles(&stack).await == 2 }).await;
    assert_eq!(inbox_rows(&stack).await, 2, "the duplicate was not recorded twice");
}

#[tokio::test]
async fn an_event_published_while_redis_is_down_is_delivered_once_after_it_returns() {
    let Some(mut redis) = RedisServer::start().await else {
        eprintln!("skipped: redis-server is not installed (.ci/run installs it)");
        return;
    };
    let bus = Bus::connect(Some(&redis.url()), "outage").await.expect("connects");
    let stack = spawn_subgraphs(&[tessera_users::SPEC], bus.clone()).await;
    let (producer, relay) = producer(&bus).await;

    redis.stop();
    let event = registered(Uuid::now_v7());
    commit_event(&producer.db, &event).await;
    assert_eq!(relay.publish_due().await.expect("a failed publish is not an error"), 0);
    assert_eq!(relay.pending().await.expect("counts"), 1, "the event stays in the outbox");

    assert!(redis.restart().await, "redis comes back");
    // The failed row is retried after its backoff (200 ms for the first retry).
    eventually("the relay publishes after the outage", || async { relay.publish_due().await.unwrap_or(0) == 1 }).await;
    eventually("the profile is created", || async { profiles(&stack).await == 1 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(profiles(&stack).await, 1);
    assert_eq!(inbox_rows(&stack).await, 1);
}

/// Counts every application. Unlike creating a profile, counting is not idempotent by itself,
/// so only the inbox can keep a redelivered event from being counted twice.
#[derive(Clone, Default)]
struct Counter(std::sync::Arc<std::sync::Mutex<Vec<Uuid>>>);

impl tessera_kit::bus::inbox::Handler for Counter {
    async fn handle(&self, event: &Event, _tx: &mut tessera_kit::db::Tx) -> anyhow::Result<()> {
        self.0.lock().expect("not poisoned").push(event.id);
        Ok(())
    }
}

#[tokio::test]
async fn a_redelivered_event_is_applied_once_even_by_a_handler_that_is_not_idempotent() {
    let bus = test_bus().await;
    let consumer_db = fresh_db("consumer").await;
    consumer_db.db.migrate(&tessera_users::MIGRATIONS).await.expect("migrates");
    let counter = Counter::default();
    let stop = tessera_kit::CancellationToken::new();
    tessera_kit::bus::inbox::spawn_consumer(&bus, consumer_db.db.clone(), "counter", counter.clone(), stop.clone())
        .await
        .expect("subscribes");

    let event = registered(Uuid::now_v7());
    bus.publish(&event).await.expect("publishes");
    bus.publish(&event).await.expect("redelivers");
    let marker = registered(Uuid::now_v7());
    bus.publish(&marker).await.expect("publishes");
    eventually("the marker is applied", || async { counter.0.lock().expect("not poisoned").contains(&marker.id) })
        .await;
    let applied = counter.0.lock().expect("not poisoned").clone();
    assert_eq!(applied, vec![event.id, marker.id], "the duplicate must not be applied");
    stop.cancel();
}

#[tokio::test]
async fn stopping_the_relay_flushes_events_committed_after_its_last_round() {
    let bus = test_bus().await;
    let (producer, relay) = producer(&bus).await;
    let stop = tessera_kit::CancellationToken::new();
    let running = tokio::spawn(relay.clone().run(stop.clone()));
    tokio::time::sleep(std::time::Duration::from_millis(50)).await; // its first round is done

    // Committed without a poke, then stopped at once: only the final flush can publish it.
    commit_event(&producer.db, &registered(Uuid::now_v7())).await;
    stop.cancel();
    running.await.expect("the relay stops");
    assert_eq!(relay.pending().await.expect("counts"), 0, "the shutdown flush published the event");
}
