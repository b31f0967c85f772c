//! Fuzz targets for the Python frontend and everything behind it: random
//! bytes, token soup, mutations of real snippets (the rule fixtures and the
//! example project), and randomly composed deep nesting. Each input is
//! lowered and audited; the IR must be well formed and the audit must end
//! without an internal error.

use std::sync::OnceLock;

use weir_audit::audit::{Selection, audit};
use weir_audit::report::WarningKind;
use weir_ir::visit::{walk_block_exprs, walk_expr, walk_stmts};
use weir_ir::{Module, Span};

use crate::harness::{Rng, fuzz, mutate, seed_files};

/// Tokens that make the parser and the lowering take their rarer paths.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    ".",
    ";",
    "=",
    ":=",
    "->",
    "**",
    "*",
    "@",
    "\\\n",
    "\n",
    "\n    ",
    "\n        ",
    "\t",
    "#",
    " # weir: ignore[QE-07] why\n",
    "\"",
    "'",
    "\"\"\"",
    "f\"{",
    "f'{x!r:>{w}}'",
    "}",
    "b'\\x00'",
    "r'\\'",
    "0x_1",
    "1e",
    "1_000",
    "...",
    "async ",
    "await ",
    "def ",
    "class ",
    "lambda ",
    "lambda x: ",
    "yield ",
    "yield from ",
    "return ",
    "for x in xs:",
    "async for x in xs:",
    "while True:",
    "with a as b:",
    "async with s() as t:",
    "try:",
    "except* E:",
    "except Exception as e:",
    "finally:",
    "else:",
    "elif x:",
    "if x:",
    "match x:",
    "case [a, *b]:",
    "case {'k': v}:",
    "import ",
    "from . import x",
    "from .. import *",
    "global x",
    "nonlocal x",
    "del x",
    "raise",
    "assert x, y",
    "pass",
    "break",
    "continue",
    "not ",
    " and ",
    " or ",
    " if x else ",
    " in ",
    " is not ",
    "session",
    "session.commit()",
    "session.execute(select(M))",
    "await session.get(M, i)",
    "db.query(M).filter(x).all()",
    "Model.objects.filter(a=1)",
    "time.sleep(1)",
    "open('f').read()",
    "requests.get(u)",
    "conn.cursor()",
    "create_engine(url)",
    "sessionmaker(bind=e)",
    "s += 'x'",
    "x: int = 1",
    "type X = int",
    "@decorator\n",
    "@app.get('/x')\n",
    "*args",
    "**kwargs",
    "print(*a, **k)",
    "x[1:2:3]",
    "x[...]",
    "{**a}",
    "[*a]",
    "{k: v for k, v in d}",
    "(x for x in y if z)",
    "\u{feff}",
    "é",
    "\u{2028}",
    "\r\n",
    "\r",
    "\x0c",
    "\0",
];

/// Python files to mutate: the rule fixtures and the example project.
fn corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let files = seed_files(&["../weir_audit/tests/fixtures/python", "../../examples"]);
        let corpus: Vec<Vec<u8>> = files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "py"))
            .map(|f| std::fs::read(f).expect("read corpus file"))
            .collect();
        assert!(corpus.len() > 10, "fuzz corpus missing");
        corpus
    })
}

fn check_span(span: Span, module: &Module, len: usize, what: &str) {
    let len = u32::try_from(len).unwrap();
    assert!(
        span.start <= span.end && span.end <= len,
        "{what}: span {span:?} outside 0..{len}"
    );
    assert!(
        span.line >= 1 && span.line <= span.end_line && span.end_line <= module.line_count,
        "{what}: lines of {span:?} outside 1..={}",
        module.line_count
    );
    assert!(span.col >= 1, "{what}: column of {span:?}");
}

/// The IR is well formed: ids index their tables, parents come first,
/// every span lies inside the file.
fn check_module(module: &Module, len: usize) {
    assert_eq!(module.functions.first().map(|f| f.id), Some(0));
    for (i, function) in module.functions.iter().enumerate() {
        assert_eq!(function.id, i);
        assert!(function.parent.is_none_or(|p| p < i), "parent after child");
        assert!(function.class.is_none_or(|c| c < module.classes.len()));
        check_span(function.span, module, len, "function");
        let mut exprs = Vec::new();
        for decorator in &function.decorators {
            walk_expr(decorator, &mut |e| exprs.push(e.span));
        }
        for param in &function.params {
            check_span(param.span, module, len, "parameter");
            for e in param.annotation.iter().chain(param.default.iter()) {
                walk_expr(e, &mut |e| exprs.push(e.span));
            }
        }
        walk_block_exprs(&function.body, &mut |e| exprs.push(e.span));
        walk_stmts(&function.body, &mut |s| exprs.push(s.span));
        for span in exprs {
            check_span(span, module, len, "node");
        }
    }
    for (i, class) in module.classes.iter().enumerate() {
        assert_eq!(class.id, i);
        assert!(class.methods.iter().all(|&m| m < module.functions.len()));
        check_span(class.span, module, len, "class");
    }
    for diagnostic in &module.diagnostics {
        check_span(diagnostic.span, module, len, "diagnostic");
    }
    for comment in &module.comments {
        assert!(comment.line >= 1 && comment.line <= module.line_count);
    }
}

