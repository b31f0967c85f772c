//! A compact binary encoding of a lowered [`Module`], for the incremental
//! cache: the IR of a file is stored under the hash of its content, and a
//! later run decodes it instead of parsing and lowering the file again.
//!
//! Layout: [`MAGIC`], one [`VERSION`] byte, then the module. Lengths and
//! `u32`/`u64`/`usize` values are LEB128 varints (little-endian groups of
//! seven bits), `i64` values are zigzagged first. A string is its length
//! and UTF-8 bytes the first time, and a reference to that first time after
//! (identifiers and qualified names repeat). Enum variants are one tag
//! byte; an `Option` is a 0/1 byte before the value. A span is written
//! relative to the span written before it (most spans are near the previous
//! one): the start and line as zigzagged differences from the previous start
//! and line, the end and end line as differences from the start and line,
//! the column as is. The differences wrap (`u32` arithmetic), so any span
//! round-trips.
//!
//! Every IR type has one `write_*`/`read_*` pair. The writers destructure
//! every struct exhaustively (`let Expr { kind, span } = expr;`) and match
//! every enum variant without a wildcard, so adding a field or a variant to
//! the IR does not compile until the codec handles it: the codec cannot drop
//! a new field silently. Bump [`VERSION`] with every change of the layout.
//!
//! Decoding treats its input as untrusted (a cache file may be truncated or
//! corrupt) and never panics on it: every read is bounds-checked, strings
//! are validated as UTF-8, tags and varints are checked, a length may not
//! promise more elements than bytes remain (every element takes at least
//! one byte), preallocation is capped at [`PREALLOC_CAP`] elements per
//! sequence, string references copy a bounded number of bytes
//! ([`REFERENCE_BUDGET`]), recursion is limited to [`MAX_NESTING`] nested
//! expressions and statements, function and class ids must index the
//! module's tables, and bytes after the module are an error. Any
//! [`DecodeError`] means "not in the cache": lower the file again.

use std::collections::hash_map::Entry;
use std::fmt;

use rustc_hash::FxHashMap;

use crate::expr::{
    Arg, ArgSpread, Call, ClauseKind, CollectionKind, CompClause, Compare, Comprehension, Expr,
    ExprKind, Literal, Operator, Template,
};
use crate::imports::{Import, ImportTable};
use crate::module::{
    Class, Comment, Function, FunctionKind, Language, Module, Param, ParamKind, SourceDiagnostic,
};
use crate::span::Span;
use crate::stmt::{Block, Handler, Loop, LoopKind, Stmt, StmtKind, WithItem};

/// The first bytes of every encoded module.
pub const MAGIC: &[u8; 4] = b"WEIR";

/// The layout version, the byte after [`MAGIC`]. The cache key also
/// includes the weir binary itself, so a layout change already misses the
/// cache; the version is a second guard, and must still be bumped whenever
/// the layout (any IR type) changes.
pub const VERSION: u8 = 2;

/// The deepest nesting of expressions and statements (counted together,
/// within one function or class body) the decoder accepts. Lowering cuts
/// nesting at `weir_lang::python::MAX_DEPTH` (200) source levels, but some
/// constructs nest deeper in the IR than in the source: an `elif` chain
/// becomes nested `If` statements and `a and b and c` a left-nested chain of
/// `Binary` expressions, one level per link. The limit leaves room for long
/// chains of that kind; a module nested deeper still fails to decode (and is
/// lowered again), it never overflows the stack.
pub const MAX_NESTING: u32 = 2_000;

/// At most this many elements are preallocated for a sequence; longer ones
/// grow as their elements are decoded, so a hostile length cannot make the
/// decoder reserve memory the input does not back.
pub const PREALLOC_CAP: usize = 64;

/// References to strings may copy at most this many bytes per byte of the
/// input, plus [`REFERENCE_SLACK`]: a reference takes a byte or two but
/// copies its whole string, so a hostile input of repeated references to a
/// long string would otherwise decode into memory quadratic in its length.
/// Real modules copy far less (over 4,000 files of real code, at most 1.3
/// bytes per byte); a module over the budget is lowered again.
pub const REFERENCE_BUDGET: usize = 32;

/// See [`REFERENCE_BUDGET`].
pub const REFERENCE_SLACK: usize = 1 << 20;

/// Appends the encoding of `module` to `out`.
pub fn encode_module(module: &Module, out: &mut Vec<u8>) {
    let mut w = Writer {
        out,
        strings: FxHashMap::default(),
        last: Span::default(),
    };
    w.out.extend_from_slice(MAGIC);
    w.u8(VERSION);
    write_module(&mut w, module);
}

/// Decodes a module written by [`encode_module`] (of the same [`VERSION`]).
pub fn decode_module(bytes: &[u8]) -> std::result::Result<Module, DecodeError> {
    let mut r = Reader::new(bytes);
    read_all(&mut r).map_err(|Fail| r.error)
}

fn read_all(r: &mut Reader) -> Result<Module> {
    if r.take(MAGIC.len())? != MAGIC {
        return Err(r.error_at(0, "not an encoded weir module (bad magic)"));
    }
    if r.u8()? != VERSION {
        return Err(r.error_at(MAGIC.len(), "unsupported format version"));
    }
    let module = read_module(r)?;
    if r.pos != r.bytes.len() {
        return Err(r.error("trailing bytes after the module"));
    }
    Ok(module)
}

/// Why a byte string is not an encoded module, and where decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    offset: usize,
    what: &'static str,
}

impl DecodeError {
    /// The byte offset of the item that failed to decode.
    pub fn offset(&self) -> usize {
        self.offset
    }

    pub fn what(&self) -> &'static str {
        self.what
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.offset)
    }
}

impl std::error::Error for DecodeError {}

/// Decoding failed; the reader holds what and where. Zero-sized, so the
/// readers' results fit in registers on the hot path.
#[derive(Debug)]
struct Fail;

type Result<T> = std::result::Result<T, Fail>;

// ---------------------------------------------------------------------------
// Primitives

struct Writer<'m> {
    out: &'m mut Vec<u8>,
    /// Each string written so far, by its index in order of first writing.
    strings: FxHashMap<&'m str, u32>,
    /// The span written last, which the next one is relative to.
    last: Span,
}

