//! Django model signals with receivers in the project. `QuerySet.update()`
//! and `bulk_update()`/`bulk_create()` send no `pre_save`/`post_save`, and
//! `QuerySet.delete()` sends its delete signals but skips a model's own
//! `delete()`: a model whose save signals have receivers is saved one row
//! at a time on purpose, as one that overrides `save()` is.

use weir_ir::{Expr, Module};

use crate::collections::HashSet;
use crate::project::ModelIndex;

/// The qualified classes of the models whose `pre_save`/`post_save` a
/// project receiver listens to (`@receiver(post_save, sender=Book)`,
/// `post_save.connect(handler, sender=Book)`).
#[derive(Debug, Default)]
pub struct SaveSignals {
    pub models: HashSet<String>,
}

const SAVE_SIGNALS: &[&str] = &["pre_save", "post_save"];

impl SaveSignals {
    pub fn build(modules: &[Module], models: &ModelIndex) -> Self {
        let mut found = HashSet::default();
        for module in modules {
            for function in &module.functions {
                for decorator in &function.decorators {
                    if let Some(call) = decorator.as_call()
                        && is_named(module, &call.callee, "receiver")
                        && call
                            .positional(0)
                            .is_some_and(|s| names_save_signal(module, s))
                    {
                        found.extend(sender_model(module, models, call));
                    }
                }
            }
            // `post_save.connect(handler, sender=Book)`, usually at import
            // time or in `AppConfig.ready()`.
            for function in module
                .functions
                .iter()
                .filter(|f| f.kind == weir_ir::FunctionKind::Module || f.name == "ready")
            {
                weir_ir::visit::walk_block_exprs(&function.body, &mut |e| {
                    if let Some(call) = e.as_call()
                        && call.method_name() == Some("connect")
                        && call
                            .receiver()
                            .is_some_and(|r| names_save_signal(module, r))
                    {
                        found.extend(sender_model(module, models, call));
                    }
                });
            }
        }
        SaveSignals { models: found }
    }
}

/// `post_save`, `signals.post_save`, `[pre_save, post_save]`.
fn names_save_signal(module: &Module, expr: &Expr) -> bool {
    if let weir_ir::ExprKind::Collection { elements, .. } = &expr.kind {
        return elements.iter().any(|e| names_save_signal(module, e));
    }
    SAVE_SIGNALS.iter().any(|s| is_named(module, expr, s))
}

/// The expression names `last` (the last segment of its dotted or
/// resolved name): `receiver`, `django.dispatch.receiver`.
fn is_named(module: &Module, expr: &Expr, last: &str) -> bool {
    module
        .resolve_expr(expr)
        .or_else(|| expr.dotted())
        .is_some_and(|q| q.rsplit('.').next() == Some(last))
}

/// The model class of the call's `sender=` argument.
fn sender_model(module: &Module, models: &ModelIndex, call: &weir_ir::Call) -> Option<String> {
    let sender = call
        .args
        .iter()
        .find(|a| a.name.as_deref() == Some("sender"))?;
    let qualified = module
        .resolve_expr(&sender.value)
        .or_else(|| sender.value.dotted())?;
    models.get(&qualified).map(|m| m.class.clone())
}