/// Lowers and audits one input.
fn check_python(bytes: &[u8]) {
    let source = String::from_utf8_lossy(bytes);
    for path in ["app/api/routes.py", "app/tasks/__init__.py"] {
        let module = weir_lang::lower(path, &source).expect("lowering never fails on text");
        check_module(&module, source.len());
        let output = audit(std::slice::from_ref(&module), &Selection::default());
        let internal: Vec<_> = output
            .warnings
            .iter()
            .filter(|w| w.kind == WarningKind::InternalError)
            .collect();
        assert!(internal.is_empty(), "{internal:?}");
        for finding in &output.findings {
            assert!(
                finding.line >= 1 && finding.line <= module.line_count,
                "finding outside the file: {finding:?}"
            );
        }
    }
}

#[test]
fn python_random_bytes() {
    fuzz(
        "python_random_bytes",
        3_000,
        |rng| {
            let len = rng.below(400);
            (0..len)
                .map(|_| {
                    if rng.one_in(4) {
                        rng.byte()
                    } else {
                        rng.pick(b" \n\t()[]{}:.,=+-*/%'\"#\\@abcdefxyz0123456789_")
                    }
                })
                .collect()
        },
        check_python,
    );
}

#[test]
fn python_token_soup() {
    fuzz(
        "python_token_soup",
        3_000,
        |rng| {
            let mut out = String::new();
            for _ in 0..rng.below(120) {
                out.push_str(rng.pick(TOKENS));
                out.push_str(rng.pick(&["", " ", " ", "\n", "\n    ", "\n        "]));
            }
            out.into_bytes()
        },
        check_python,
    );
}

#[test]
fn python_mutated_snippets() {
    fuzz(
        "python_mutated_snippets",
        2_000,
        |rng| {
            let corpus = corpus();
            let seed = rng.pick_ref(corpus);
            let other = rng.pick_ref(corpus);
            mutate(rng, seed, other, TOKENS)
        },
        check_python,
    );
}

/// One expression nested about `depth` deep, of random shapes.
fn nested_expr(rng: &mut Rng, depth: usize, out: &mut String) {
    if depth == 0 {
        out.push_str(rng.pick(&["x", "1", "'s'", "session", "f()", "None"]));
        return;
    }
    let (open, close) = rng.pick(&[
        ("(", ")"),
        ("[", "]"),
        ("{", "}"),
        ("{1: ", "}"),
        ("f(", ")"),
        ("session.execute(", ")"),
        ("await ", ""),
        ("not ", ""),
        ("-", ""),
        ("lambda: ", ""),
        ("x + ", ""),
        ("", " * y"),
        ("", ".attr"),
        ("", ".m()"),
        ("", "[0]"),
        ("a if ", " else b"),
        ("[y for y in ", "]"),
        ("f'{", "}'"),
        ("(yield ", ")"),
        ("(z := ", ")"),
    ]);
    out.push_str(open);
    nested_expr(rng, depth - 1, out);
    out.push_str(close);
}

/// Statements nested `depth` deep, each level of a random kind, with an
/// expression (itself nested) at the bottom.
fn nested_blocks(rng: &mut Rng, depth: usize) -> String {
    let mut out = String::from("from sqlalchemy.orm import Session\nimport time\n");
    for level in 0..depth {
        out.push_str(&" ".repeat(level));
        out.push_str(rng.pick(&[
            "if x:",
            "for row in session.query(M):",
            "async for row in rows:",
            "while True:",
            "with session.begin():",
            "async with engine.connect() as conn:",
            "try:",
            "def f(session: Session):",
            "async def g():",
            "class C:",
            "match x:\n case 1:",
        ]));
        out.push('\n');
    }
    out.push_str(&" ".repeat(depth + 1));
    let bottom = rng.below(40);
    nested_expr(rng, bottom, &mut out);
    out.push('\n');
    out
}

#[test]
fn python_deep_nesting() {
    fuzz(
        "python_deep_nesting",
        300,
        |rng| {
            if rng.one_in(2) {
                let mut out = String::from("x = ");
                let depth = rng.below(600);
                nested_expr(rng, depth, &mut out);
                out.push('\n');
                out.into_bytes()
            } else {
                let depth = rng.below(300);
                nested_blocks(rng, depth).into_bytes()
            }
        },
        check_python,
    );
}