impl<'m> Writer<'m> {
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }

    fn bool(&mut self, v: bool) {
        self.out.push(u8::from(v));
    }

    #[allow(clippy::cast_possible_truncation)] // masked to seven bits first
    fn u64(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.push((v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    fn u32(&mut self, v: u32) {
        self.u64(u64::from(v));
    }

    fn usize(&mut self, v: usize) {
        // usize is at most 64 bits on every supported target.
        self.u64(v as u64);
    }

    #[allow(clippy::cast_sign_loss)] // zigzag: the bits are reinterpreted
    fn i64(&mut self, v: i64) {
        self.u64(((v << 1) ^ (v >> 63)) as u64);
    }

    /// A string the first time, as `len << 1` and its bytes; later as
    /// `index << 1 | 1`, the index of its first writing among the strings.
    fn str(&mut self, s: &'m str) {
        let next = u32::try_from(self.strings.len()).unwrap_or(u32::MAX);
        match self.strings.entry(s) {
            Entry::Occupied(seen) => {
                let index = u64::from(*seen.get());
                self.u64(index << 1 | 1);
            }
            Entry::Vacant(slot) => {
                slot.insert(next);
                self.usize(s.len() << 1);
                self.out.extend_from_slice(s.as_bytes());
            }
        }
    }

    fn span(&mut self, span: Span) {
        let Span {
            start,
            end,
            line,
            col,
            end_line,
        } = span;
        self.u32(zigzag32(start.wrapping_sub(self.last.start)));
        self.u32(end.wrapping_sub(start));
        self.u32(zigzag32(line.wrapping_sub(self.last.line)));
        self.u32(col);
        self.u32(end_line.wrapping_sub(line));
        self.last = span;
    }

    fn seq<'i, T>(&mut self, items: &'i [T], mut item: impl FnMut(&mut Self, &'i T)) {
        self.usize(items.len());
        for x in items {
            item(self, x);
        }
    }

    fn opt<'i, T: ?Sized>(&mut self, value: Option<&'i T>, item: impl FnOnce(&mut Self, &'i T)) {
        match value {
            None => self.u8(0),
            Some(x) => {
                self.u8(1);
                item(self, x);
            }
        }
    }

    fn opt_str(&mut self, value: Option<&'m str>) {
        self.opt(value, Writer::str);
    }
}

/// A difference of two `u32` (wrapped) as a small unsigned number: 0, -1,
/// 1, -2… become 0, 1, 2, 3…
#[allow(clippy::cast_possible_wrap, clippy::cast_sign_loss)] // bits reinterpreted
fn zigzag32(delta: u32) -> u32 {
    let d = delta as i32;
    ((d << 1) ^ (d >> 31)) as u32
}

fn unzigzag32(v: u32) -> u32 {
    (v >> 1) ^ (v & 1).wrapping_neg()
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The span read last, which the next one is relative to.
    last: Span,
    /// The strings read so far, in order, for references to them.
    strings: Vec<&'a str>,
    /// How many more bytes references may copy (see [`REFERENCE_BUDGET`]).
    reference_budget: usize,
    /// Expressions and statements being decoded, nested.
    depth: u32,
    /// One more than the largest function id referenced (0 for none).
    func_refs: usize,
    /// One more than the largest class id referenced (0 for none).
    class_refs: usize,
    /// The first failure.
    error: DecodeError,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader {
            bytes,
            pos: 0,
            last: Span::default(),
            strings: Vec::new(),
            reference_budget: bytes
                .len()
                .saturating_mul(REFERENCE_BUDGET)
                .saturating_add(REFERENCE_SLACK),
            depth: 0,
            func_refs: 0,
            class_refs: 0,
            error: DecodeError {
                offset: 0,
                what: "no error",
            },
        }
    }

    fn error(&mut self, what: &'static str) -> Fail {
        self.error_at(self.pos, what)
    }

    fn error_at(&mut self, offset: usize, what: &'static str) -> Fail {
        self.error = DecodeError { offset, what };
        Fail
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        if len > self.remaining() {
            return Err(self.error("unexpected end of input"));
        }
        let bytes = &self.bytes[self.pos..self.pos + len];
        self.pos += len;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8> {
        let Some(&byte) = self.bytes.get(self.pos) else {
            return Err(self.error("unexpected end of input"));
        };
        self.pos += 1;
        Ok(byte)
    }

    fn bool(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.error_at(self.pos - 1, "invalid boolean")),
        }
    }

    #[inline]
    fn u64(&mut self) -> Result<u64> {
        // Most values are below 128: one byte.
        if let Some(&byte) = self.bytes.get(self.pos)
            && byte < 0x80
        {
            self.pos += 1;
            return Ok(u64::from(byte));
        }
        self.u64_long()
    }

    #[inline(never)]
    fn u64_long(&mut self) -> Result<u64> {
        let start = self.pos;
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err(self.error_at(start, "truncated varint"));
            };
            self.pos += 1;
            // The tenth group holds the 64th bit alone.
            if shift == 63 && byte > 1 {
                return Err(self.error_at(start, "varint overflows 64 bits"));
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
        }
    }

    fn u32(&mut self) -> Result<u32> {
        let start = self.pos;
        u32::try_from(self.u64()?).map_err(|_| self.error_at(start, "value overflows u32"))
    }

    fn usize(&mut self) -> Result<usize> {
        let start = self.pos;
        usize::try_from(self.u64()?).map_err(|_| self.error_at(start, "value overflows usize"))
    }

    #[allow(clippy::cast_possible_wrap)] // zigzag: the bits are reinterpreted
    fn i64(&mut self) -> Result<i64> {
        let v = self.u64()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// A length of a sequence or string: every element takes at least one
    /// byte, so it cannot exceed the bytes left.
    fn len(&mut self) -> Result<usize> {
        let start = self.pos;
        let len = self.usize()?;
        if len > self.remaining() {
            return Err(self.error_at(start, "length runs past the end of the input"));
        }
        Ok(len)
    }

    fn str(&mut self) -> Result<&'a str> {
        let start = self.pos;
        let v = self.u64()?;
        if v & 1 == 1 {
            let index = usize::try_from(v >> 1).unwrap_or(usize::MAX);
            let Some(&s) = self.strings.get(index) else {
                return Err(self.error_at(start, "string reference out of range"));
            };
            let Some(left) = self.reference_budget.checked_sub(s.len()) else {
                return Err(self.error_at(start, "string references copy too much"));
            };
            self.reference_budget = left;
            return Ok(s);
        }
        let len = usize::try_from(v >> 1).unwrap_or(usize::MAX);
        if len > self.remaining() {
            return Err(self.error_at(start, "length runs past the end of the input"));
        }
        let bytes = self.take(len)?;
        let s =
            std::str::from_utf8(bytes).map_err(|_| self.error_at(start, "string is not UTF-8"))?;
        self.strings.push(s);
        Ok(s)
    }

    fn string(&mut self) -> Result<String> {
        self.str().map(str::to_owned)
    }

    fn ident(&mut self) -> Result<crate::Ident> {
        self.str().map(crate::Ident::new)
    }

    fn span(&mut self) -> Result<Span> {
        // Most spans are five one-byte fields.
        if let Some(&[a, b, c, d, e]) = self.bytes.get(self.pos..self.pos + 5)
            && (a | b | c | d | e) < 0x80
        {
            self.pos += 5;
            let start = self.last.start.wrapping_add(unzigzag32(u32::from(a)));
            let line = self.last.line.wrapping_add(unzigzag32(u32::from(c)));
            let span = Span {
                start,
                end: start.wrapping_add(u32::from(b)),
                line,
                col: u32::from(d),
                end_line: line.wrapping_add(u32::from(e)),
            };
            self.last = span;
            return Ok(span);
        }
        let start = self.last.start.wrapping_add(unzigzag32(self.u32()?));
        let end = start.wrapping_add(self.u32()?);
        let line = self.last.line.wrapping_add(unzigzag32(self.u32()?));
        let col = self.u32()?;
        let end_line = line.wrapping_add(self.u32()?);
        let span = Span {
            start,
            end,
            line,
            col,
            end_line,
        };
        self.last = span;
        Ok(span)
    }

    fn seq<T>(&mut self, mut item: impl FnMut(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        let len = self.len()?;
        let mut out = Vec::with_capacity(len.min(PREALLOC_CAP));
        for _ in 0..len {
            out.push(item(self)?);
        }
        Ok(out)
    }

    fn opt<T>(&mut self, item: impl FnOnce(&mut Self) -> Result<T>) -> Result<Option<T>> {
        match self.u8()? {
            0 => Ok(None),
            1 => item(self).map(Some),
            _ => Err(self.error_at(self.pos - 1, "invalid option tag")),
        }
    }

    fn opt_string(&mut self) -> Result<Option<String>> {
        self.opt(Reader::string)
    }

    fn opt_ident(&mut self) -> Result<Option<crate::Ident>> {
        self.opt(Reader::ident)
    }

    fn func_ref(&mut self) -> Result<usize> {
        let id = self.usize()?;
        self.func_refs = self.func_refs.max(id.saturating_add(1));
        Ok(id)
    }

    fn class_ref(&mut self) -> Result<usize> {
        let id = self.usize()?;
        self.class_refs = self.class_refs.max(id.saturating_add(1));
        Ok(id)
    }

    fn enter(&mut self) -> Result<()> {
        if self.depth >= MAX_NESTING {
            return Err(self.error("nesting deeper than the decoder allows"));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }
}

/// The tag byte of each variant of a field-less enum, both ways. The
/// encoding side is an exhaustive match, so a new variant must be given a
/// tag here.
macro_rules! unit_enum {
    ($write:ident, $read:ident, $ty:ident, $what:literal, { $($variant:ident = $tag:literal),+ $(,)? }) => {
        fn $write(w: &mut Writer, v: $ty) {
            w.u8(match v {
                $($ty::$variant => $tag,)+
            });
        }

        fn $read(r: &mut Reader) -> Result<$ty> {
            match r.u8()? {
                $($tag => Ok($ty::$variant),)+
                _ => Err(r.error_at(r.pos - 1, concat!("unknown ", $what, " tag"))),
            }
        }
    };
}

unit_enum!(write_language, read_language, Language, "language", {
    Python = 0, TypeScript = 1, JavaScript = 2, Go = 3,
});
unit_enum!(write_function_kind, read_function_kind, FunctionKind, "function kind", {
    Module = 0, Function = 1, Method = 2,
});
unit_enum!(write_param_kind, read_param_kind, ParamKind, "parameter kind", {
    Positional = 0, VarPositional = 1, KeywordOnly = 2, VarKeyword = 3,
});
unit_enum!(write_collection_kind, read_collection_kind, CollectionKind, "collection kind", {
    List = 0, Tuple = 1, Set = 2, Dict = 3, Generator = 4,
});
unit_enum!(write_arg_spread, read_arg_spread, ArgSpread, "argument spread", {
    None = 0, Positional = 1, Keyword = 2,
});
unit_enum!(write_clause_kind, read_clause_kind, ClauseKind, "clause kind", {
    For = 0,
});
unit_enum!(write_loop_kind, read_loop_kind, LoopKind, "loop kind", {
    ForEach = 0, While = 1,
});
unit_enum!(write_operator, read_operator, Operator, "operator", {
    Add = 0, Sub = 1, Mul = 2, Div = 3, FloorDiv = 4, Mod = 5, Pow = 6, MatMul = 7,
    BitAnd = 8, BitOr = 9, BitXor = 10, Shl = 11, Shr = 12, And = 13, Or = 14, Not = 15,
    Neg = 16, Pos = 17, Invert = 18, Eq = 19, NotEq = 20, Lt = 21, LtE = 22, Gt = 23,
    GtE = 24, Is = 25, IsNot = 26, In = 27, NotIn = 28,
});

// ---------------------------------------------------------------------------
// Module level

fn write_module<'m>(w: &mut Writer<'m>, module: &'m Module) {
    let Module {
        path,
        name,
        language,
        line_count,
        imports,
        scope,
        functions,
        classes,
        comments,
        diagnostics,
        depth_cut,
    } = module;
    w.str(path);
    w.str(name);
    write_language(w, *language);
    w.u32(*line_count);
    w.seq(imports, write_import);
    write_scope(w, scope);
    w.seq(functions, write_function);
    w.seq(classes, write_class);
    w.seq(comments, write_comment);
    w.seq(diagnostics, write_diagnostic);
    w.opt(depth_cut.as_ref(), |w, s| w.span(*s));
}

