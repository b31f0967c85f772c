//! The project index: every function and class of the audited project by
//! qualified name, so a call written in one file can be resolved to the
//! function it runs in another (through imports, re-exports in
//! `__init__.py`, methods of project classes and their bases, and
//! attributes holding project class instances).

use crate::collections::HashMap;

use rayon::prelude::*;

use weir_ir::{Expr, ExprKind, FunctionKind, Module, StmtKind};

/// A function of the project: module index and function id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FnRef {
    pub module: u32,
    pub func: u32,
}

pub struct ProjectIndex<'ir> {
    modules: &'ir [Module],
    module_by_name: HashMap<&'ir str, usize>,
    /// First segments of the project's module names (`app` of `app.models`):
    /// a qualified name under any other root (`builtins.len`,
    /// `sqlalchemy.select` in an application) is not the project's.
    roots: crate::collections::HashSet<&'ir str>,
    functions: HashMap<String, FnRef>,
    /// Qualified class name → (module index, class id).
    classes: HashMap<String, (usize, usize)>,
    /// Qualified class name → qualified names of its project bases.
    bases: HashMap<String, Vec<String>>,
    /// `module.Class.attr` → qualified class of the instance stored there
    /// (`self.repo = JobRepository(session)`).
    attr_classes: HashMap<String, String>,
    /// `module.name` → qualified class of the instance a module-level
    /// assignment stores there (`feedback_service = FeedbackService()`),
    /// the singleton services and repositories imported across the project.
    module_instances: HashMap<String, String>,
    /// `module.NAME` bound at module level to a non-empty literal display
    /// (`default_severities = [{...}, {...}]`): a small, fixed collection.
    literal_constants: crate::collections::HashSet<String>,
    /// Names of the generator functions that yield one value (`get_db`):
    /// a cheap first test before resolving the callee of every loop.
    once_generators: crate::collections::HashSet<&'ir str>,
}

/// The first segment of a dotted name.
fn root(name: &str) -> &str {
    name.split_once('.').map_or(name, |(head, _)| head)
}

/// How deep re-exports are followed (`pkg/__init__.py` importing from a submodule).
const MAX_REEXPORT_HOPS: usize = 6;

/// One module's classes and functions under their qualified names.
type Defined = (Vec<(String, (usize, usize))>, Vec<(String, FnRef)>);

/// A module-level name bound to a call, with the project class it calls.
type ModuleInstance = (String, Option<String>);

impl<'ir> ProjectIndex<'ir> {
    pub fn build(modules: &'ir [Module]) -> Self {
        let mut index = ProjectIndex {
            modules,
            module_by_name: modules
                .iter()
                .enumerate()
                .map(|(i, m)| (m.name.as_str(), i))
                .collect(),
            roots: modules.iter().map(|m| root(&m.name)).collect(),
            functions: HashMap::default(),
            classes: HashMap::default(),
            bases: HashMap::default(),
            attr_classes: HashMap::default(),
            module_instances: HashMap::default(),
            literal_constants: crate::collections::HashSet::default(),
            once_generators: modules
                .iter()
                .flat_map(|m| &m.functions)
                .filter(|f| f.is_generator && crate::facts::loops::yields_once(&f.body))
                .map(|f| f.name.as_str())
                .collect(),
        };
        // Qualified names are formatted in parallel and inserted in module
        // order: a later class wins, the first function of a name stays.
        let defined: Vec<Defined> = modules
            .par_iter()
            .enumerate()
            .map(|(mi, module)| {
                let classes = module
                    .classes
                    .iter()
                    .map(|class| {
                        let key = format!("{}.{}", module.name, class.qualname);
                        (key, (mi, class.id))
                    })
                    .collect();
                let functions = module
                    .functions
                    .iter()
                    .filter(|function| function.kind != FunctionKind::Module)
                    .map(|function| {
                        let key = format!("{}.{}", module.name, function.qualname);
                        let fref = FnRef {
                            module: u32::try_from(mi).unwrap_or(u32::MAX),
                            func: u32::try_from(function.id).unwrap_or(u32::MAX),
                        };
                        (key, fref)
                    })
                    .collect();
                (classes, functions)
            })
            .collect();
        for (classes, functions) in defined {
            index.classes.extend(classes);
            for (key, fref) in functions {
                index.functions.entry(key).or_insert(fref);
            }
        }
        // Bases and attribute classes read only the maps above: each module
        // is resolved in parallel, and the results are applied in module
        // order (a later module wins, as in a serial pass).
        let bases: Vec<Vec<(String, Vec<String>)>> = modules
            .par_iter()
            .map(|module| {
                module
                    .classes
                    .iter()
                    .map(|class| {
                        let qualified = format!("{}.{}", module.name, class.qualname);
                        let bases: Vec<String> = class
                            .bases
                            .iter()
                            .filter_map(|b| module.resolve_expr(b))
                            .filter_map(|q| index.canonical_class(&q))
                            .collect();
                        (qualified, bases)
                    })
                    .collect()
            })
            .collect();
        index.bases.extend(bases.into_iter().flatten());
        let attr_classes: Vec<Vec<(String, String)>> = modules
            .par_iter()
            .map(|module| index.attribute_classes(module))
            .collect();
        index
            .attr_classes
            .extend(attr_classes.into_iter().flatten());
        // Each module's top level is read in parallel; instances are
        // merged in module order (a name bound to two classes is dropped).
        let per_module: Vec<(Vec<ModuleInstance>, Vec<String>)> = modules
            .par_iter()
            .map(|module| {
                (
                    index.module_instances(module),
                    Self::literal_constants(module),
                )
            })
            .collect();
        for (instances, constants) in per_module {
            index.record_module_instances(instances);
            index.literal_constants.extend(constants);
        }
        index
    }

