//! Ending a reservation (commit, release or return), shared by the resolvers and the expiry sweep.

use tessera_kit::{Runtime, bus::outbox};
use uuid::Uuid;

use crate::{
    error::ProductsError,
    events,
    store::reservations::{self, Line, Outcome, Reservation, Settled},
};

/// Ends reservation `id` with `outcome` in its own transaction, emitting `StockChanged` for
/// each product whose stock moved back (a release, by a caller or the expiry sweep, or a return).
pub async fn end(
    rt: &Runtime,
    id: Uuid,
    outcome: Outcome,
    reason: &str,
) -> Result<(Reservation, Vec<Line>), ProductsError> {
    let mut tx = rt.db.begin().await?;
    match reservations::settle(&mut tx, id, outcome).await? {
        Settled::Done(reservation, lines, levels) => {
            if outcome.restocks() {
                for (line, (product, stock, reserved)) in lines.iter().zip(&levels) {
                    outbox::enqueue(
                        &mut tx,
                        &events::stock_changed(*product, line.quantity, reason, (*stock, *reserved)),
                    )
                    .await?;
                }
            }
            tx.commit().await?;
            rt.relay.poke();
            Ok((reservation, lines))
        }
        Settled::Already(reservation, lines) => {
            tx.rollback().await?;
            Ok((reservation, lines))
        }
        Settled::Refused(r) => {
            tx.rollback().await?;
            // Held past its expiry is only a refusal for a commit: the sweep is giving it back.
            let state = match r.visible_state() {
                "HELD" if outcome == Outcome::Commit => "EXPIRED".to_owned(),
                other => other.to_owned(),
            };
            Err(ProductsError::ReservationClosed { state })
        }
        Settled::NotFound => {
            tx.rollback().await?;
            Err(ProductsError::ReservationNotFound)
        }
    }
}
