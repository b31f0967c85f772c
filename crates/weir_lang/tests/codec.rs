//! The binary IR codec (`weir_ir::codec`) over real lowered code: every
//! module round-trips exactly, and corrupt bytes are errors, never panics.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use weir_ir::codec::{MAX_NESTING, decode_module, encode_module};
use weir_ir::expr::CollectionKind;
use weir_ir::{
    Arg, ArgSpread, Call, Class, ClauseKind, Comment, CompClause, Compare, Comprehension, Expr,
    ExprKind, Function, FunctionKind, Handler, Import, ImportTable, Language, Literal, Loop,
    LoopKind, Module, Operator, Param, ParamKind, SourceDiagnostic, Span, Stmt, StmtKind, Template,
    WithItem,
};
use weir_lang::python::MAX_DEPTH;

/// The weir binary's allocator, so the measurement below compares lowering
/// and decoding as the binary runs them (both allocate the same IR).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn py_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            py_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

/// Lowers every readable `.py` file under `root`, named by its path there.
fn lower_tree(root: &Path) -> Vec<Module> {
    let mut files = Vec::new();
    py_files(root, &mut files);
    files
        .iter()
        .filter_map(|path| {
            let source = std::fs::read_to_string(path).ok()?;
            let rel = path.strip_prefix(root).unwrap().to_string_lossy();
            Some(weir_lang::lower(&rel.replace('\\', "/"), &source).unwrap())
        })
        .collect()
}

fn sorted_bindings(scope: &ImportTable) -> Vec<(String, String)> {
    let mut bindings: Vec<_> = scope
        .bindings()
        .map(|(a, t)| (a.to_owned(), t.to_owned()))
        .collect();
    bindings.sort();
    bindings
}

fn encode(module: &Module) -> Vec<u8> {
    let mut bytes = Vec::new();
    encode_module(module, &mut bytes);
    bytes
}

/// Encodes, decodes and compares everything, the import table (which the
/// JSON form skips) included; re-encoding gives the same bytes.
fn assert_round_trip(module: &Module) {
    let bytes = encode(module);
    let decoded = decode_module(&bytes).unwrap_or_else(|e| panic!("{}: {e}", module.path));
    assert_eq!(
        serde_json::to_value(&decoded).unwrap(),
        serde_json::to_value(module).unwrap(),
        "{}",
        module.path
    );
    assert_eq!(
        sorted_bindings(&decoded.scope),
        sorted_bindings(&module.scope),
        "{}",
        module.path
    );
    assert_eq!(encode(&decoded), bytes, "{}", module.path);
}

/// Runs `f` on a thread with the stack of weir's workers: deep nesting
/// takes more stack in debug builds than the test harness's 2 MiB.
fn on_worker_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn every_fixture_corpus_and_example_module_round_trips() {
    let root = repo_root();
    let mut count = 0;
    let mut scoped = 0;
    for dir in [
        "crates/weir_audit/tests/fixtures",
        "crates/weir_audit/tests/corpus",
        "examples/jobs-service",
    ] {
        let modules = lower_tree(&root.join(dir));
        assert!(!modules.is_empty(), "no Python files under {dir}");
        for module in &modules {
            assert_round_trip(module);
            scoped += usize::from(!module.scope.is_empty());
        }
        count += modules.len();
    }
    assert!(count > 300, "only {count} modules");
    assert!(scoped > 300, "only {scoped} modules with bindings");
}

#[test]
fn syntax_errors_round_trip_with_their_diagnostics() {
    let module = weir_lang::lower(
        "app/broken.py",
        "def handler(request:\n    x = = 1\nclass (:\n  pass\nprint('ok')\n",
    )
    .unwrap();
    assert!(!module.diagnostics.is_empty());
    assert_round_trip(&module);
}