fn read_module(r: &mut Reader) -> Result<Module> {
    let path = r.string()?;
    let name = r.string()?;
    let language = read_language(r)?;
    let line_count = r.u32()?;
    let imports = r.seq(read_import)?;
    let scope = read_scope(r)?;
    let start = r.pos;
    let functions = r.seq(read_function)?;
    if functions.iter().enumerate().any(|(i, f)| f.id != i) {
        return Err(r.error_at(start, "function id differs from its index"));
    }
    let start = r.pos;
    let classes = r.seq(read_class)?;
    if classes.iter().enumerate().any(|(i, c)| c.id != i) {
        return Err(r.error_at(start, "class id differs from its index"));
    }
    if r.func_refs > functions.len() {
        return Err(r.error("function id out of range"));
    }
    if r.class_refs > classes.len() {
        return Err(r.error("class id out of range"));
    }
    let comments = r.seq(read_comment)?;
    let diagnostics = r.seq(read_diagnostic)?;
    let depth_cut = r.opt(Reader::span)?;
    Ok(Module {
        path,
        name,
        language,
        line_count,
        imports,
        scope,
        functions,
        classes,
        comments,
        diagnostics,
        depth_cut,
    })
}

fn write_import<'m>(w: &mut Writer<'m>, import: &'m Import) {
    let Import {
        alias,
        target,
        span,
    } = import;
    w.str(alias);
    w.str(target);
    w.span(*span);
}

fn read_import(r: &mut Reader) -> Result<Import> {
    Ok(Import {
        alias: r.string()?,
        target: r.string()?,
        span: r.span()?,
    })
}

/// The bindings sorted by alias, so equal tables encode alike.
fn write_scope<'m>(w: &mut Writer<'m>, scope: &'m ImportTable) {
    let mut bindings: Vec<(&str, &str)> = scope.bindings().collect();
    bindings.sort_unstable_by_key(|&(alias, _)| alias);
    w.seq(&bindings, |w, &(alias, target)| {
        w.str(alias);
        w.str(target);
    });
}

fn read_scope(r: &mut Reader) -> Result<ImportTable> {
    let len = r.len()?;
    let mut scope = ImportTable::default();
    for _ in 0..len {
        let alias = r.str()?;
        let target = r.str()?;
        scope.bind(alias, target);
    }
    Ok(scope)
}

fn write_function<'m>(w: &mut Writer<'m>, function: &'m Function) {
    let Function {
        id,
        name,
        qualname,
        kind,
        parent,
        class,
        is_async,
        is_generator,
        decorators,
        params,
        returns,
        body,
        docstring,
        span,
    } = function;
    w.usize(*id);
    w.str(name);
    w.str(qualname);
    write_function_kind(w, *kind);
    w.opt(parent.as_ref(), |w, p| w.usize(*p));
    w.opt(class.as_ref(), |w, c| w.usize(*c));
    w.bool(*is_async);
    w.bool(*is_generator);
    w.seq(decorators, write_expr);
    w.seq(params, write_param);
    w.opt(returns.as_ref(), write_expr);
    write_block(w, body);
    w.opt_str(docstring.as_deref());
    w.span(*span);
}

