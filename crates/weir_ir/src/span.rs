use serde::Serialize;

/// A source range. Byte offsets for code frames, and the 1-based line and
/// column of the start so rules and reports never need the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
    pub line: u32,
    pub col: u32,
    pub end_line: u32,
}

impl Span {
    /// Number of source lines the span covers (at least 1).
    pub fn line_count(&self) -> u32 {
        self.end_line.saturating_sub(self.line) + 1
    }

    pub fn contains(&self, other: &Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}
