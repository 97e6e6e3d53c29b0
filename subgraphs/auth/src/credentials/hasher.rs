//! Password hashing: argon2id on threads of its own, never on the async runtime, with a cap on
//! hashes waiting. When the threads are busy and the queue is full a sign-in is shed at once
//! ([`Busy`]), so a login flood cannot queue into timeouts or starve cheap queries.
//!
//! The threads, one per hash allowed at once:
//! - keep their argon2 memory from one hash to the next ([`argon::Memory`]) and give it back,
//!   wiped, after [`IDLE`] without work;
//! - run at a lower scheduling priority (nice [`NICE`], Linux). Everything else in the process
//!   (HTTP, GraphQL, the database transaction a sign-in holds open) preempts them, and they
//!   still get every cycle nobody else wants. Without it a hash took the core from a
//!   transaction holding SQLite's write lock, and the other writers slept in SQLite's busy
//!   handler while a core stood idle (docs/performance.md, "Sign-in throughput");
//! - skip a job whose caller has gone (its client hung up), so abandoned logins cost no hash.

use std::{
    sync::{
        Arc, LazyLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use argon2::Params;
use tokio::sync::oneshot;

pub use super::argon::Verdict;
use super::argon::{self, Memory};

/// How long a hashing thread keeps its memory with nothing to do.
pub const IDLE: Duration = Duration::from_secs(30);

/// The hashing threads' nice value: below everything else in the process.
pub const NICE: i32 = 10;

/// `tessera_password_hashes_abandoned_total`: hashes skipped because the caller had gone.
pub static ABANDONED: LazyLock<prometheus::IntCounter> = LazyLock::new(|| {
    prometheus::IntCounter::new(
        "password_hashes_abandoned_total",
        "Password hashes skipped because the caller had gone before its turn",
    )
    .expect("a valid metric")
});

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

#[derive(Clone)]
pub struct Hasher {
    params: Params,
    jobs: flume::Sender<Job>,
    /// Callers admitted: hashing or waiting for a thread.
    admitted: Arc<AtomicUsize>,
    capacity: usize,
    abandoned: Arc<AtomicU64>,
    /// A hash of a random password, verified against when the identifier is unknown, so an
    /// unknown identifier costs as much time as a wrong password.
    dummy: Arc<String>,
}

/// Every thread and queue place is taken: try again shortly.
#[derive(Debug)]
pub struct Busy;

/// A place in line, given back when its hash is done or skipped.
pub struct Admission {
    admitted: Arc<AtomicUsize>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Hasher {
    /// Starts `concurrent` hashing threads; they stop when the last clone of the hasher drops.
    pub fn new(memory_kib: u32, iterations: u32, concurrent: usize, queue: usize) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        let dummy = argon::hash(&params, &mut Memory::default(), crate::domain::secret::token().as_bytes())?;
        let (jobs, queue_rx) = flume::unbounded::<Job>();
        let concurrent = concurrent.max(1);
        for i in 0..concurrent {
            let rx = queue_rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&rx))
                .map_err(|e| anyhow::anyhow!("cannot start a hashing thread: {e}"))?;
        }
        Ok(Self {
            params,
            jobs,
            admitted: Arc::new(AtomicUsize::new(0)),
            capacity: concurrent + queue,
            abandoned: Arc::new(AtomicU64::new(0)),
            dummy: Arc::new(dummy),
        })
    }

    /// Takes a place in line, or says [`Busy`] without waiting.
    pub fn admit(&self) -> Result<Admission, Busy> {
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        let admission = Admission { admitted: self.admitted.clone() };
        if before >= self.capacity { Err(Busy) } else { Ok(admission) }
    }

    /// Runs `f` on a hashing thread; `None` if the threads are gone. The admission is held
    /// until the job ends, so a caller that gives up cannot make room for more queued work.
    async fn run<T: Send + 'static>(
        &self,
        admission: Admission,
        f: impl FnOnce(&Params, &mut Memory) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        let (params, abandoned) = (self.params.clone(), self.abandoned.clone());
        let job: Job = Box::new(move |memory| {
            if tx.is_closed() {
                abandoned.fetch_add(1, Ordering::Relaxed);
                ABANDONED.inc();
                return;
            }
            let answer = f(&params, memory);
            // The place is free before the caller hears back, so it can take it again at once.
            drop(admission);
            let _ = tx.send(answer);
        });
        self.jobs.send(job).ok()?;
        rx.await.ok()
    }

    /// Hashes a (normalized) password into a PHC string.
    pub async fn hash(&self, admission: Admission, password: String) -> anyhow::Result<String> {
        self.run(admission, move |params, memory| argon::hash(params, memory, password.as_bytes()))
            .await
            .unwrap_or_else(|| Err(anyhow::anyhow!("the hashing threads have stopped")))
    }

    /// Checks a password against a stored hash; `None` verifies against the dummy hash and is
    /// always [`Verdict::Wrong`], after the same work.
    pub async fn verify(&self, admission: Admission, password: String, stored: Option<String>) -> Verdict {
        let known = stored.as_deref().is_some_and(|s| !s.is_empty());
        let stored = stored.filter(|s| !s.is_empty()).unwrap_or_else(|| self.dummy.as_str().to_owned());
        let verdict = self
            .run(admission, move |current, memory| argon::verify(current, memory, password.as_bytes(), &stored))
            .await
            .unwrap_or(Verdict::Wrong);
        if known { verdict } else { Verdict::Wrong }
    }

    #[cfg(test)]
    fn abandoned(&self) -> u64 {
        self.abandoned.load(Ordering::Relaxed)
    }
}