fn read_function(r: &mut Reader) -> Result<Function> {
    Ok(Function {
        id: r.usize()?,
        name: r.string()?,
        qualname: r.string()?,
        kind: read_function_kind(r)?,
        parent: r.opt(Reader::func_ref)?,
        class: r.opt(Reader::class_ref)?,
        is_async: r.bool()?,
        is_generator: r.bool()?,
        decorators: r.seq(read_expr)?,
        params: r.seq(read_param)?,
        returns: r.opt(read_expr)?,
        body: read_block(r)?,
        docstring: r.opt_string()?,
        span: r.span()?,
    })
}

fn write_param<'m>(w: &mut Writer<'m>, param: &'m Param) {
    let Param {
        name,
        kind,
        annotation,
        default,
        span,
    } = param;
    w.str(name);
    write_param_kind(w, *kind);
    w.opt(annotation.as_ref(), write_expr);
    w.opt(default.as_ref(), write_expr);
    w.span(*span);
}

fn read_param(r: &mut Reader) -> Result<Param> {
    Ok(Param {
        name: r.string()?,
        kind: read_param_kind(r)?,
        annotation: r.opt(read_expr)?,
        default: r.opt(read_expr)?,
        span: r.span()?,
    })
}

fn write_class<'m>(w: &mut Writer<'m>, class: &'m Class) {
    let Class {
        id,
        name,
        qualname,
        bases,
        keywords,
        decorators,
        body,
        methods,
        span,
    } = class;
    w.usize(*id);
    w.str(name);
    w.str(qualname);
    w.seq(bases, write_expr);
    w.seq(keywords, write_arg);
    w.seq(decorators, write_expr);
    write_block(w, body);
    w.seq(methods, |w, m| w.usize(*m));
    w.span(*span);
}

fn read_class(r: &mut Reader) -> Result<Class> {
    Ok(Class {
        id: r.usize()?,
        name: r.string()?,
        qualname: r.string()?,
        bases: r.seq(read_expr)?,
        keywords: r.seq(read_arg)?,
        decorators: r.seq(read_expr)?,
        body: read_block(r)?,
        methods: r.seq(Reader::func_ref)?,
        span: r.span()?,
    })
}

fn write_comment<'m>(w: &mut Writer<'m>, comment: &'m Comment) {
    let Comment {
        line,
        text,
        trailing,
    } = comment;
    w.u32(*line);
    w.str(text);
    w.bool(*trailing);
}

fn read_comment(r: &mut Reader) -> Result<Comment> {
    Ok(Comment {
        line: r.u32()?,
        text: r.string()?,
        trailing: r.bool()?,
    })
}

fn write_diagnostic<'m>(w: &mut Writer<'m>, diagnostic: &'m SourceDiagnostic) {
    let SourceDiagnostic { message, span } = diagnostic;
    w.str(message);
    w.span(*span);
}

fn read_diagnostic(r: &mut Reader) -> Result<SourceDiagnostic> {
    Ok(SourceDiagnostic {
        message: r.string()?,
        span: r.span()?,
    })
}

// ---------------------------------------------------------------------------
// Statements

mod stmt_tag {
    pub const EXPR: u8 = 0;
    pub const ASSIGN: u8 = 1;
    pub const RETURN: u8 = 2;
    pub const RAISE: u8 = 3;
    pub const IF: u8 = 4;
    pub const LOOP: u8 = 5;
    pub const WITH: u8 = 6;
    pub const TRY: u8 = 7;
    pub const DEFER: u8 = 8;
    pub const SWITCH: u8 = 9;
    pub const FUNCTION_DEF: u8 = 10;
    pub const CLASS_DEF: u8 = 11;
    pub const DELETE: u8 = 12;
    pub const BREAK: u8 = 13;
    pub const CONTINUE: u8 = 14;
}

fn write_block<'m>(w: &mut Writer<'m>, block: &'m Block) {
    w.seq(block, write_stmt);
}

fn read_block(r: &mut Reader) -> Result<Block> {
    r.seq(read_stmt)
}

fn write_stmt<'m>(w: &mut Writer<'m>, stmt: &'m Stmt) {
    use stmt_tag as tag;
    let Stmt { kind, span } = stmt;
    match kind {
        StmtKind::Expr { value } => {
            w.u8(tag::EXPR);
            write_expr(w, value);
        }
        StmtKind::Assign {
            targets,
            value,
            annotation,
            op,
        } => {
            w.u8(tag::ASSIGN);
            w.seq(targets, write_expr);
            w.opt(value.as_ref(), write_expr);
            w.opt(annotation.as_deref(), write_expr);
            w.opt(op.as_ref(), |w, op| write_operator(w, *op));
        }
        StmtKind::Return { value } => {
            w.u8(tag::RETURN);
            w.opt(value.as_ref(), write_expr);
        }
        StmtKind::Raise { value } => {
            w.u8(tag::RAISE);
            w.opt(value.as_ref(), write_expr);
        }
        StmtKind::If { test, then, orelse } => {
            w.u8(tag::IF);
            write_expr(w, test);
            write_block(w, then);
            write_block(w, orelse);
        }
        StmtKind::Loop(lp) => {
            w.u8(tag::LOOP);
            write_loop(w, lp);
        }
        StmtKind::With {
            items,
            is_async,
            body,
        } => {
            w.u8(tag::WITH);
            w.seq(items, write_with_item);
            w.bool(*is_async);
            write_block(w, body);
        }
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finally,
        } => {
            w.u8(tag::TRY);
            write_block(w, body);
            w.seq(handlers, write_handler);
            write_block(w, orelse);
            write_block(w, finally);
        }
        StmtKind::Defer { call } => {
            w.u8(tag::DEFER);
            write_expr(w, call);
        }
        StmtKind::Switch { subject, cases } => {
            w.u8(tag::SWITCH);
            write_expr(w, subject);
            w.seq(cases, write_block);
        }
        StmtKind::FunctionDef { id } => {
            w.u8(tag::FUNCTION_DEF);
            w.usize(*id);
        }
        StmtKind::ClassDef { id } => {
            w.u8(tag::CLASS_DEF);
            w.usize(*id);
        }
        StmtKind::Delete { targets } => {
            w.u8(tag::DELETE);
            w.seq(targets, write_expr);
        }
        StmtKind::Break => w.u8(tag::BREAK),
        StmtKind::Continue => w.u8(tag::CONTINUE),
    }
    w.span(*span);
}

fn read_stmt(r: &mut Reader) -> Result<Stmt> {
    r.enter()?;
    let kind = read_stmt_kind(r)?;
    let span = r.span()?;
    r.leave();
    Ok(Stmt { kind, span })
}