    /// Module-level names bound once, to a non-empty literal display.
    fn literal_constants(module: &Module) -> Vec<String> {
        let Some(top) = module.top_level() else {
            return Vec::new();
        };

        let mut seen: HashMap<&str, bool> = HashMap::default();
        weir_ir::visit::walk_stmts(&top.body, &mut |stmt| {
            if let weir_ir::StmtKind::Assign { targets, value, .. } = &stmt.kind {
                for target in targets {
                    let Some(name) = target.as_name() else {
                        continue;
                    };
                    let literal = value.as_ref().is_some_and(|v| match &v.kind {
                        weir_ir::ExprKind::Collection { elements, .. } => !elements.is_empty(),
                        weir_ir::ExprKind::Dict { entries } => !entries.is_empty(),
                        _ => false,
                    });
                    // Bound twice (or once to something else): not a constant.
                    seen.entry(name)
                        .and_modify(|l| *l = false)
                        .or_insert(literal);
                }
            }
        });
        seen.into_iter()
            .filter(|(_, literal)| *literal)
            .map(|(name, _)| format!("{}.{name}", module.name))
            .collect()
    }

    /// `name`, as seen from `module`, is a module-level constant bound to a
    /// literal display, in this module or imported from another project module.
    pub fn is_literal_constant(&self, module: &Module, name: &str) -> bool {
        let qualified = module
            .scope
            .get(name)
            .map_or_else(|| format!("{}.{name}", module.name), str::to_string);
        self.literal_constants.contains(&qualified)
    }