#[test]
fn depth_cuts_round_trip_at_the_deepest_nesting_lowering_keeps() {
    on_worker_stack(|| {
        let depth = MAX_DEPTH as usize + 50;
        // Nested statements.
        let mut source = String::from("def f(x):\n");
        for level in 1..depth {
            source.push_str(&" ".repeat(level));
            source.push_str("if x:\n");
        }
        source.push_str(&" ".repeat(depth));
        source.push_str("return await (-(-(-x)))\n");
        let module = weir_lang::lower("app/deep.py", &source).unwrap();
        assert!(module.depth_cut.is_some());
        assert_round_trip(&module);
        // Nested expressions.
        let source = format!("x = {}1{}\n", "[".repeat(depth), "]".repeat(depth));
        let module = weir_lang::lower("app/deep_expr.py", &source).unwrap();
        assert!(module.depth_cut.is_some());
        assert_round_trip(&module);
        // Just below the cut.
        let depth = MAX_DEPTH as usize - 2;
        let source = format!("x = {}1{}\n", "[".repeat(depth), "]".repeat(depth));
        let module = weir_lang::lower("app/deep_ok.py", &source).unwrap();
        assert!(module.depth_cut.is_none());
        assert_round_trip(&module);
    });
}

/// `elif` chains and `and`/`or` chains nest one IR level per link, past
/// lowering's `MAX_DEPTH`: long ones still round-trip, and chains longer
/// than the decoder's limit are a decode error (the file is lowered again),
/// not a crash.
#[test]
fn long_elif_and_boolean_chains() {
    on_worker_stack(|| {
        let links = MAX_NESTING as usize / 2;
        let mut source = String::from("def route(kind):\n    if kind == 0:\n        return 0\n");
        for i in 1..links {
            writeln!(source, "    elif kind == {i}:\n        return {i}").unwrap();
        }
        let module = weir_lang::lower("app/dispatch.py", &source).unwrap();
        assert!(module.depth_cut.is_none());
        assert_round_trip(&module);

        let terms: Vec<String> = (0..links).map(|i| format!("flag_{i}")).collect();
        let source = format!("ready = {}\n", terms.join(" and "));
        let module = weir_lang::lower("app/flags.py", &source).unwrap();
        assert_round_trip(&module);

        let terms: Vec<String> = (0..MAX_NESTING * 2).map(|i| format!("f{i}")).collect();
        let source = format!("ready = {}\n", terms.join(" or "));
        let module = weir_lang::lower("app/flags.py", &source).unwrap();
        let err = decode_module(&encode(&module)).unwrap_err();
        assert_eq!(err.what(), "nesting deeper than the decoder allows");
    });
}

fn sp(n: u32) -> Span {
    Span {
        start: n,
        end: n.wrapping_mul(3).wrapping_add(u32::MAX / 2),
        line: n.wrapping_add(1),
        col: u32::MAX - n,
        end_line: n.wrapping_add(2),
    }
}

fn ex(kind: ExprKind, n: u32) -> Expr {
    Expr { kind, span: sp(n) }
}

fn name(id: &str) -> Expr {
    ex(ExprKind::Name { id: id.into() }, 7)
}

fn lit(literal: Literal) -> Expr {
    ex(ExprKind::Literal(literal), 11)
}

#[allow(clippy::unnecessary_box_returns)] // the IR boxes these children
fn b(expr: Expr) -> Box<Expr> {
    Box::new(expr)
}

fn st(kind: StmtKind, n: u32) -> Stmt {
    Stmt { kind, span: sp(n) }
}

const OPERATORS: [Operator; 29] = [
    Operator::Add,
    Operator::Sub,
    Operator::Mul,
    Operator::Div,
    Operator::FloorDiv,
    Operator::Mod,
    Operator::Pow,
    Operator::MatMul,
    Operator::BitAnd,
    Operator::BitOr,
    Operator::BitXor,
    Operator::Shl,
    Operator::Shr,
    Operator::And,
    Operator::Or,
    Operator::Not,
    Operator::Neg,
    Operator::Pos,
    Operator::Invert,
    Operator::Eq,
    Operator::NotEq,
    Operator::Lt,
    Operator::LtE,
    Operator::Gt,
    Operator::GtE,
    Operator::Is,
    Operator::IsNot,
    Operator::In,
    Operator::NotIn,
];