fn read_stmt_kind(r: &mut Reader) -> Result<StmtKind> {
    use stmt_tag as tag;
    // One reader per variant, called through a pointer: the frame of
    // this function stays small even in debug builds, where a match
    // building every variant in place would hold all their temporaries
    // at each level of nesting.
    let read: fn(&mut Reader) -> Result<StmtKind> = match r.u8()? {
        tag::EXPR => read_stmt_expr,
        tag::ASSIGN => read_stmt_assign,
        tag::RETURN => read_stmt_return,
        tag::RAISE => read_stmt_raise,
        tag::IF => read_stmt_if,
        tag::LOOP => read_stmt_loop,
        tag::WITH => read_stmt_with,
        tag::TRY => read_stmt_try,
        tag::DEFER => read_stmt_defer,
        tag::SWITCH => read_stmt_switch,
        tag::FUNCTION_DEF => read_stmt_function_def,
        tag::CLASS_DEF => read_stmt_class_def,
        tag::DELETE => read_stmt_delete,
        tag::BREAK => read_stmt_break,
        tag::CONTINUE => read_stmt_continue,
        _ => return Err(r.error_at(r.pos - 1, "unknown statement tag")),
    };
    read(r)
}

fn read_stmt_expr(r: &mut Reader) -> Result<StmtKind> {
    Ok(StmtKind::Expr {
        value: read_expr(r)?,
    })
}

fn read_stmt_assign(r: &mut Reader) -> Result<StmtKind> {
    Ok(StmtKind::Assign {
        targets: r.seq(read_expr)?,
        value: r.opt(read_expr)?,
        annotation: r.opt(read_boxed_expr)?,
        op: r.opt(read_operator)?,
    })
}

fn read_stmt_return(r: &mut Reader) -> Result<StmtKind> {
    Ok(StmtKind::Return {
        value: r.opt(read_expr)?,
    })
}

fn read_stmt_raise(r: &mut Reader) -> Result<StmtKind> {
    Ok(StmtKind::Raise {
        value: r.opt(read_expr)?,
    })
}

fn read_stmt_if(r: &mut Reader) -> Result<StmtKind> {
    Ok(StmtKind::If {
        test: read_expr(r)?,
        then: read_block(r)?,
        orelse: read_block(r)?,
    })
}

fn read_stmt_loop(r: &mut Reader) -> Result<StmtKind> {
    Ok(StmtKind::Loop(Box::new(read_loop(r)?)))
}

fn read_stmt_with(r: &mut Reader) -> Result<StmtKind> {
    Ok(StmtKind::With {
        items: r.seq(read_with_item)?,
        is_async: r.bool()?,
        body: read_block(r)?,
    })
}

fn read_stmt_try(r: &mut Reader) -> Result<StmtKind> {
    Ok(StmtKind::Try {
        body: read_block(r)?,
        handlers: r.seq(read_handler)?,
        orelse: read_block(r)?,
        finally: read_block(r)?,
    })
}

fn read_stmt_defer(r: &mut Reader) -> Result<StmtKind> {
    Ok(StmtKind::Defer {
        call: read_expr(r)?,
    })
}

fn read_stmt_switch(r: &mut Reader) -> Result<StmtKind> {
    Ok(StmtKind::Switch {
        subject: read_expr(r)?,
        cases: r.seq(read_block)?,
    })
}

fn read_stmt_function_def(r: &mut Reader) -> Result<StmtKind> {
    Ok(StmtKind::FunctionDef { id: r.func_ref()? })
}

fn read_stmt_class_def(r: &mut Reader) -> Result<StmtKind> {
    Ok(StmtKind::ClassDef { id: r.class_ref()? })
}

fn read_stmt_delete(r: &mut Reader) -> Result<StmtKind> {
    Ok(StmtKind::Delete {
        targets: r.seq(read_expr)?,
    })
}

#[allow(clippy::unnecessary_wraps)] // the signature of every statement reader
fn read_stmt_break(_: &mut Reader) -> Result<StmtKind> {
    Ok(StmtKind::Break)
}

#[allow(clippy::unnecessary_wraps)]
fn read_stmt_continue(_: &mut Reader) -> Result<StmtKind> {
    Ok(StmtKind::Continue)
}

fn write_loop<'m>(w: &mut Writer<'m>, lp: &'m Loop) {
    let Loop {
        kind,
        is_async,
        target,
        iter,
        test,
        body,
        orelse,
    } = lp;
    write_loop_kind(w, *kind);
    w.bool(*is_async);
    w.opt(target.as_ref(), write_expr);
    w.opt(iter.as_ref(), write_expr);
    w.opt(test.as_ref(), write_expr);
    write_block(w, body);
    write_block(w, orelse);
}

fn read_loop(r: &mut Reader) -> Result<Loop> {
    Ok(Loop {
        kind: read_loop_kind(r)?,
        is_async: r.bool()?,
        target: r.opt(read_expr)?,
        iter: r.opt(read_expr)?,
        test: r.opt(read_expr)?,
        body: read_block(r)?,
        orelse: read_block(r)?,
    })
}

fn write_with_item<'m>(w: &mut Writer<'m>, item: &'m WithItem) {
    let WithItem { context, target } = item;
    write_expr(w, context);
    w.opt(target.as_ref(), write_expr);
}

fn read_with_item(r: &mut Reader) -> Result<WithItem> {
    Ok(WithItem {
        context: read_expr(r)?,
        target: r.opt(read_expr)?,
    })
}

fn write_handler<'m>(w: &mut Writer<'m>, handler: &'m Handler) {
    let Handler {
        types,
        name,
        body,
        span,
    } = handler;
    w.opt(types.as_ref(), write_expr);
    w.opt_str(name.as_deref());
    write_block(w, body);
    w.span(*span);
}

fn read_handler(r: &mut Reader) -> Result<Handler> {
    Ok(Handler {
        types: r.opt(read_expr)?,
        name: r.opt_string()?,
        body: read_block(r)?,
        span: r.span()?,
    })
}

// ---------------------------------------------------------------------------
// Expressions

mod expr_tag {
    pub const NAME: u8 = 0;
    pub const ATTRIBUTE: u8 = 1;
    pub const CALL: u8 = 2;
    pub const AWAIT: u8 = 3;
    pub const LITERAL: u8 = 4;
    pub const TEMPLATE: u8 = 5;
    pub const COLLECTION: u8 = 6;
    pub const DICT: u8 = 7;
    pub const COMPREHENSION: u8 = 8;
    pub const LAMBDA: u8 = 9;
    pub const BINARY: u8 = 10;
    pub const UNARY: u8 = 11;
    pub const COMPARE: u8 = 12;
    pub const SUBSCRIPT: u8 = 13;
    pub const CONDITIONAL: u8 = 14;
    pub const YIELD: u8 = 15;
    pub const SPREAD: u8 = 16;
    pub const ASSIGN_EXPR: u8 = 17;
    pub const OTHER: u8 = 18;
}

mod literal_tag {
    pub const STR: u8 = 0;
    pub const BYTES: u8 = 1;
    pub const INT: u8 = 2;
    pub const FLOAT: u8 = 3;
    pub const BOOL: u8 = 4;
    pub const NULL: u8 = 5;
    pub const ELLIPSIS: u8 = 6;
}

