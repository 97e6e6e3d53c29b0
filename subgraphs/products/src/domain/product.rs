//! A product's fields and the rules each one keeps: what `createProduct` and `updateProduct`
//! accept, every bad field named in one answer.

use tessera_kit::input::{has_control, https_url};

use super::{
    Problems, Status,
    money::{self, Price},
};

pub const SKU_MAX: usize = 64;
pub const NAME_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 5000;
pub const CATEGORIES_MAX: usize = 10;
pub const CATEGORY_MAX: usize = 40;
pub const IMAGES_MAX: usize = 10;
/// The most units one product may hold, so stock fits GraphQL's 32-bit `Int`.
pub const STOCK_MAX: i64 = i32::MAX as i64;

/// The fields of a product as the client sent them.
#[derive(Debug, Default, Clone)]
pub struct RawProduct {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<(i64, String)>,
    pub status: Option<Status>,
    pub categories: Option<Vec<String>>,
    pub images: Option<Vec<String>>,
}

/// Checked fields; `None` leaves a field as it is (an update) or takes its default (a creation).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fields {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<Price>,
    pub status: Option<Status>,
    pub categories: Option<Vec<String>>,
    pub images: Option<Vec<String>>,
}

impl Fields {
    /// Checks every field that is present, naming each bad one. `ARCHIVED` is refused here:
    /// archiving has its own mutation, which says what it does to listings and orders.
    pub fn parse(raw: RawProduct) -> Result<Self, Problems> {
        let mut p = Problems::default();
        let fields = Self {
            sku: raw.sku.and_then(|v| p.check("sku", sku(&v))),
            name: raw.name.and_then(|v| p.check("name", name(&v))),
            description: raw.description.and_then(|v| p.check("description", description(&v))),
            price: raw.price.and_then(|(amount, currency)| match money::price(amount, &currency) {
                Ok(price) => Some(price),
                Err(bad) => {
                    bad.into_iter().for_each(|(f, m)| p.add(&format!("price.{f}"), m));
                    None
                }
            }),
            status: raw.status.and_then(|s| {
                if s == Status::Archived {
                    p.add("status", "Archive a product with archiveProduct; here choose DRAFT or ACTIVE.");
                    None
                } else {
                    Some(s)
                }
            }),
            categories: raw.categories.and_then(|v| p.check("categories", categories(&v))),
            images: raw.images.and_then(|v| p.check("images", images(&v))),
        };
        p.or(fields)
    }

    /// The GraphQL names of the fields this change sets (for `ProductUpdated`).
    pub fn touched(&self) -> Vec<&'static str> {
        [
            ("sku", self.sku.is_some()),
            ("name", self.name.is_some()),
            ("description", self.description.is_some()),
            ("price", self.price.is_some()),
            ("status", self.status.is_some()),
            ("categories", self.categories.is_some()),
            ("images", self.images.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}

/// Letters, digits, `-`, `_` and `.`, upper-cased: SKUs are printed on labels and typed by
/// people, so `abc-1` and `ABC-1` must be the same SKU.
pub fn sku(raw: &str) -> Result<String, String> {
    let sku = raw.trim().to_ascii_uppercase();
    if sku.is_empty() || sku.len() > SKU_MAX {
        return Err(format!("A SKU is 1 to {SKU_MAX} characters."));
    }
    if !sku.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Err("A SKU holds only letters, digits, `-`, `_` and `.`.".into());
    }
    Ok(sku)
}

pub fn name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    let len = name.chars().count();
    if len == 0 || len > NAME_MAX {
        return Err(format!("A product name is 1 to {NAME_MAX} characters."));
    }
    if has_control(name, false) {
        return Err("A product name cannot hold control characters or line breaks.".into());
    }
    Ok(name.to_owned())
}

pub fn description(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.chars().count() > DESCRIPTION_MAX {
        return Err(format!("A description is at most {DESCRIPTION_MAX} characters."));
    }
    if has_control(text, true) {
        return Err("A description cannot hold control characters (line breaks are fine).".into());
    }
    Ok(text.to_owned())
}

/// Category slugs: lower-case letters, digits and `-`, each once, in the order given.
pub fn categories(raw: &[String]) -> Result<Vec<String>, String> {
    if raw.len() > CATEGORIES_MAX {
        return Err(format!("A product is in at most {CATEGORIES_MAX} categories."));
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for c in raw {
        let slug = category(c)?;
        if !out.contains(&slug) {
            out.push(slug);
        }
    }
    Ok(out)
}

pub fn category(raw: &str) -> Result<String, String> {
    let slug = raw.trim().to_lowercase();
    let ok = !slug.is_empty()
        && slug.len() <= CATEGORY_MAX
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(slug)
    } else {
        Err(format!("`{raw}` is not a category: use 1 to {CATEGORY_MAX} lower-case letters, digits and `-`."))
    }
}

pub fn images(raw: &[String]) -> Result<Vec<String>, String> {
    if raw.len() > IMAGES_MAX {
        return Err(format!("A product has at most {IMAGES_MAX} images."));
    }
    raw.iter().map(|u| https_url(u, "An image URL")).collect()
}

pub fn stock(quantity: i64) -> Result<i64, String> {
    if (0..=STOCK_MAX).contains(&quantity) { Ok(quantity) } else { Err(format!("Stock is 0 to {STOCK_MAX} units.")) }
}

/// The key a name sorts by: folded the same way on both backends (SQLite's `lower()` folds
/// only ASCII; PostgreSQL's follows the locale).
pub fn sort_key(name: &str) -> String {
    name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawProduct {
        RawProduct {
            sku: Some("pen-1".into()),
            name: Some(" Fountain pen ".into()),
            description: Some("Blue ink.\nRefillable.".into()),
            price: Some((1250, "eur".into())),
            status: Some(Status::Active),
            categories: Some(vec!["Stationery".into(), "stationery".into(), "pens".into()]),
            images: Some(vec!["https://cdn.example.com/pen.png".into()]),
        }
    }

    #[test]
    fn a_good_product_is_normalized() {
        let f = Fields::parse(raw()).expect("valid");
        assert_eq!(f.sku.as_deref(), Some("PEN-1"));
        assert_eq!(f.name.as_deref(), Some("Fountain pen"));
        assert_eq!(f.price, Some(Price { amount: 1250, currency: "EUR".into() }));
        assert_eq!(f.categories, Some(vec!["stationery".to_owned(), "pens".to_owned()]));
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let bad = RawProduct {
            sku: Some("no spaces".into()),
            name: Some("x".repeat(NAME_MAX + 1)),
            description: Some("bell\u{7}".into()),
            price: Some((-5, "EURO".into())),
            status: Some(Status::Archived),
            categories: Some(vec!["Not a slug!".into()]),
            images: Some(vec!["http://cdn.example.com/a.png".into()]),
        };
        let problems = Fields::parse(bad).expect_err("all bad");
        let names: Vec<&str> = problems.0.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            names,
            ["sku", "name", "description", "price.amount", "price.currency", "status", "categories", "images"]
        );
    }

    #[test]
    fn stock_is_bounded_and_never_negative() {
        assert_eq!(stock(0), Ok(0));
        assert!(stock(-1).is_err());
        assert!(stock(STOCK_MAX + 1).is_err());
    }

    #[test]
    fn touched_names_only_the_fields_sent() {
        let f = Fields::parse(RawProduct { name: Some("Pen".into()), ..Default::default() }).expect("valid");
        assert_eq!(f.touched(), ["name"]);
    }
}