/// One of each expression kind, literal, operator and collection kind.
fn every_expression() -> Vec<Expr> {
    let param = |name: &str, kind| Param {
        name: name.into(),
        kind,
        annotation: Some(self::name("int")),
        default: None,
        span: sp(3),
    };
    let mut exprs = vec![
        name("ñame_日本"),
        name(""),
        ex(
            ExprKind::Attribute {
                value: b(name("self")),
                attr: "sessión".into(),
            },
            1,
        ),
        ex(
            ExprKind::Call(Box::new(Call {
                callee: name("f"),
                qualified: Some("pkg.f".into()),
                args: vec![
                    Arg {
                        name: None,
                        value: name("a"),
                        spread: ArgSpread::None,
                    },
                    Arg {
                        name: Some("k".into()),
                        value: name("b"),
                        spread: ArgSpread::Positional,
                    },
                    Arg {
                        name: None,
                        value: name("kw"),
                        spread: ArgSpread::Keyword,
                    },
                ],
            })),
            2,
        ),
        ex(
            ExprKind::Call(Box::new(Call {
                callee: name("g"),
                qualified: None,
                args: Vec::new(),
            })),
            2,
        ),
        ex(
            ExprKind::Await {
                value: b(name("x")),
            },
            4,
        ),
        lit(Literal::Str(String::new())),
        lit(Literal::Str("héllo 🦀 wörld".into())),
        lit(Literal::Bytes),
        lit(Literal::Int(0)),
        lit(Literal::Int(i64::MIN)),
        lit(Literal::Int(i64::MAX)),
        lit(Literal::Int(-1)),
        lit(Literal::Float),
        lit(Literal::Bool(true)),
        lit(Literal::Bool(false)),
        lit(Literal::Null),
        lit(Literal::Ellipsis),
        ex(
            ExprKind::Template(Box::new(Template {
                text: "id={} ✓".into(),
                values: vec![name("id")],
            })),
            5,
        ),
        ex(
            ExprKind::Dict {
                entries: vec![(Some(name("k")), name("v")), (None, name("rest"))],
            },
            6,
        ),
        ex(
            ExprKind::Comprehension(Box::new(Comprehension {
                kind: CollectionKind::Generator,
                element: name("j"),
                clauses: vec![CompClause {
                    kind: ClauseKind::For,
                    target: name("j"),
                    iter: name("jobs"),
                    conditions: vec![name("j"), name("k")],
                    is_async: true,
                }],
            })),
            8,
        ),
        ex(
            ExprKind::Lambda {
                params: vec![
                    param("a", ParamKind::Positional),
                    param("args", ParamKind::VarPositional),
                    param("k", ParamKind::KeywordOnly),
                    param("kw", ParamKind::VarKeyword),
                ],
                body: b(name("a")),
            },
            9,
        ),
        ex(
            ExprKind::Compare(Box::new(Compare {
                left: name("a"),
                ops: OPERATORS.to_vec(),
                comparators: vec![name("b"), name("c")],
            })),
            10,
        ),
        ex(
            ExprKind::Subscript {
                value: b(name("rows")),
                index: b(lit(Literal::Int(3))),
            },
            12,
        ),
        ex(
            ExprKind::Conditional {
                test: b(name("t")),
                body: b(name("y")),
                orelse: b(name("n")),
            },
            13,
        ),
        ex(
            ExprKind::Yield {
                value: Some(b(name("v"))),
                delegate: true,
            },
            14,
        ),
        ex(
            ExprKind::Yield {
                value: None,
                delegate: false,
            },
            14,
        ),
        ex(
            ExprKind::Spread {
                value: b(name("xs")),
            },
            15,
        ),
        ex(
            ExprKind::AssignExpr {
                target: b(name("n")),
                value: b(name("m")),
            },
            16,
        ),
        ex(
            ExprKind::Other {
                children: vec![name("o")],
            },
            17,
        ),
        ex(
            ExprKind::Other {
                children: Vec::new(),
            },
            17,
        ),
    ];
    for kind in [
        CollectionKind::List,
        CollectionKind::Tuple,
        CollectionKind::Set,
        CollectionKind::Dict,
        CollectionKind::Generator,
    ] {
        exprs.push(ex(
            ExprKind::Collection {
                kind,
                elements: vec![name("e")],
            },
            18,
        ));
    }
    for op in OPERATORS {
        exprs.push(ex(
            ExprKind::Binary {
                op,
                left: b(name("l")),
                right: b(name("r")),
            },
            19,
        ));
        exprs.push(ex(
            ExprKind::Unary {
                op,
                operand: b(name("u")),
            },
            20,
        ));
    }
    exprs
}