fn write_expr<'m>(w: &mut Writer<'m>, expr: &'m Expr) {
    use expr_tag as tag;
    let Expr { kind, span } = expr;
    match kind {
        ExprKind::Name { id } => {
            w.u8(tag::NAME);
            w.str(id);
        }
        ExprKind::Attribute { value, attr } => {
            w.u8(tag::ATTRIBUTE);
            write_expr(w, value);
            w.str(attr);
        }
        ExprKind::Call(call) => {
            w.u8(tag::CALL);
            write_call(w, call);
        }
        ExprKind::Await { value } => {
            w.u8(tag::AWAIT);
            write_expr(w, value);
        }
        ExprKind::Literal(literal) => {
            w.u8(tag::LITERAL);
            write_literal(w, literal);
        }
        ExprKind::Template(template) => {
            let Template { text, values } = template.as_ref();
            w.u8(tag::TEMPLATE);
            w.str(text);
            w.seq(values, write_expr);
        }
        ExprKind::Collection { kind, elements } => {
            w.u8(tag::COLLECTION);
            write_collection_kind(w, *kind);
            w.seq(elements, write_expr);
        }
        ExprKind::Dict { entries } => {
            w.u8(tag::DICT);
            w.seq(entries, |w, (key, value)| {
                w.opt(key.as_ref(), write_expr);
                write_expr(w, value);
            });
        }
        ExprKind::Comprehension(comprehension) => {
            let Comprehension {
                kind,
                element,
                clauses,
            } = comprehension.as_ref();
            w.u8(tag::COMPREHENSION);
            write_collection_kind(w, *kind);
            write_expr(w, element);
            w.seq(clauses, write_clause);
        }
        ExprKind::Lambda { params, body } => {
            w.u8(tag::LAMBDA);
            w.seq(params, write_param);
            write_expr(w, body);
        }
        ExprKind::Binary { op, left, right } => {
            w.u8(tag::BINARY);
            write_operator(w, *op);
            write_expr(w, left);
            write_expr(w, right);
        }
        ExprKind::Unary { op, operand } => {
            w.u8(tag::UNARY);
            write_operator(w, *op);
            write_expr(w, operand);
        }
        ExprKind::Compare(compare) => {
            let Compare {
                left,
                ops,
                comparators,
            } = compare.as_ref();
            w.u8(tag::COMPARE);
            write_expr(w, left);
            w.seq(ops, |w, op| write_operator(w, *op));
            w.seq(comparators, write_expr);
        }
        ExprKind::Subscript { value, index } => {
            w.u8(tag::SUBSCRIPT);
            write_expr(w, value);
            write_expr(w, index);
        }
        ExprKind::Conditional { test, body, orelse } => {
            w.u8(tag::CONDITIONAL);
            write_expr(w, test);
            write_expr(w, body);
            write_expr(w, orelse);
        }
        ExprKind::Yield { value, delegate } => {
            w.u8(tag::YIELD);
            w.opt(value.as_deref(), write_expr);
            w.bool(*delegate);
        }
        ExprKind::Spread { value } => {
            w.u8(tag::SPREAD);
            write_expr(w, value);
        }
        ExprKind::AssignExpr { target, value } => {
            w.u8(tag::ASSIGN_EXPR);
            write_expr(w, target);
            write_expr(w, value);
        }
        ExprKind::Other { children } => {
            w.u8(tag::OTHER);
            w.seq(children, write_expr);
        }
    }
    w.span(*span);
}

fn read_expr(r: &mut Reader) -> Result<Expr> {
    r.enter()?;
    let kind = read_expr_kind(r)?;
    let span = r.span()?;
    r.leave();
    Ok(Expr { kind, span })
}

fn read_boxed_expr(r: &mut Reader) -> Result<Box<Expr>> {
    read_expr(r).map(Box::new)
}

fn read_expr_kind(r: &mut Reader) -> Result<ExprKind> {
    use expr_tag as tag;
    // One reader per variant, called through a pointer: the frame of
    // this function stays small even in debug builds, where a match
    // building every variant in place would hold all their temporaries
    // at each level of nesting.
    let read: fn(&mut Reader) -> Result<ExprKind> = match r.u8()? {
        tag::NAME => read_expr_name,
        tag::ATTRIBUTE => read_expr_attribute,
        tag::CALL => read_expr_call,
        tag::AWAIT => read_expr_await,
        tag::LITERAL => read_expr_literal,
        tag::TEMPLATE => read_expr_template,
        tag::COLLECTION => read_expr_collection,
        tag::DICT => read_expr_dict,
        tag::COMPREHENSION => read_expr_comprehension,
        tag::LAMBDA => read_expr_lambda,
        tag::BINARY => read_expr_binary,
        tag::UNARY => read_expr_unary,
        tag::COMPARE => read_expr_compare,
        tag::SUBSCRIPT => read_expr_subscript,
        tag::CONDITIONAL => read_expr_conditional,
        tag::YIELD => read_expr_yield,
        tag::SPREAD => read_expr_spread,
        tag::ASSIGN_EXPR => read_expr_assign_expr,
        tag::OTHER => read_expr_other,
        _ => return Err(r.error_at(r.pos - 1, "unknown expression tag")),
    };
    read(r)
}

fn read_expr_name(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Name { id: r.ident()? })
}

fn read_expr_attribute(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Attribute {
        value: read_boxed_expr(r)?,
        attr: r.ident()?,
    })
}

fn read_expr_call(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Call(Box::new(read_call(r)?)))
}

fn read_expr_await(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Await {
        value: read_boxed_expr(r)?,
    })
}

fn read_expr_literal(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Literal(read_literal(r)?))
}

fn read_expr_template(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Template(Box::new(Template {
        text: r.string()?,
        values: r.seq(read_expr)?,
    })))
}

fn read_expr_collection(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Collection {
        kind: read_collection_kind(r)?,
        elements: r.seq(read_expr)?,
    })
}

fn read_expr_dict(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Dict {
        entries: r.seq(|r| Ok((r.opt(read_expr)?, read_expr(r)?)))?,
    })
}

fn read_expr_comprehension(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Comprehension(Box::new(Comprehension {
        kind: read_collection_kind(r)?,
        element: read_expr(r)?,
        clauses: r.seq(read_clause)?,
    })))
}

fn read_expr_lambda(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Lambda {
        params: r.seq(read_param)?,
        body: read_boxed_expr(r)?,
    })
}

fn read_expr_binary(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Binary {
        op: read_operator(r)?,
        left: read_boxed_expr(r)?,
        right: read_boxed_expr(r)?,
    })
}

fn read_expr_unary(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Unary {
        op: read_operator(r)?,
        operand: read_boxed_expr(r)?,
    })
}

fn read_expr_compare(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Compare(Box::new(Compare {
        left: read_expr(r)?,
        ops: r.seq(read_operator)?,
        comparators: r.seq(read_expr)?,
    })))
}

fn read_expr_subscript(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Subscript {
        value: read_boxed_expr(r)?,
        index: read_boxed_expr(r)?,
    })
}

fn read_expr_conditional(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Conditional {
        test: read_boxed_expr(r)?,
        body: read_boxed_expr(r)?,
        orelse: read_boxed_expr(r)?,
    })
}

fn read_expr_yield(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Yield {
        value: r.opt(read_boxed_expr)?,
        delegate: r.bool()?,
    })
}

fn read_expr_spread(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Spread {
        value: read_boxed_expr(r)?,
    })
}

fn read_expr_assign_expr(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::AssignExpr {
        target: read_boxed_expr(r)?,
        value: read_boxed_expr(r)?,
    })
}

fn read_expr_other(r: &mut Reader) -> Result<ExprKind> {
    Ok(ExprKind::Other {
        children: r.seq(read_expr)?,
    })
}

