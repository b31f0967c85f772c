use serde::Serialize;
use std::collections::HashMap;

/// Local names are looked up for every name and call of the module: the
/// fast Fx hash, as the keys are the project's own identifiers.
type Bindings = HashMap<String, String, rustc_hash::FxBuildHasher>;

use crate::span::Span;

/// One name bound by an import: `alias` is the local name, `target` the
/// fully qualified name it stands for (`import numpy as np` binds `np` to
/// `numpy`; `from sqlalchemy.orm import Session` binds `Session` to
/// `sqlalchemy.orm.Session`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Import {
    pub alias: String,
    pub target: String,
    pub span: Span,
}

/// Local names to qualified names, for one module. Frontends fill it with
/// imports and with the module's own top-level definitions, so a dotted path
/// written in the code can be turned into the name a knowledge pack knows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportTable {
    bindings: Bindings,
}

impl ImportTable {
    pub fn bind(&mut self, alias: impl Into<String>, target: impl Into<String>) {
        self.bindings.insert(alias.into(), target.into());
    }

    /// Every binding as `(alias, target)`, in no particular order.
    pub fn bindings(&self) -> impl Iterator<Item = (&str, &str)> {
        self.bindings
            .iter()
            .map(|(alias, target)| (alias.as_str(), target.as_str()))
    }

    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }

    pub fn get(&self, alias: &str) -> Option<&str> {
        self.bindings.get(alias).map(String::as_str)
    }

    /// Qualifies a dotted path through the binding of its first segment:
    /// with `import time as t`, `t.sleep` becomes `time.sleep`.
    pub fn resolve(&self, dotted: &str) -> Option<String> {
        let (head, rest) = match dotted.split_once('.') {
            Some((head, rest)) => (head, Some(rest)),
            None => (dotted, None),
        };
        let target = self.bindings.get(head)?;
        Some(match rest {
            Some(rest) => {
                let mut path = String::with_capacity(target.len() + 1 + rest.len());
                path.push_str(target);
                path.push('.');
                path.push_str(rest);
                path
            }
            None => target.clone(),
        })
    }
}