/// One of each statement kind.
fn every_statement() -> Vec<Stmt> {
    let body = || vec![st(StmtKind::Break, 1), st(StmtKind::Continue, 2)];
    vec![
        st(
            StmtKind::Expr {
                value: name("call"),
            },
            1,
        ),
        st(
            StmtKind::Assign {
                targets: vec![name("a"), name("b")],
                value: Some(name("v")),
                annotation: Some(b(name("int"))),
                op: Some(Operator::Add),
            },
            2,
        ),
        st(
            StmtKind::Assign {
                targets: vec![name("a")],
                value: None,
                annotation: None,
                op: None,
            },
            2,
        ),
        st(
            StmtKind::Return {
                value: Some(name("r")),
            },
            3,
        ),
        st(StmtKind::Return { value: None }, 3),
        st(
            StmtKind::Raise {
                value: Some(name("E")),
            },
            4,
        ),
        st(StmtKind::Raise { value: None }, 4),
        st(
            StmtKind::If {
                test: name("t"),
                then: body(),
                orelse: body(),
            },
            5,
        ),
        st(
            StmtKind::Loop(Box::new(Loop {
                kind: LoopKind::ForEach,
                is_async: true,
                target: Some(name("job")),
                iter: Some(name("jobs")),
                test: None,
                body: body(),
                orelse: body(),
            })),
            6,
        ),
        st(
            StmtKind::Loop(Box::new(Loop {
                kind: LoopKind::While,
                is_async: false,
                target: None,
                iter: None,
                test: Some(name("more")),
                body: body(),
                orelse: Vec::new(),
            })),
            6,
        ),
        st(
            StmtKind::With {
                items: vec![
                    WithItem {
                        context: name("ctx"),
                        target: Some(name("s")),
                    },
                    WithItem {
                        context: name("lock"),
                        target: None,
                    },
                ],
                is_async: true,
                body: body(),
            },
            7,
        ),
        st(
            StmtKind::Try {
                body: body(),
                handlers: vec![
                    Handler {
                        types: Some(name("ValueError")),
                        name: Some("érr".into()),
                        body: body(),
                        span: sp(9),
                    },
                    Handler {
                        types: None,
                        name: None,
                        body: Vec::new(),
                        span: sp(10),
                    },
                ],
                orelse: body(),
                finally: body(),
            },
            8,
        ),
        st(
            StmtKind::Defer {
                call: name("close"),
            },
            11,
        ),
        st(
            StmtKind::Switch {
                subject: name("cmd"),
                cases: vec![body(), Vec::new()],
            },
            12,
        ),
        st(StmtKind::FunctionDef { id: 1 }, 13),
        st(StmtKind::ClassDef { id: 0 }, 14),
        st(
            StmtKind::Delete {
                targets: vec![name("d")],
            },
            15,
        ),
    ]
}