fn write_literal<'m>(w: &mut Writer<'m>, literal: &'m Literal) {
    use literal_tag as tag;
    match literal {
        Literal::Str(s) => {
            w.u8(tag::STR);
            w.str(s);
        }
        Literal::Bytes => w.u8(tag::BYTES),
        Literal::Int(i) => {
            w.u8(tag::INT);
            w.i64(*i);
        }
        Literal::Float => w.u8(tag::FLOAT),
        Literal::Bool(b) => {
            w.u8(tag::BOOL);
            w.bool(*b);
        }
        Literal::Null => w.u8(tag::NULL),
        Literal::Ellipsis => w.u8(tag::ELLIPSIS),
    }
}

fn read_literal(r: &mut Reader) -> Result<Literal> {
    use literal_tag as tag;
    Ok(match r.u8()? {
        tag::STR => Literal::Str(r.string()?),
        tag::BYTES => Literal::Bytes,
        tag::INT => Literal::Int(r.i64()?),
        tag::FLOAT => Literal::Float,
        tag::BOOL => Literal::Bool(r.bool()?),
        tag::NULL => Literal::Null,
        tag::ELLIPSIS => Literal::Ellipsis,
        _ => return Err(r.error_at(r.pos - 1, "unknown literal tag")),
    })
}

fn write_call<'m>(w: &mut Writer<'m>, call: &'m Call) {
    let Call {
        callee,
        qualified,
        args,
    } = call;
    write_expr(w, callee);
    w.opt_str(qualified.as_deref());
    w.seq(args, write_arg);
}

fn read_call(r: &mut Reader) -> Result<Call> {
    Ok(Call {
        callee: read_expr(r)?,
        qualified: r.opt_string()?,
        args: r.seq(read_arg)?,
    })
}

fn write_arg<'m>(w: &mut Writer<'m>, arg: &'m Arg) {
    let Arg {
        name,
        value,
        spread,
    } = arg;
    w.opt_str(name.as_deref());
    write_expr(w, value);
    write_arg_spread(w, *spread);
}

fn read_arg(r: &mut Reader) -> Result<Arg> {
    Ok(Arg {
        name: r.opt_ident()?,
        value: read_expr(r)?,
        spread: read_arg_spread(r)?,
    })
}

fn write_clause<'m>(w: &mut Writer<'m>, clause: &'m CompClause) {
    let CompClause {
        kind,
        target,
        iter,
        conditions,
        is_async,
    } = clause;
    write_clause_kind(w, *kind);
    write_expr(w, target);
    write_expr(w, iter);
    w.seq(conditions, write_expr);
    w.bool(*is_async);
}

