//! Orders' rules: statuses and the moves between them, order numbers, idempotency keys, and
//! the bounds on what one order holds.

pub mod key;
pub mod number;
pub mod status;

pub use status::Status;
pub use tessera_kit::{input::Problems, lines::Items};

use tessera_kit::lines::Bounds;

/// At most 50 lines of 1 000 units each: a shop's basket, not a warehouse transfer.
pub const BOUNDS: Bounds = Bounds { noun: "An order", lines: 50, quantity: 1_000 };