/// A module built by hand with every kind of node, extreme numbers and
/// non-ASCII text, for each language.
fn every_kind_module(language: Language) -> Module {
    let mut scope = ImportTable::default();
    scope.bind("np", "numpy");
    scope.bind("Sessión", "app.db.Sessión");
    scope.bind("", "");
    let function = |id, kind, parent, class, body| Function {
        id,
        name: format!("f{id}"),
        qualname: "Clase.método".into(),
        kind,
        parent,
        class,
        is_async: id % 2 == 0,
        is_generator: id % 2 == 1,
        decorators: every_expression(),
        params: vec![Param {
            name: "self".into(),
            kind: ParamKind::Positional,
            annotation: None,
            default: Some(lit(Literal::Int(i64::MIN))),
            span: sp(u32::MAX),
        }],
        returns: (id == 1).then(|| name("R")),
        body,
        docstring: (id == 1).then(|| "Dóc\nstring".into()),
        span: sp(id.try_into().unwrap()),
    };
    Module {
        path: "app/módulo.py".into(),
        name: "app.módulo".into(),
        language,
        line_count: u32::MAX,
        imports: vec![Import {
            alias: "np".into(),
            target: "numpy".into(),
            span: sp(0),
        }],
        scope,
        functions: vec![
            function(0, FunctionKind::Module, None, None, every_statement()),
            function(1, FunctionKind::Method, Some(0), Some(0), Vec::new()),
            function(2, FunctionKind::Function, Some(1), None, every_statement()),
        ],
        classes: vec![Class {
            id: 0,
            name: "Clase".into(),
            qualname: "Clase".into(),
            bases: vec![name("Base")],
            keywords: vec![Arg {
                name: Some("table".into()),
                value: name("True"),
                spread: ArgSpread::None,
            }],
            decorators: vec![name("dataclass")],
            body: every_statement(),
            methods: vec![1],
            span: sp(30),
        }],
        comments: vec![
            Comment {
                line: 1,
                text: "# nötè".into(),
                trailing: true,
            },
            Comment {
                line: 2,
                text: String::new(),
                trailing: false,
            },
        ],
        diagnostics: vec![SourceDiagnostic {
            message: "unexpected token ‘:’".into(),
            span: sp(40),
        }],
        depth_cut: Some(sp(50)),
    }
}

#[test]
fn every_node_kind_literal_and_operator_round_trips() {
    for language in [
        Language::Python,
        Language::TypeScript,
        Language::JavaScript,
        Language::Go,
    ] {
        assert_round_trip(&every_kind_module(language));
    }
    let mut empty = every_kind_module(Language::Python);
    empty.functions.truncate(1);
    empty.functions[0].body.clear();
    empty.classes.clear();
    empty.depth_cut = None;
    empty.scope = ImportTable::default();
    assert_round_trip(&empty);
}

#[test]
fn real_python_literals_round_trip() {
    let source = "a = 'x'\nb = b'x'\nc = 9223372036854775807\nd = -9223372036854775807\n\
                  e = 1.5\nf = True\ng = None\nh = ...\ni = ''\nj = 99999999999999999999\n\
                  k = f'{a}ü{b!r}'\nnombre_ñ = 'día'  # señal\n";
    let module = weir_lang::lower("app/literals.py", source).unwrap();
    assert_round_trip(&module);
}

/// A module of real application code, encoded.
fn sample_encoding() -> Vec<u8> {
    let root = repo_root().join("examples/jobs-service");
    let module = lower_tree(&root)
        .into_iter()
        .max_by_key(|m| encode(m).len())
        .unwrap();
    encode(&module)
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = sample_encoding();
    assert!(bytes.len() > 1000, "sample of {} bytes", bytes.len());
    on_worker_stack(move || {
        for len in 0..bytes.len() {
            assert!(decode_module(&bytes[..len]).is_err(), "prefix of {len}");
        }
        assert!(decode_module(&bytes).is_ok());
    });
}

/// Deterministic pseudo-random bytes (xorshift64).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
}