    /// Every module of the project.
    pub fn modules(&self) -> &'ir [Module] {
        self.modules
    }

    pub fn module(&self, fref: FnRef) -> &'ir Module {
        &self.modules[fref.module as usize]
    }

    pub fn function(&self, fref: FnRef) -> &'ir weir_ir::Function {
        self.module(fref).function(fref.func as usize)
    }

    /// Follows a qualified name through re-exports to a definition:
    /// `app.services.get_user` where `app/services/__init__.py` does
    /// `from .users import get_user` → `app.services.users.get_user`.
    fn canonical(&self, qualified: &str) -> Option<String> {
        // Most names asked about are not the project's (`builtins.len`,
        // `sqlalchemy.select`): they are answered without an allocation.
        let mut name = std::borrow::Cow::Borrowed(qualified);
        for _ in 0..MAX_REEXPORT_HOPS {
            // Every definition and module is named under a project root.
            if !self.roots.contains(root(&name)) {
                return None;
            }
            if self.functions.contains_key(name.as_ref())
                || self.classes.contains_key(name.as_ref())
                || self.module_instances.contains_key(name.as_ref())
            {
                return Some(name.into_owned());
            }
            // The longest prefix naming a module of the project.
            let (mi, at) = name
                .rmatch_indices('.')
                .find_map(|(i, _)| Some((*self.module_by_name.get(&name[..i])?, i)))?;
            let rest = &name[at + 1..];
            let (head, tail) = rest
                .split_once('.')
                .map_or((rest, None), |(h, t)| (h, Some(t)));
            let target = self.modules[mi].scope.get(head)?;
            let next = match tail {
                Some(tail) => format!("{target}.{tail}"),
                None => target.to_string(),
            };
            if next == name {
                return None;
            }
            name = std::borrow::Cow::Owned(next);
        }
        None
    }

    pub fn canonical_class(&self, qualified: &str) -> Option<String> {
        self.canonical(qualified)
            .filter(|q| self.classes.contains_key(q))
    }

    /// Where the project class a qualified name leads to is defined:
    /// (module index, class index).
    pub fn class_ref(&self, qualified: &str) -> Option<(usize, usize)> {
        self.classes
            .get(self.canonical(qualified)?.as_str())
            .copied()
    }

    /// A base of the class or of one of its project bases, as the module
    /// that declares it names it (`django_lifecycle.LifecycleModelMixin`),
    /// satisfies `pred`: how a library base is found.
    pub fn has_base(&self, qualified: &str, pred: impl Fn(&str) -> bool) -> bool {
        self.lineage(qualified).any(|current| {
            let Some(&(mi, ci)) = self.classes.get(current) else {
                return false;
            };
            let module = &self.modules[mi];
            module.classes.get(ci).is_some_and(|class| {
                class
                    .bases
                    .iter()
                    .any(|b| module.resolve_expr(b).is_some_and(|q| pred(&q)))
            })
        })
    }

    /// A project class deriving from `Enum` (`StrEnum`, `IntEnum`, Django's
    /// `TextChoices`/`IntegerChoices`, a project base that does): iterating
    /// it yields its few members.
    pub fn is_enum_class(&self, qualified: &str) -> bool {
        self.lineage(qualified).any(|current| {
            let Some(&(mi, ci)) = self.classes.get(current) else {
                return false;
            };
            let module = &self.modules[mi];
            module.classes.get(ci).is_some_and(|class| {
                class.bases.iter().any(|b| {
                    module
                        .resolve_expr(b)
                        .or_else(|| b.dotted())
                        .is_some_and(|q| {
                            q.starts_with("enum.")
                                || q.rsplit('.').next().is_some_and(|n| n.ends_with("Enum"))
                                || (q.starts_with("django.db.models.") && q.ends_with("Choices"))
                        })
                })
            })
        })
    }

    /// The fields a class and its project bases declare with an annotation
    /// (`author: AuthorOut`, `tags: list[TagOut] = []`): a pydantic
    /// model's or a dataclass's fields, each by the name it is read under
    /// (`Field(alias="owner")`, `validation_alias="owner"` → `owner`).
    pub fn annotated_fields(&self, qualified: &str) -> Vec<&'ir str> {
        let mut out: Vec<&'ir str> = Vec::new();
        for current in self.lineage(qualified) {
            let Some(&(mi, ci)) = self.classes.get(current) else {
                continue;
            };
            let modules: &'ir [weir_ir::Module] = self.modules;
            let Some(class) = modules[mi].classes.get(ci) else {
                continue;
            };
            for stmt in &class.body {
                if let weir_ir::StmtKind::Assign {
                    targets,
                    annotation: Some(_),
                    value,
                    ..
                } = &stmt.kind
                    && let Some(field) = targets.first().and_then(weir_ir::Expr::as_name)
                {
                    let alias = value
                        .as_ref()
                        .and_then(weir_ir::Expr::as_call)
                        .and_then(|c| c.keyword("validation_alias").or_else(|| c.keyword("alias")))
                        .and_then(weir_ir::Expr::as_str);
                    let name = alias.unwrap_or(field);
                    if !out.contains(&name) {
                        out.push(name);
                    }
                }
            }
        }
        out
    }

    /// `class`, then its project base classes depth first in declaration
    /// order (where Python looks a method up, for single inheritance); at
    /// most 32 classes, so a cycle of bases ends.
    fn lineage<'a>(&'a self, class: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let mut pending = vec![class];
        std::iter::from_fn(move || {
            let current = pending.pop()?;
            if let Some(bases) = self.bases.get(current) {
                pending.extend(bases.iter().rev().map(String::as_str));
            }
            Some(current)
        })
        .take(32)
    }

    /// The project function a qualified callee names. Calling a class runs
    /// its `__init__`.
    pub fn resolve_function(&self, qualified: &str) -> Option<FnRef> {
        let name = self.canonical(qualified)?;
        if let Some(f) = self.functions.get(&name) {
            return Some(*f);
        }
        self.classes
            .contains_key(&name)
            .then(|| self.method(&name, "__init__"))
            .flatten()
    }

    /// `Class.method`, looked up through the project's base classes.
    /// Some project generator of this name yields one value.
    pub fn may_yield_once(&self, name: &str) -> bool {
        self.once_generators.contains(name)
    }

    pub fn method(&self, class: &str, name: &str) -> Option<FnRef> {
        self.lineage(class).find_map(|current| {
            crate::collections::get_dotted(&self.functions, &[current, name]).copied()
        })
    }

    /// The class of the project instance a module-level name holds, through
    /// imports and re-exports (`from .service import feedback as svc`).
    pub fn module_instance_class(&self, qualified: &str) -> Option<&str> {
        let name = self.canonical(qualified)?;
        self.module_instances.get(&name).map(String::as_str)
    }

    /// The class of the instance stored in `self.attr` of `class`, or of
    /// the nearest base class that stores it (`self.run_manager =
    /// RunManager()` in the base's `__init__`, read by a subclass method).
    pub fn attribute_class(&self, class: &str, attr: &str) -> Option<&str> {
        self.lineage(class).find_map(|current| {
            crate::collections::get_dotted(&self.attr_classes, &[current, attr]).map(String::as_str)
        })
    }

    /// The qualified class of a function's enclosing class.
    pub fn class_of(&self, module: &Module, function: &weir_ir::Function) -> Option<String> {
        let class = &module.classes[function.class?];
        Some(format!("{}.{}", module.name, class.qualname))
    }

    /// Module-level `name = Cls(...)` with `Cls` a project class. A name
    /// assigned two different classes is left out.
    /// Module-level names bound to a call, with the project class called
    /// when it is one (`customer = CustomerService()`).
    fn module_instances(&self, module: &Module) -> Vec<ModuleInstance> {
        let Some(top) = module.top_level() else {
            return Vec::new();
        };
        let mut found: Vec<ModuleInstance> = Vec::new();
        for stmt in &top.body {
            let Some((targets, value)) = stmt.plain_assign() else {
                continue;
            };
            let [target] = targets else {
                continue;
            };
            let Some(name) = target.as_name() else {
                continue;
            };
            let class = value
                .as_call()
                .and_then(|call| module.resolve_expr(&call.callee))
                .and_then(|q| self.canonical_class(&q));
            found.push((format!("{}.{name}", module.name), class));
        }
        found
    }

    fn record_module_instances(&mut self, found: Vec<ModuleInstance>) {
        let mut conflicting = Vec::new();
        for (name, class) in found {
            match (class, self.module_instances.get(&name)) {
                (Some(class), None) => {
                    self.module_instances.insert(name, class);
                }
                (Some(class), Some(old)) if *old == class => {}
                _ => conflicting.push(name),
            }
        }
        for name in conflicting {
            self.module_instances.remove(&name);
        }
    }

    /// `self.x = Cls(...)` or `self.x = param` with `param: Cls`, in any
    /// method: (`module.Class.x`, qualified class), in source order.
    fn attribute_classes(&self, module: &Module) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for class in &module.classes {
            let owner = format!("{}.{}", module.name, class.qualname);
            for &method in &class.methods {
                let function = module.function(method);
                let mut found = Vec::new();
                weir_ir::visit::walk_stmts(&function.body, &mut |stmt| {
                    let StmtKind::Assign {
                        targets,
                        value: Some(value),
                        annotation,
                        op: None,
                    } = &stmt.kind
                    else {
                        return;
                    };
                    let Some(attr) = targets.first().and_then(Expr::dotted) else {
                        return;
                    };
                    let Some(attr) = attr.strip_prefix("self.") else {
                        return;
                    };
                    let class_name = if let Some(call) = value.unawaited().as_call() {
                        module.resolve_expr(&call.callee)
                    } else {
                        let param = value
                            .as_name()
                            .and_then(|n| function.params.iter().find(|p| p.name == n));
                        param
                            .and_then(|p| p.annotation.as_ref())
                            .or(annotation.as_deref())
                            .and_then(|a| annotation_class(module, a))
                    };
                    if let Some(class_name) = class_name {
                        found.push((attr.to_string(), class_name));
                    }
                });
                for (attr, class_name) in found {
                    if let Some(canonical) = self.canonical_class(&class_name) {
                        out.push((format!("{owner}.{attr}"), canonical));
                    }
                }
            }
        }
        out
    }
}

/// The qualified name an annotation names (`JobRepository`, `Optional[JobRepository]`, `"JobRepository"`).
pub fn annotation_class(module: &Module, annotation: &Expr) -> Option<String> {
    match &annotation.kind {
        ExprKind::Name { .. } | ExprKind::Attribute { .. } => module.resolve_expr(annotation),
        ExprKind::Literal(weir_ir::Literal::Str(text)) => module.resolve(text.trim()),
        ExprKind::Subscript { value, index } => {
            let wrapper = value.dotted()?;
            match (wrapper.rsplit('.').next()?, &index.kind) {
                ("Optional" | "Annotated", ExprKind::Collection { elements, .. }) => {
                    annotation_class(module, elements.first()?)
                }
                ("Optional", _) => annotation_class(module, index),
                _ => None,
            }
        }
        ExprKind::Binary { left, .. } => annotation_class(module, left),
        _ => None,
    }
}