/// A hashing thread: jobs in turn, its memory kept between them and given back when idle.
fn work(jobs: &flume::Receiver<Job>) {
    lower_priority();
    let mut memory = Memory::default();
    loop {
        let job = match jobs.recv_timeout(IDLE) {
            Ok(job) => job,
            Err(flume::RecvTimeoutError::Timeout) => {
                memory.release();
                match jobs.recv() {
                    Ok(job) => job,
                    Err(_) => return,
                }
            }
            Err(flume::RecvTimeoutError::Disconnected) => return,
        };
        // A panicking job must not take a thread (and a hash slot) with it; its caller sees
        // its answer channel close.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut memory))).is_err() {
            memory.release();
        }
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // On Linux the nice value is a thread's own, and naming this thread's id changes only it.
    let me = Some(rustix::thread::gettid());
    let now = rustix::process::getpriority_process(me).unwrap_or(0);
    if let Err(e) = rustix::process::setpriority_process(me, (now + NICE).min(19)) {
        tracing::debug!(error = %e, "could not lower the hashing thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let h = Hasher::new(1024, 1, 2, 2).expect("valid parameters");
        let stored = h.hash(h.admit().expect("room"), "correct horse battery".into()).await.expect("hashes");
        assert!(stored.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        let verify =
            |password: &str, stored: Option<String>| h.verify(h.admit().expect("room"), password.into(), stored);
        assert_eq!(verify("correct horse battery", Some(stored.clone())).await, Verdict::Right);
        assert_eq!(verify("wrong horse battery", Some(stored)).await, Verdict::Wrong);
        assert_eq!(verify("anything", None).await, Verdict::Wrong);
        assert_eq!(verify("anything", Some(String::new())).await, Verdict::Wrong);
    }

    #[tokio::test]
    async fn a_hash_made_with_older_parameters_asks_for_a_rehash() {
        let old = Hasher::new(1024, 1, 1, 1).expect("valid");
        let stored = old.hash(old.admit().expect("room"), "correct horse battery".into()).await.expect("hashes");
        let new = Hasher::new(2048, 2, 1, 1).expect("valid");
        let verdict = new.verify(new.admit().expect("room"), "correct horse battery".into(), Some(stored)).await;
        assert_eq!(verdict, Verdict::RightButRehash);
    }

    #[test]
    fn callers_beyond_the_threads_and_the_queue_are_turned_away_at_once() {
        let h = Hasher::new(1024, 1, 1, 1).expect("valid");
        let first = h.admit().expect("a thread");
        let _second = h.admit().expect("a queue place");
        assert!(h.admit().is_err(), "full");
        drop(first);
        assert!(h.admit().is_ok(), "a place freed");
    }

    #[tokio::test]
    async fn a_caller_that_gives_up_in_the_queue_costs_no_hash_and_holds_its_place_until_its_turn() {
        let h = Hasher::new(1024, 1, 1, 1).expect("valid");
        // Hold the only thread until told.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = oneshot::channel();
        let blocker = tokio::spawn({
            let h = h.clone();
            let admission = h.admit().expect("a thread");
            async move {
                h.run(admission, move |_, _| {
                    let _ = started_tx.send(());
                    let _ = held.recv();
                })
                .await
            }
        });
        started.await.expect("the thread took the blocking job");
        let gave_up = tokio::time::timeout(
            Duration::from_millis(50),
            h.verify(h.admit().expect("a queue place"), "pw".into(), None),
        )
        .await;
        assert!(gave_up.is_err(), "still queued behind the blocking job");
        assert!(h.admit().is_err(), "the abandoned job keeps its place until its turn");
        release.send(()).expect("the blocking job waits");
        blocker.await.expect("joins").expect("ran");
        let stored = h.hash(h.admit().expect("room again"), "pw".into()).await.expect("hashes");
        assert!(stored.starts_with("$argon2id$"));
        assert_eq!(h.abandoned(), 1);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_below_the_rest_of_the_process() {
        let h = Hasher::new(1024, 1, 1, 1).expect("valid");
        let nice = h
            .run(h.admit().expect("room"), |_, _| rustix::process::getpriority_process(Some(rustix::thread::gettid())))
            .await
            .expect("ran")
            .expect("reads its priority");
        let ours = rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("reads");
        assert_eq!(nice, (ours + NICE).min(19));
    }
}
