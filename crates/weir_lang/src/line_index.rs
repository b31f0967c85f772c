use weir_ir::Span;

/// Byte offset → line and column, by binary search over line starts.
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(source: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            source
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        );
        Self { starts }
    }

    pub fn line_count(&self) -> u32 {
        u32::try_from(self.starts.len()).unwrap_or(u32::MAX)
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: u32) -> u32 {
        let idx = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        u32::try_from(idx + 1).unwrap_or(u32::MAX)
    }

    pub fn span(&self, start: u32, end: u32) -> Span {
        let line = self.line(start);
        let col = start - self.starts[(line - 1) as usize] + 1;
        let end_line = self.line(end.saturating_sub(1).max(start));
        Span {
            start,
            end,
            line,
            col,
            end_line,
        }
    }
}
