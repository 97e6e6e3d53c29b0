//! A search as the catalogue runs it: words, never query syntax. The client's text is cut into
//! words here and each backend's query is written from those words alone, so no input can reach
//! FTS5's or `to_tsquery`'s own operators (a stray `"`, `NEAR`, `!` or `:` would be an error or
//! a different query).

/// Longest search text accepted, in characters.
pub const TEXT_MAX: usize = 200;
/// Most words a search keeps: each is one more index lookup.
pub const WORDS_MAX: usize = 8;

/// The words of a search, lower-cased; each of two characters or more matches as a prefix
/// ("foun" finds "fountain"). A one-letter word matches only itself: as a prefix it would
/// expand to a good part of the index, a cheap request that costs the database a lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms(Vec<String>);

impl Terms {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() > TEXT_MAX {
            return Err(format!("A search is at most {TEXT_MAX} characters."));
        }
        let words: Vec<String> = raw
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .take(WORDS_MAX)
            .collect();
        if words.is_empty() {
            return Err("Search for at least one word (letters or digits).".into());
        }
        Ok(Self(words))
    }

    fn prefix(w: &str) -> bool {
        w.chars().count() > 1
    }

    /// An FTS5 query: every word, quoted (quotes make each a plain string token), as a prefix.
    pub fn fts5(&self) -> String {
        let each = |w: &String| if Self::prefix(w) { format!("\"{w}\"*") } else { format!("\"{w}\"") };
        self.0.iter().map(each).collect::<Vec<_>>().join(" ")
    }

    /// The same query restricted to the name column, to rank name matches first.
    pub fn fts5_in_name(&self) -> String {
        format!("name : ({})", self.fts5())
    }

    /// A `to_tsquery` text: every word as a prefix, all required. Words hold only letters and
    /// digits, so none is read as an operator.
    pub fn tsquery(&self) -> String {
        let each = |w: &String| if Self::prefix(w) { format!("{w}:*") } else { w.clone() };
        self.0.iter().map(each).collect::<Vec<_>>().join(" & ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_syntax_in_the_text_is_only_ever_words() {
        let t = Terms::parse("\"blue\" NEAR(pen) -ink: !x*").expect("words");
        assert_eq!(t.fts5(), "\"blue\"* \"near\"* \"pen\"* \"ink\"* \"x\"");
        assert_eq!(t.tsquery(), "blue:* & near:* & pen:* & ink:* & x");
    }

    #[test]
    fn a_search_needs_a_word_and_is_bounded() {
        assert!(Terms::parse("  !!  ").is_err());
        assert!(Terms::parse(&"a".repeat(TEXT_MAX + 1)).is_err());
        assert_eq!(Terms::parse("a b c d e f g h i j").expect("words").0.len(), WORDS_MAX);
        assert_eq!(Terms::parse("Café").expect("words").0, ["café"]);
    }
}
