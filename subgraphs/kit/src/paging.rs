//! Relay connection arguments, read the same way by every list: `first` from 0 to 100 (20 when
//! left out), `after` a cursor this API handed out. Cursors are the row's UUIDv7, which orders by
//! creation and stays stable under inserts (keyset, not offset).

use uuid::Uuid;

use crate::ApiError;

/// The most rows one page may hold.
pub const MAX_PAGE: usize = 100;

/// One page request: how many rows, and the cursor to continue after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub first: usize,
    pub after: Option<Uuid>,
}

impl Page {
    /// Checks `first` and `after`; `noun` names the rows in the error ("users", "notifications").
    pub fn parse(first: Option<i32>, after: Option<&str>, noun: &str) -> Result<Self, ApiError> {
        let first = usize::try_from(first.unwrap_or(20))
            .ok()
            .filter(|n| *n <= MAX_PAGE)
            .ok_or_else(|| ApiError::bad_input("first", format!("Ask for 0 to {MAX_PAGE} {noun} a page.")))?;
        let after = after
            .map(|c| Uuid::parse_str(c).map_err(|_| ApiError::bad_input("after", "Not a cursor from this list.")))
            .transpose()?;
        Ok(Self { first, after })
    }

    /// Rows to fetch: one more than asked, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.first as i64 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_is_bounded_and_after_must_be_a_cursor() {
        assert_eq!(Page::parse(None, None, "rows").expect("defaults").first, 20);
        assert_eq!(Page::parse(Some(101), None, "rows").expect_err("too many").code, crate::ErrorCode::BadUserInput);
        assert!(Page::parse(Some(-1), None, "rows").is_err());
        assert!(Page::parse(None, Some("page-2"), "rows").is_err());
    }
}