#[test]
fn corrupt_bytes_are_errors_or_modules_never_panics() {
    let bytes = sample_encoding();
    let (errors, total) = on_worker_stack(move || {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let mut errors = 0;
        let total = 6000;
        for round in 0..total {
            let mut corrupt = bytes.clone();
            for _ in 0..=rng.below(3) {
                let at = rng.below(corrupt.len());
                let byte = u8::try_from(rng.next() & 0xff).unwrap();
                match round % 3 {
                    0 => corrupt[at] ^= byte | 1,
                    1 => corrupt.insert(at, byte),
                    _ => {
                        corrupt.remove(at);
                    }
                }
            }
            if let Ok(module) = decode_module(&corrupt) {
                // What decodes is a module that encodes and decodes again.
                let again = encode(&module);
                assert!(decode_module(&again).is_ok(), "round {round}");
            } else {
                errors += 1;
            }
        }
        (errors, total)
    });
    // Most corruptions are caught; some (a changed letter in a name, a
    // changed span) are still valid modules.
    assert!(errors > total / 2, "only {errors} of {total} were errors");
}

/// Measures lowering against encoding and decoding over a directory:
/// `WEIR_CODEC_BENCH=<dir> cargo test --release -p weir_lang --test codec -- --ignored --nocapture`
#[test]
#[ignore = "a measurement over a directory named by WEIR_CODEC_BENCH"]
#[allow(clippy::print_stdout, clippy::cast_precision_loss)]
fn bench_lower_encode_decode() {
    use std::time::{Duration, Instant};
    let Some(dir) = std::env::var_os("WEIR_CODEC_BENCH") else {
        println!("set WEIR_CODEC_BENCH to a directory of Python code");
        return;
    };
    let root = PathBuf::from(dir);
    let mut files = Vec::new();
    py_files(&root, &mut files);
    let sources: Vec<(String, String)> = files
        .iter()
        .filter_map(|path| {
            let source = std::fs::read_to_string(path).ok()?;
            let rel = path.strip_prefix(&root).unwrap().to_string_lossy();
            Some((rel.replace('\\', "/"), source))
        })
        .collect();
    // Each pass on its own, as a run either lowers a file or decodes it;
    // the best of three, as the machine is shared. Dropping the IR is
    // outside the timings.
    let (mut lower, mut enc, mut dec) = (Duration::MAX, Duration::MAX, Duration::MAX);
    let mut encoded: Vec<Vec<u8>> = Vec::new();
    let mut lines = 0;
    for _ in 0..3 {
        let mut modules = Vec::with_capacity(sources.len());
        let start = Instant::now();
        for (rel, source) in &sources {
            modules.push(weir_lang::lower(rel, source).unwrap());
        }
        lower = lower.min(start.elapsed());
        let start = Instant::now();
        encoded = modules
            .iter()
            .map(|module| {
                let mut out = Vec::new();
                encode_module(module, &mut out);
                out
            })
            .collect();
        enc = enc.min(start.elapsed());
        lines = modules.iter().map(|m| m.line_count as usize).sum::<usize>();
        drop(modules);
        let start = Instant::now();
        let decoded: Vec<Module> = encoded.iter().map(|b| decode_module(b).unwrap()).collect();
        dec = dec.min(start.elapsed());
        assert_eq!(decoded.len(), sources.len());
    }
    let source_bytes: usize = sources.iter().map(|(_, s)| s.len()).sum();
    let encoded_bytes: usize = encoded.iter().map(Vec::len).sum();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{} files, {lines} lines, {:.1} MB source",
        sources.len(),
        source_bytes as f64 / 1e6
    );
    println!(
        "lower {:.0} ms, encode {:.0} ms, decode {:.0} ms (lower/decode {:.1}x)",
        ms(lower),
        ms(enc),
        ms(dec),
        ms(lower) / ms(dec)
    );
    println!(
        "encoded {:.1} MB ({:.2}x the source)",
        encoded_bytes as f64 / 1e6,
        encoded_bytes as f64 / source_bytes as f64
    );
}
