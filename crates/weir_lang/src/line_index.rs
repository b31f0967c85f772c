use std::cell::Cell;

use weir_ir::Span;

/// Byte offset → line and column, by binary search over line starts.
/// Lines end as Python's do: at `\n`, `\r\n` or a lone `\r` (old Mac files).
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
        let bytes = source.as_bytes();
        let at = |i: usize| u32::try_from(i + 1).unwrap_or(u32::MAX);
        if memchr::memchr(b'\r', bytes).is_none() {
            starts.extend(memchr::memchr_iter(b'\n', bytes).map(at));
        } else {
            starts.extend(
                memchr::memchr2_iter(b'\n', b'\r', bytes)
                    // `\r\n` is one break, after the `\n`.
                    .filter(|&i| !(bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n')))
                    .map(at),
            );
        }
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
        if self.starts[last] <= offset {
            // The line asked last, or the next one: lowering walks forward.
            if self.starts.get(last + 1).is_none_or(|&next| offset < next) {
                return last;
            }
            if self.starts.get(last + 2).is_none_or(|&next| offset < next) {
                self.last.set(last + 1);
                return last + 1;
            }
        }
        let idx = self.starts.partition_point(|&start| start <= offset) - 1;
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
        // The last line is searched from the first without moving the
        // remembered line, which the next node most likely starts on.
        let last_byte = end.saturating_sub(1).max(start);
        let after = &self.starts[idx + 1..];
        let end_idx = if after.first().is_none_or(|&next| last_byte < next) {
            idx
        } else {
            idx + after.partition_point(|&start| start <= last_byte)
        };
        Span {
            start,
            end,
            line: u32::try_from(idx + 1).unwrap_or(u32::MAX),
            col,
            end_line: u32::try_from(end_idx + 1).unwrap_or(u32::MAX),
        }
    }
}

/// The lines of a source text without their ends, split where Python
/// splits them: at `\n`, `\r\n` and a lone `\r` (`str::lines` keeps a
/// lone `\r` inside the line). Line `n` here is line `n + 1` of a [`Span`].
pub fn source_lines(source: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(source).filter(|s| !s.is_empty());
    std::iter::from_fn(move || {
        let text = rest?;
        if let Some(i) = memchr::memchr2(b'\n', b'\r', text.as_bytes()) {
            let end = if text[i..].starts_with("\r\n") {
                i + 2
            } else {
                i + 1
            };
            rest = Some(&text[end..]).filter(|r| !r.is_empty());
            Some(&text[..i])
        } else {
            rest = None;
            Some(text)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_python_line_end_breaks_a_line() {
        for source in [
            "a = 1\nb = 2\nc = 3\n",
            "a = 1\r\nb = 2\r\nc = 3\r\n",
            "a = 1\rb = 2\rc = 3\r",
            "a = 1\r\nb = 2\rc = 3\n",
        ] {
            let index = LineIndex::new(source);
            let c = u32::try_from(source.find('c').unwrap()).unwrap();
            let b = u32::try_from(source.find('b').unwrap()).unwrap();
            assert_eq!(index.line(b), 2, "{source:?}");
            assert_eq!(index.line(c), 3, "{source:?}");
            assert_eq!(index.span(c, c + 1).col, 1, "{source:?}");
            assert_eq!(
                source_lines(source).collect::<Vec<_>>(),
                ["a = 1", "b = 2", "c = 3"],
                "{source:?}"
            );
        }
        assert_eq!(source_lines("x\n\ny").collect::<Vec<_>>(), ["x", "", "y"]);
        assert_eq!(source_lines("").count(), 0);
    }

    /// Spans agree with counting line breaks, whatever order they are
    /// asked in (the index remembers the line asked last).
    #[test]
    fn spans_agree_with_counting_line_breaks() {
        fn naive(source: &str, offset: u32) -> (u32, u32) {
            let before = &source[..offset as usize];
            let mut line = 1;
            let mut line_start = 0;
            let bytes = before.as_bytes();
            for (i, &b) in bytes.iter().enumerate() {
                let breaks =
                    b == b'\n' || (b == b'\r' && source.as_bytes().get(i + 1) != Some(&b'\n'));
                if breaks {
                    line += 1;
                    line_start = i + 1;
                }
            }
            (line, offset - u32::try_from(line_start).unwrap() + 1)
        }
        for source in [
            "a = 1\nb = [\n  2,\n  3]\n\n\nc = f(\n)\n",
            "x\r\ny\rz\n\r\nlast",
            "one line",
            "\n\n\n",
        ] {
            let len = u32::try_from(source.len()).unwrap();
            let pairs: Vec<(u32, u32)> = (0..=len)
                .flat_map(|s| (s..=len).map(move |e| (s, e)))
                .collect();
            let index = LineIndex::new(source);
            // Forward, backward and leaping orders.
            let orders = [
                pairs.clone(),
                pairs.iter().rev().copied().collect(),
                pairs
                    .iter()
                    .step_by(7)
                    .chain(pairs.iter().step_by(3))
                    .copied()
                    .collect::<Vec<_>>(),
            ];
            for order in orders {
                for (start, end) in order {
                    let span = index.span(start, end);
                    let (line, col) = naive(source, start);
                    let (end_line, _) = naive(source, end.saturating_sub(1).max(start));
                    assert_eq!(
                        (span.line, span.col, span.end_line),
                        (line, col, end_line),
                        "{source:?} {start}..{end}"
                    );
                    assert_eq!(index.line(end), naive(source, end).0, "{source:?} {end}");
                }
            }
        }
    }
}
