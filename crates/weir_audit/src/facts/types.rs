//! Object kinds of module-level names, across the project:
//! `SessionLocal = sessionmaker(...)` in `app/db.py` makes
//! `app.db.SessionLocal` a session factory for every module importing it.

use std::collections::HashMap;

use weir_ir::{Expr, ExprKind, Module, StmtKind};

use crate::knowledge::{Knowledge, ObjKind};

/// An inferred kind; `certain` is false when it only comes from a name hint
/// (`db`, `session`), which is enough to find queries but not to claim a
/// sync/async distinction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Typed {
    pub kind: ObjKind,
    pub certain: bool,
}

impl Typed {
    pub fn certain(kind: ObjKind) -> Self {
        Typed {
            kind,
            certain: true,
        }
    }

    pub fn hinted(kind: ObjKind) -> Self {
        Typed {
            kind,
            certain: false,
        }
    }
}

#[derive(Default)]
pub struct ProjectTypes {
    globals: HashMap<String, Typed>,
}

impl ProjectTypes {
    pub fn build(modules: &[Module], knowledge: &Knowledge) -> Self {
        let mut types = ProjectTypes::default();
        // Two rounds let a factory built from another module's engine resolve.
        for _ in 0..2 {
            for module in modules {
                let Some(top) = module.functions.first() else {
                    continue;
                };
                for stmt in &top.body {
                    let StmtKind::Assign {
                        targets,
                        value: Some(value),
                        annotation,
                        op: None,
                    } = &stmt.kind
                    else {
                        continue;
                    };
                    let kind = annotation
                        .as_ref()
                        .and_then(|a| annotation_kind(module, knowledge, a))
                        .or_else(|| types.value_kind(module, knowledge, value));
                    let Some(kind) = kind else { continue };
                    for target in targets {
                        if let Some(name) = target.as_name() {
                            types
                                .globals
                                .insert(format!("{}.{name}", module.name), Typed::certain(kind));
                        }
                    }
                }
            }
        }
        types
    }

    pub fn global(&self, qualified: &str) -> Option<Typed> {
        self.globals.get(qualified).copied()
    }

    /// The kind of a module-level value expression (no local environment).
    fn value_kind(&self, module: &Module, knowledge: &Knowledge, value: &Expr) -> Option<ObjKind> {
        let call = value.unawaited().as_call()?;
        let qualified = module.resolve_expr(&call.callee)?;
        if let Some(entry) = knowledge.func(&qualified) {
            return entry.returns;
        }
        self.global(&qualified).and_then(|t| t.kind.called())
    }
}

/// The kind named by a type annotation: `Session`, `Optional[AsyncSession]`,
/// `AsyncSession | None`, `Annotated[Session, Depends(get_db)]`, `"Session"`.
pub fn annotation_kind(
    module: &Module,
    knowledge: &Knowledge,
    annotation: &Expr,
) -> Option<ObjKind> {
    match &annotation.kind {
        ExprKind::Name { .. } | ExprKind::Attribute { .. } => {
            knowledge.type_kind(&module.resolve_expr(annotation)?)
        }
        ExprKind::Literal(weir_ir::Literal::Str(text)) => {
            knowledge.type_kind(&module.resolve(text.trim())?)
        }
        ExprKind::Subscript { value, index } => {
            let wrapper = value.dotted()?;
            let last = wrapper.rsplit('.').next().unwrap_or(&wrapper);
            match (last, &index.kind) {
                ("Optional" | "Annotated", ExprKind::Collection { elements, .. }) => {
                    annotation_kind(module, knowledge, elements.first()?)
                }
                ("Optional", _) => annotation_kind(module, knowledge, index),
                _ => None,
            }
        }
        ExprKind::Binary { left, right, .. } => annotation_kind(module, knowledge, left)
            .or_else(|| annotation_kind(module, knowledge, right)),
        _ => None,
    }
}