fn read_clause(r: &mut Reader) -> Result<CompClause> {
    Ok(CompClause {
        kind: read_clause_kind(r)?,
        target: read_expr(r)?,
        iter: read_expr(r)?,
        conditions: r.seq(read_expr)?,
        is_async: r.bool()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer_bytes(f: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut Writer {
            out: &mut out,
            strings: FxHashMap::default(),
            last: Span::default(),
        });
        out
    }

    fn reader(bytes: &[u8]) -> Reader<'_> {
        Reader::new(bytes)
    }

    /// A valid encoding up to the first decorator of the first function,
    /// whose expression the caller appends.
    fn prefix_to_decorator() -> Vec<u8> {
        writer_bytes(|w| {
            w.out.extend_from_slice(MAGIC);
            w.u8(VERSION);
            w.str("app/x.py");
            w.str("app.x");
            write_language(w, Language::Python);
            w.u32(1);
            w.usize(0); // imports
            w.usize(0); // scope
            w.usize(1); // functions
            w.usize(0);
            w.str("<module>");
            w.str("<module>");
            write_function_kind(w, FunctionKind::Module);
            w.u8(0); // parent
            w.u8(0); // class
            w.bool(false);
            w.bool(false);
            w.usize(1); // decorators
        })
    }

    /// The rest of the module after the first function's decorators.
    fn suffix_after_decorators() -> Vec<u8> {
        writer_bytes(|w| {
            w.usize(0); // params
            w.u8(0); // returns
            w.usize(0); // body
            w.u8(0); // docstring
            w.span(Span::default());
            w.usize(0); // classes
            w.usize(0); // comments
            w.usize(0); // diagnostics
            w.u8(0); // depth_cut
        })
    }

    /// Runs `f` on a thread with a main thread's stack (8 MiB): the test
    /// harness's threads have 2 MiB, and debug builds take about 1.2 KiB of
    /// stack per level of nesting (release builds about 0.3 KiB).
    fn on_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap()
    }

    fn module_with_decorator(expr: &[u8]) -> Vec<u8> {
        let mut bytes = prefix_to_decorator();
        bytes.extend_from_slice(expr);
        bytes.extend(suffix_after_decorators());
        bytes
    }

    #[test]
    fn varints_round_trip_at_their_limits() {
        for v in [
            0,
            1,
            0x7f,
            0x80,
            0x3fff,
            0x4000,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let bytes = writer_bytes(|w| w.u64(v));
            let mut r = reader(&bytes);
            assert_eq!(r.u64().unwrap(), v);
            assert_eq!(r.pos, bytes.len());
        }
        for v in [0, 1, -1, 63, -64, 64, -65, i64::MIN, i64::MAX] {
            let bytes = writer_bytes(|w| w.i64(v));
            assert_eq!(reader(&bytes).i64().unwrap(), v);
        }
        assert_eq!(writer_bytes(|w| w.i64(-1)), [1]);
        assert_eq!(writer_bytes(|w| w.u64(u64::MAX)).len(), 10);
    }

    #[test]
    fn spans_round_trip_as_deltas_whatever_their_order() {
        let spans = [
            Span::default(),
            Span {
                start: 10,
                end: 20,
                line: 2,
                col: 4,
                end_line: 3,
            },
            Span {
                start: 5,
                end: 1,
                line: 1,
                col: 0,
                end_line: 0,
            },
            Span {
                start: u32::MAX,
                end: 0,
                line: u32::MAX,
                col: u32::MAX,
                end_line: 0,
            },
            Span {
                start: 0,
                end: u32::MAX,
                line: 0,
                col: 7,
                end_line: u32::MAX,
            },
        ];
        let bytes = writer_bytes(|w| spans.iter().for_each(|s| w.span(*s)));
        let mut r = reader(&bytes);
        for span in spans {
            assert_eq!(r.span().unwrap(), span);
        }
        assert_eq!(r.pos, bytes.len());
        // Nearby spans take a byte a field.
        let near = writer_bytes(|w| w.span(spans[1]));
        assert_eq!(near.len(), 5);
    }

    #[test]
    fn repeated_strings_are_references() {
        let bytes = writer_bytes(|w| {
            w.str("session");
            w.str("");
            w.str("session");
            w.str("");
        });
        assert_eq!(bytes, b"\x0esession\x00\x01\x03");
        let mut r = reader(&bytes);
        let read: Vec<&str> = (0..4).map(|_| r.str().unwrap()).collect();
        assert_eq!(read, ["session", "", "session", ""]);
    }

    #[test]
    fn varints_that_overflow_are_errors() {
        // Eleven continuation groups, and a tenth group above one bit.
        assert!(reader(&[0xff; 11]).u64().is_err());
        let mut ten = vec![0xff; 9];
        ten.push(0x02);
        assert!(reader(&ten).u64().is_err());
        assert!(reader(&[0x80, 0x80]).u64().is_err());
        let big = writer_bytes(|w| w.u64(u64::from(u32::MAX) + 1));
        assert!(reader(&big).u32().is_err());
    }

    #[test]
    fn the_test_prefix_is_a_valid_module() {
        let name = writer_bytes(|w| {
            w.u8(expr_tag::NAME);
            w.str("route");
            w.span(Span::default());
        });
        let module = decode_module(&module_with_decorator(&name)).unwrap();
        assert_eq!(module.functions[0].decorators[0].as_name(), Some("route"));
    }

    #[test]
    fn a_huge_length_prefix_is_an_error() {
        // A string's length, and a reference to a string never written.
        for (v, what) in [
            (u64::MAX - 1, "length runs past the end of the input"),
            (u64::MAX, "string reference out of range"),
            (1, "string reference out of range"),
        ] {
            let mut bytes = writer_bytes(|w| {
                w.out.extend_from_slice(MAGIC);
                w.u8(VERSION);
                w.u64(v);
            });
            bytes.extend_from_slice(b"app.py");
            let err = decode_module(&bytes).unwrap_err();
            assert_eq!((err.offset(), err.what()), (MAGIC.len() + 1, what));
        }

        // A sequence length, deeper in: the decorators of a function.
        let mut bytes = prefix_to_decorator();
        bytes.pop();
        bytes.extend(writer_bytes(|w| w.u64(u64::MAX)));
        bytes.extend(suffix_after_decorators());
        assert!(decode_module(&bytes).is_err());
    }

    #[test]
    fn references_cannot_copy_a_long_string_without_bound() {
        let long: &'static str = "a".repeat(100_000).leak();
        let name_ref = writer_bytes(|w| {
            w.u8(expr_tag::NAME);
            w.u64(1); // the first string: the path
            w.span(Span::default());
        });
        let module = |decorators: usize| {
            let mut bytes = writer_bytes(|w| {
                w.out.extend_from_slice(MAGIC);
                w.u8(VERSION);
                w.str(long);
                w.str("app.x");
                write_language(w, Language::Python);
                w.u32(1);
                w.usize(0); // imports
                w.usize(0); // scope
                w.usize(1); // functions
                w.usize(0);
                w.str("<module>");
                w.str("<module>");
                write_function_kind(w, FunctionKind::Module);
                w.u8(0); // parent
                w.u8(0); // class
                w.bool(false);
                w.bool(false);
                w.usize(decorators);
            });
            for _ in 0..decorators {
                bytes.extend(&name_ref);
            }
            bytes.extend(suffix_after_decorators());
            bytes
        };
        // A few copies are fine; a thousand copies of 100 KB from 107 KB of
        // input are not.
        assert!(decode_module(&module(3)).is_ok());
        assert_eq!(
            decode_module(&module(1000)).unwrap_err().what(),
            "string references copy too much"
        );
    }

    #[test]
    fn a_million_nested_awaits_are_an_error_not_a_stack_overflow() {
        // Every byte is the Await tag: each span field reads as 3, and the
        // awaited value is the next expression, nested ever deeper.
        let chain = vec![expr_tag::AWAIT; 1_000_000];
        let start = std::time::Instant::now();
        let bytes = module_with_decorator(&chain);
        let err = on_big_stack(move || decode_module(&bytes).unwrap_err());
        assert_eq!(err.what(), "nesting deeper than the decoder allows");
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn nesting_up_to_the_limit_decodes() {
        // MAX_NESTING - 1 awaits around a name: MAX_NESTING expressions.
        let mut expr = vec![expr_tag::AWAIT; MAX_NESTING as usize - 1];
        let name = writer_bytes(|w| {
            w.u8(expr_tag::NAME);
            w.str("x");
        });
        expr.extend(&name);
        for _ in 0..MAX_NESTING {
            expr.extend(writer_bytes(|w| w.span(Span::default())));
        }
        let bytes = module_with_decorator(&expr);
        let decoded = on_big_stack(move || decode_module(&bytes).map(|m| m.functions.len()));
        assert_eq!(decoded, Ok(1));

        let mut deeper = vec![expr_tag::AWAIT];
        deeper.extend(&expr);
        deeper.extend(writer_bytes(|w| w.span(Span::default())));
        let bytes = module_with_decorator(&deeper);
        let err = on_big_stack(move || decode_module(&bytes).unwrap_err());
        assert_eq!(err.what(), "nesting deeper than the decoder allows");
    }

    #[test]
    fn wrong_magic_version_and_trailing_bytes_are_errors() {
        let name = writer_bytes(|w| {
            w.u8(expr_tag::NAME);
            w.str("x");
            w.span(Span::default());
        });
        let good = module_with_decorator(&name);
        assert!(decode_module(&good).is_ok());

        let mut magic = good.clone();
        magic[0] = b'X';
        assert_eq!(decode_module(&magic).unwrap_err().offset(), 0);
        let mut version = good.clone();
        version[MAGIC.len()] = VERSION.wrapping_add(1);
        assert_eq!(
            decode_module(&version).unwrap_err().what(),
            "unsupported format version"
        );
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(
            decode_module(&trailing).unwrap_err().what(),
            "trailing bytes after the module"
        );
        assert!(decode_module(&[]).is_err());
        assert!(decode_module(MAGIC).is_err());
    }

    #[test]
    fn invalid_utf8_tags_and_booleans_are_errors() {
        let bad_utf8 = writer_bytes(|w| {
            w.u8(expr_tag::NAME);
            w.usize(2 << 1);
            w.u8(0xc3);
            w.u8(0x28);
            w.span(Span::default());
        });
        assert_eq!(
            decode_module(&module_with_decorator(&bad_utf8))
                .unwrap_err()
                .what(),
            "string is not UTF-8"
        );
        let unknown = writer_bytes(|w| {
            w.u8(200);
            w.span(Span::default());
        });
        assert_eq!(
            decode_module(&module_with_decorator(&unknown))
                .unwrap_err()
                .what(),
            "unknown expression tag"
        );
        let bool_two = writer_bytes(|w| {
            w.u8(expr_tag::LITERAL);
            w.u8(literal_tag::BOOL);
            w.u8(2);
            w.span(Span::default());
        });
        assert_eq!(
            decode_module(&module_with_decorator(&bool_two))
                .unwrap_err()
                .what(),
            "invalid boolean"
        );
    }

    #[test]
    fn ids_outside_the_module_tables_are_errors() {
        // A lambda's body cannot hold statements, so the reference goes in
        // the function's body instead: rebuild the tail by hand.
        let mut bytes = prefix_to_decorator();
        bytes.pop();
        bytes.extend(writer_bytes(|w| {
            w.usize(0); // decorators
            w.usize(0); // params
            w.u8(0); // returns
            w.usize(1); // body
            w.u8(stmt_tag::FUNCTION_DEF);
            w.usize(7);
            w.span(Span::default());
            w.u8(0); // docstring
            w.span(Span::default());
            w.usize(0); // classes
            w.usize(0); // comments
            w.usize(0); // diagnostics
            w.u8(0); // depth_cut
        }));
        assert_eq!(
            decode_module(&bytes).unwrap_err().what(),
            "function id out of range"
        );
    }
}
