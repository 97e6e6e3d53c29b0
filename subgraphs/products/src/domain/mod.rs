//! The catalogue's rules, parsed once at the edge: a value of these types is valid.

pub mod listing;
pub mod money;
pub mod product;
pub mod reservation;
pub mod search;

pub use tessera_kit::input::Problems;

/// Where a product is in its life. Only `ACTIVE` products are listed to customers and can be
/// reserved; an `ARCHIVED` one still resolves by id, because orders point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(name = "ProductStatus")]
pub enum Status {
    /// Being prepared: seen by admins only.
    Draft,
    /// On sale.
    Active,
    /// Withdrawn: not listed, not orderable, still resolvable for past orders.
    Archived,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "DRAFT",
            Status::Active => "ACTIVE",
            Status::Archived => "ARCHIVED",
        }
    }

    /// Reads a stored status; the column's CHECK allows no other value.
    pub fn from_db(s: &str) -> Self {
        match s {
            "DRAFT" => Status::Draft,
            "ARCHIVED" => Status::Archived,
            _ => Status::Active,
        }
    }
}
