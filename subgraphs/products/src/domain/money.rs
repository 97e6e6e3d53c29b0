//! Money: integer minor units and an ISO 4217 currency, so sums are exact.

use iso_currency::Currency;

/// The largest amount kept, so every amount fits GraphQL's 32-bit `Int`.
pub const AMOUNT_MAX: i64 = i32::MAX as i64;

/// A price: `amount` minor units (cents for EUR, yen for JPY) of `currency`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub amount: i64,
    pub currency: String,
}

/// An active ISO 4217 currency with a minor unit, in upper case. Funds, metals and the test
/// codes (`XAU`, `XTS`, `XXX`) have no minor unit and cannot price anything.
pub fn currency(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_ascii_uppercase();
    match Currency::from_code(&code) {
        Some(c) if c.exponent().is_some() => Ok(c.code().to_owned()),
        _ => Err(format!("`{raw}` is not an ISO 4217 currency: use a code such as EUR, USD or JPY.")),
    }
}

/// A price from its parts, naming each bad part (`amount`, `currency`).
pub fn price(amount: i64, raw_currency: &str) -> Result<Price, Vec<(&'static str, String)>> {
    let mut problems = Vec::new();
    if !(0..=AMOUNT_MAX).contains(&amount) {
        problems.push(("amount", format!("A price is 0 to {AMOUNT_MAX} minor units (cents): it cannot be negative.")));
    }
    let currency = currency(raw_currency).map_err(|m| problems.push(("currency", m))).ok();
    match currency {
        Some(currency) if problems.is_empty() => Ok(Price { amount, currency }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_iso_4217_codes_with_a_minor_unit() {
        assert_eq!(currency("eur").as_deref(), Ok("EUR"));
        assert_eq!(currency("JPY").as_deref(), Ok("JPY"));
        for bad in ["EURO", "ABC", "XAU", "XXX", ""] {
            assert!(currency(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn a_price_is_never_negative_and_names_each_bad_part() {
        assert_eq!(price(250, "EUR"), Ok(Price { amount: 250, currency: "EUR".into() }));
        let bad = price(-1, "NOPE").expect_err("both parts are bad");
        assert_eq!(bad.iter().map(|(f, _)| *f).collect::<Vec<_>>(), ["amount", "currency"]);
        assert!(price(AMOUNT_MAX + 1, "EUR").is_err());
    }
}
