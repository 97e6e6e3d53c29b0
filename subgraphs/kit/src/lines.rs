//! Item lines (which products, how many of each) as an order and its stock reservation carry
//! them: checked the same way in both subgraphs, and fingerprinted the same way, so a retry
//! can be told from a different request.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::input::Problems;

/// How many lines, and units a line, a list may hold; `noun` names the list in messages.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub noun: &'static str,
    pub lines: usize,
    pub quantity: i64,
}

/// Product lines sorted by product id: every transaction then takes the rows' locks in the
/// same order, so two reservations cannot deadlock on PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Items(Vec<(Uuid, i64)>);

impl Items {
    /// Checks each line, naming the bad ones by index (`items.2.quantity`).
    pub fn parse(lines: Vec<(Result<Uuid, String>, i64)>, bounds: Bounds) -> Result<Self, Problems> {
        let Bounds { noun, lines: most, quantity: most_units } = bounds;
        let mut p = Problems::default();
        if lines.is_empty() || lines.len() > most {
            p.add("items", format!("{noun} holds 1 to {most} items."));
        }
        let mut items: Vec<(Uuid, i64)> = Vec::with_capacity(lines.len().min(most + 1));
        for (i, (id, quantity)) in lines.into_iter().enumerate().take(most + 1) {
            if !(1..=most_units).contains(&quantity) {
                p.add(&format!("items.{i}.quantity"), format!("Order 1 to {most_units} units of a product."));
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

    const B: Bounds = Bounds { noun: "A test", lines: 3, quantity: 10 };

    #[test]
    fn lines_are_sorted_so_the_fingerprint_ignores_their_order() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let one = Items::parse(vec![(Ok(b), 2), (Ok(a), 1)], B).expect("valid");
        let two = Items::parse(vec![(Ok(a), 1), (Ok(b), 2)], B).expect("valid");
        assert_eq!(one.lines(), two.lines());
        assert_eq!(one.fingerprint(), two.fingerprint());
        assert_ne!(one.fingerprint(), Items::parse(vec![(Ok(a), 1), (Ok(b), 3)], B).expect("valid").fingerprint());
    }

    #[test]
    fn bad_lines_are_named_by_index() {
        let a = Uuid::now_v7();
        let p = Items::parse(vec![(Ok(a), 0), (Ok(a), 1), (Err("bad id".into()), 1)], B).expect_err("bad");
        let names: Vec<&str> = p.0.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(names, ["items.0.quantity", "items.1.productId", "items.2.productId"]);
        assert!(Items::parse(vec![], B).is_err());
        assert!(Items::parse(vec![(Ok(a), 11)], B).is_err(), "over the units a line may hold");
        let many = (0..1000).map(|_| (Ok(Uuid::now_v7()), 1)).collect();
        let p = Items::parse(many, B).expect_err("too many lines");
        assert!(p.0.len() <= 2, "a huge list is refused without one problem per line: {:?}", p.0);
    }
}
