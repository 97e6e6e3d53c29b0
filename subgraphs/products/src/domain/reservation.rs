//! A stock reservation's lines: the kit's item lines (shared with orders), within the bounds
//! one reservation may hold.

use tessera_kit::lines::Bounds;
pub use tessera_kit::lines::Items;

/// At most 100 lines, 10 000 units a line: wider than an order's, so any order fits.
pub const BOUNDS: Bounds = Bounds { noun: "A reservation", lines: 100, quantity: 10_000 };
