use std::cell::Cell;

use weir_ir::Span;

/// Byte offset → line and column, by binary search over line starts.
/// Lowering asks for the spans of nested nodes one after the other, mostly
/// on the line asked last, so that line is tried first.
pub struct LineIndex {
    starts: Vec<u32>,
    last: Cell<usize>,
}

impl LineIndex {
    pub fn new(source: &str) -> Self {
        let mut starts = Vec::with_capacity(source.len() / 32 + 1);
        starts.push(0);
        starts.extend(
            memchr::memchr_iter(b'\n', source.as_bytes())
                .map(|i| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        );
        Self {
            starts,
            last: Cell::new(0),
        }
    }

    pub fn line_count(&self) -> u32 {
        u32::try_from(self.starts.len()).unwrap_or(u32::MAX)
    }

    /// 0-based index of the line holding `offset`.
    fn line_index(&self, offset: u32) -> usize {
        let last = self.last.get();
        let on_last = self.starts[last] <= offset
            && self.starts.get(last + 1).is_none_or(|&next| offset < next);
        if on_last {
            return last;
        }
        let idx = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        self.last.set(idx);
        idx
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: u32) -> u32 {
        u32::try_from(self.line_index(offset) + 1).unwrap_or(u32::MAX)
    }

    pub fn span(&self, start: u32, end: u32) -> Span {
        let idx = self.line_index(start);
        let col = start - self.starts[idx] + 1;
        let end_line = self.line(end.saturating_sub(1).max(start));
        Span {
            start,
            end,
            line: u32::try_from(idx + 1).unwrap_or(u32::MAX),
            col,
            end_line,
        }
    }
}
