//! A stock reservation as an order service asks for it: which products, how many of each.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Problems;

/// Most lines one reservation holds.
pub const ITEMS_MAX: usize = 100;
/// Most units of one product one reservation takes.
pub const QUANTITY_MAX: i64 = 10_000;

/// The lines of a reservation, sorted by product id: every transaction then takes the rows'
/// locks in the same order, so two reservations cannot deadlock on PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Items(Vec<(Uuid, i64)>);

impl Items {
    /// Checks each line, naming the bad ones by index (`items.2.quantity`).
    pub fn parse(lines: Vec<(Result<Uuid, String>, i64)>) -> Result<Self, Problems> {
        let mut p = Problems::default();
        if lines.is_empty() || lines.len() > ITEMS_MAX {
            p.add("items", format!("A reservation holds 1 to {ITEMS_MAX} items."));
        }
        let mut items: Vec<(Uuid, i64)> = Vec::with_capacity(lines.len());
        for (i, (id, quantity)) in lines.into_iter().enumerate() {
            if !(1..=QUANTITY_MAX).contains(&quantity) {
                p.add(&format!("items.{i}.quantity"), format!("Reserve 1 to {QUANTITY_MAX} units of a product."));
            }
            match id {
                Err(m) => p.add(&format!("items.{i}.productId"), m),
                Ok(id) if items.iter().any(|(seen, _)| *seen == id) => p.add(
                    &format!("items.{i}.productId"),
                    "This product is already on an earlier line: send each product once, with its total quantity.",
                ),
                Ok(id) => items.push((id, quantity)),
            }
        }
        items.sort_unstable();
        p.or(Self(items))
    }

    pub fn lines(&self) -> &[(Uuid, i64)] {
        &self.0
    }

    /// A digest of the lines, which a retry with the same reservation id must match.
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        for (id, quantity) in &self.0 {
            hash.update(id.as_bytes());
            hash.update(quantity.to_be_bytes());
        }
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_sorted_so_the_fingerprint_ignores_their_order() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let one = Items::parse(vec![(Ok(b), 2), (Ok(a), 1)]).expect("valid");
        let two = Items::parse(vec![(Ok(a), 1), (Ok(b), 2)]).expect("valid");
        assert_eq!(one.lines(), two.lines());
        assert_eq!(one.fingerprint(), two.fingerprint());
        assert_ne!(one.fingerprint(), Items::parse(vec![(Ok(a), 1), (Ok(b), 3)]).expect("valid").fingerprint());
    }

    #[test]
    fn bad_lines_are_named_by_index() {
        let a = Uuid::now_v7();
        let p = Items::parse(vec![(Ok(a), 0), (Ok(a), 1), (Err("bad id".into()), 1)]).expect_err("bad");
        let names: Vec<&str> = p.0.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(names, ["items.0.quantity", "items.1.productId", "items.2.productId"]);
        assert!(Items::parse(vec![]).is_err());
    }
}
