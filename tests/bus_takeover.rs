//! A replica killed between receiving an event and acking it does not lose the event: a live
//! replica of the same consumer group takes it over once it has been idle long enough.
//! Runs against a private `redis-server` (skipped where none is installed).

use std::time::Duration;

use futures::StreamExt;
use tessera_kit::bus::{Bus, Event, RedisBus};
use tessera_testkit::redis_server::RedisServer;

#[tokio::test]
async fn an_event_a_dead_replica_received_and_never_acked_is_delivered_to_a_live_one() {
    let Some(server) = RedisServer::start().await else {
        eprintln!("redis-server is not installed: skipped");
        return;
    };
    let namespace = format!("takeover-{}", uuid::Uuid::now_v7().simple());
    let idle = Duration::from_millis(300);
    let producer = Bus::Redis(RedisBus::connect(&server.url(), &namespace).await.expect("connects"));
    let dying = Bus::Redis(RedisBus::connect_reclaiming(&server.url(), &namespace, idle).await.expect("connects"));

    let mut received = dying.events("notifications").await.expect("subscribes");
    let event = Event::new("ProfileUpdated", serde_json::json!({ "n": 1 }));
    producer.publish(&event).await.expect("publishes");
    let delivery = tokio::time::timeout(Duration::from_secs(5), received.next())
        .await
        .expect("the first replica receives it")
        .expect("a delivery");
    assert_eq!(delivery.event.id, event.id);
    // Killed here: neither applied nor acked, and it will never read again.
    drop(delivery);
    drop(received);
    drop(dying);

    let survivor = Bus::Redis(RedisBus::connect_reclaiming(&server.url(), &namespace, idle).await.expect("connects"));
    let mut taken = survivor.events("notifications").await.expect("subscribes");
    let delivery = tokio::time::timeout(Duration::from_secs(20), taken.next())
        .await
        .expect("the surviving replica takes the event over")
        .expect("a delivery");
    assert_eq!(delivery.event.id, event.id, "the same event, once");
    delivery.ack().await.expect("acks");

    // Acked now: nobody takes it over again.
    let again = tokio::time::timeout(Duration::from_secs(7), taken.next()).await;
    assert!(again.is_err(), "an acked event is not delivered again: {:?}", again.map(|d| d.map(|d| d.event.id)));
}
