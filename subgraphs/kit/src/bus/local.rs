//! The in-process bus of `tessera dev` and of tests: every subgraph runs in one process, so a
//! channel per consumer group is all the transport needed. Unbounded, so a slow consumer delays
//! its own events but never loses them. A group receives what is published after it subscribed:
//! subgraphs register their consumers when built and start their relays only when run, so no
//! event is published before every consumer listens. Durability across restarts is the outbox's
//! job (an unpublished row stays pending), and Redis's in production.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use futures::{StreamExt, stream::BoxStream};
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

use super::{Ack, Delivery, Event, topics::TopicHub};

#[derive(Clone, Default)]
pub struct LocalBus {
    groups: Arc<Mutex<HashMap<String, mpsc::UnboundedSender<Event>>>>,
    /// Readers that see every event (not one per group): router replicas, for revocations.
    tails: Arc<Mutex<Vec<mpsc::UnboundedSender<Event>>>>,
    pub(super) topics: TopicHub,
}

impl LocalBus {
    pub(super) fn publish(&self, event: &Event) -> anyhow::Result<()> {
        let mut groups = self.groups.lock().expect("bus lock poisoned");
        groups.retain(|_, tx| !tx.is_closed());
        for tx in groups.values() {
            let _ = tx.send(event.clone());
        }
        let mut tails = self.tails.lock().expect("bus lock poisoned");
        tails.retain(|tx| tx.send(event.clone()).is_ok());
        Ok(())
    }

    pub(super) fn tail(&self) -> BoxStream<'static, Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.tails.lock().expect("bus lock poisoned").push(tx);
        UnboundedReceiverStream::new(rx).boxed()
    }

    pub(super) fn events(&self, group: &str) -> BoxStream<'static, Delivery> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.groups.lock().expect("bus lock poisoned").insert(group.to_owned(), tx);
        UnboundedReceiverStream::new(rx).map(|event| Delivery { event, ack: Ack::Local }).boxed()
    }
}
