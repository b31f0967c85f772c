//! Where a function runs: request handler, background job, init/CLI,
//! migration or test. Severity depends on it (SPEC §2).

use serde::Serialize;
use weir_ir::{Expr, ExprKind, Function, FunctionKind, Module};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecContext {
    RequestHandler,
    BackgroundJob,
    /// Startup, configuration, CLI entry points, module top-level code.
    Init,
    Migration,
    Test,
    /// Library code whose callers are unknown: default severity.
    Other,
}

impl ExecContext {
    /// Startup, CLI, migration and test code, where findings sit one level
    /// below their default (SPEC §2): a rule that picks its own severity
    /// per case lowers it here too.
    pub fn lowers_severity(self) -> bool {
        matches!(
            self,
            ExecContext::Init | ExecContext::Migration | ExecContext::Test
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            ExecContext::RequestHandler => "request handler",
            ExecContext::BackgroundJob => "background job",
            ExecContext::Init => "init/CLI",
            ExecContext::Migration => "migration",
            ExecContext::Test => "test",
            ExecContext::Other => "application code",
        }
    }
}

const HANDLER_DECORATORS: &[&str] = &[
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
    "route",
    "api_route",
    "websocket",
    "websocket_route",
    "api_view",
    "action",
    "view_config",
    "resolver",
    "field",
    "mutation",
    "query",
    "subscription",
];
const JOB_DECORATORS: &[&str] = &[
    "task",
    "shared_task",
    "actor",
    "job",
    "periodic_task",
    "cron",
    "scheduled_job",
    "on_event_job",
];
const INIT_DECORATORS: &[&str] = &["command", "group", "on_event", "fixture", "cli", "callback"];
const JOB_DIRS: &[&str] = &["tasks", "jobs", "workers", "worker", "cron", "celery_tasks"];
const INIT_FILES: &[&str] = &[
    "manage.py",
    "cli.py",
    "__main__.py",
    "settings.py",
    "conftest.py",
    "setup.py",
    "wsgi.py",
    "asgi.py",
];
/// Folders of command-line entry points, scripts and management commands
/// (Django's `management/commands/`, by its `commands`: a `management/`
/// folder of its own is as often a web app's back office, the pages where
/// organisers or admins manage things, served per request).
const INIT_DIRS: &[&str] = &["scripts", "cli", "commands", "bin"];
const INIT_NAMES: &[&str] = &[
    "main",
    "startup",
    "shutdown",
    "lifespan",
    "setup",
    "init_db",
    "create_app",
    "on_startup",
    "on_shutdown",
];
const VIEW_BASES: &[&str] = &[
    "View",
    "APIView",
    "GenericAPIView",
    "ViewSet",
    "ModelViewSet",
    "GenericViewSet",
    "HTTPEndpoint",
    "MethodView",
    "TemplateView",
    "ListView",
    "DetailView",
    "FormView",
    "CreateView",
    "UpdateView",
    "DeleteView",
    "RedirectView",
    "ArchiveIndexView",
    "YearArchiveView",
    "MonthArchiveView",
    "WeekArchiveView",
    "DayArchiveView",
    "TodayArchiveView",
    "DateDetailView",
    // DRF's concrete generic views and viewsets
    // (https://www.django-rest-framework.org/api-guide/generic-views/,
    // https://www.django-rest-framework.org/api-guide/viewsets/).
    "CreateAPIView",
    "ListAPIView",
    "RetrieveAPIView",
    "DestroyAPIView",
    "UpdateAPIView",
    "ListCreateAPIView",
    "RetrieveUpdateAPIView",
    "RetrieveDestroyAPIView",
    "RetrieveUpdateDestroyAPIView",
    "ReadOnlyModelViewSet",
];
/// The hooks a view's request handling calls on every request, besides the
/// HTTP-verb methods: DRF's `GenericAPIView` and `APIView` hooks
/// (<https://www.django-rest-framework.org/api-guide/generic-views/#methods>)
/// and those of Django's generic class-based views
/// (<https://docs.djangoproject.com/en/stable/ref/class-based-views/mixins-single-object/>,
/// `mixins-multiple-object/`, `mixins-editing/`). They run per request,
/// inside the view's `dispatch`.
const VIEW_HOOKS: &[&str] = &[
    // DRF
    "initial",
    "get_queryset",
    "get_object",
    "filter_queryset",
    "get_serializer",
    "get_serializer_class",
    "get_serializer_context",
    "paginate_queryset",
    "get_paginated_response",
    "perform_create",
    "perform_update",
    "perform_destroy",
    "check_permissions",
    "check_object_permissions",
    // Django generic views
    "get_context_data",
    "get_form_kwargs",
    "get_initial",
    "form_valid",
    "form_invalid",
    "get_success_url",
];
/// Resource classes whose HTTP-verb methods are the handlers, by qualified
/// name: a bare `Resource` is too common a class name to trust.
const RESOURCE_BASES: &[&str] = &[
    "flask_restx.Resource",
    "flask_restful.Resource",
    "flask_restplus.Resource",
    "flask_smorest.MethodView",
];
const HTTP_METHODS: &[&str] = &[
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
    "list",
    "retrieve",
    "create",
    "update",
    "partial_update",
    "destroy",
    "dispatch",
];

pub fn is_test_path(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    // `testing/`, `test_utils/`, `testutils/`: a package's test support
    // (`sqlalchemy/testing/`, `nautobot/core/testing/`,
    // `baserow/test_utils/fixtures/`, `pretix/testutils/`): base test
    // cases, fixtures, factories, assertions.
    path.split('/').any(|seg| {
        matches!(
            seg,
            "tests" | "test" | "testing" | "test_utils" | "testutils"
        )
    }) || (file.starts_with("test_") && file.ends_with(".py"))
        || file.ends_with("_test.py")
        || file == "conftest.py"
}

/// What a folder's name says of the code in it, with the underscore of a
/// private package dropped: `synapse/_scripts/`, `dagster/_cli/` hold the
/// scripts and the command line as `scripts/` and `cli/` would.
fn package_role(segment: &str) -> &str {
    segment.strip_prefix('_').unwrap_or(segment)
}

/// A one-off script or command (`scripts/`, `bin/`, a `cli/` package of
/// click commands, Django `management/commands/`): a short-lived process,
/// not a service.
pub fn is_script_path(path: &str) -> bool {
    let mut segments = path.split('/').rev().skip(1);
    segments
        .clone()
        .any(|seg| matches!(package_role(seg), "scripts" | "bin" | "cli"))
        || (segments.next() == Some("commands") && segments.next() == Some("management"))
}

/// A command-line command: a click/typer command (`@click.command()`,
/// `@cli.command(name="upgrade")`, `@app.command()`) or a Django management
/// command's `handle`, or a function nested in one. It runs once per
/// invocation of a short-lived process, not in a service.
pub fn is_cli_command(module: &Module, function: &Function) -> bool {
    let own = function
        .decorators
        .iter()
        .any(|d| decorator_name(d) == Some("command"))
        || (function.name == "handle"
            && function
                .class
                .is_some_and(|c| module.classes[c].name.ends_with("Command")));
    own || function
        .parent
        .filter(|&p| p != 0)
        .is_some_and(|p| is_cli_command(module, module.function(p)))
}

/// A migration folder (`migrations/`, `alembic/`, `versions/`), or a
/// `migrations.py` module: the single-file form of the same ordered list of
/// schema and data steps, run once per database by a migration runner.
pub fn is_migration_path(path: &str) -> bool {
    path.split('/').any(|seg| {
        seg == "migrations" || seg == "alembic" || seg == "versions" || seg == "migrations.py"
    })
}

/// An Alembic environment script (`env.py` importing `alembic`), wherever
/// the project keeps its revisions (`database/revisions/core/env.py`).
fn is_alembic_env(module: &Module) -> bool {
    module.path.rsplit('/').next() == Some("env.py")
        && module
            .imports
            .iter()
            .any(|i| i.target == "alembic" || i.target.starts_with("alembic."))
}

/// The last name of a decorator: `@router.get("/x")` → `get`, `@shared_task` → `shared_task`.
fn decorator_name(expr: &Expr) -> Option<&str> {
    let target = match &expr.kind {
        ExprKind::Call(call) => &call.callee,
        _ => expr,
    };
    match &target.kind {
        ExprKind::Name { id } => Some(id),
        ExprKind::Attribute { attr, .. } => Some(attr),
        _ => None,
    }
}

/// DRF's `@action(detail=True)` (`rest_framework.decorators.action`): an
/// extra route of a viewset, a request handler like `list()`.
fn is_drf_action(module: &Module, decorator: &Expr) -> bool {
    let target = match &decorator.kind {
        ExprKind::Call(call) => &call.callee,
        _ => decorator,
    };
    module
        .resolve_expr(target)
        .is_some_and(|q| q == "rest_framework.decorators.action")
}

/// A task of a queue (`@shared_task`, `@app.task`, `@dramatiq.actor`,
/// `@job`): its parameters are what the queue carries, ids rather than
/// objects, so a synchronous call of it passes ids too.
pub fn is_queued_task(function: &Function) -> bool {
    function
        .decorators
        .iter()
        .filter_map(decorator_name)
        .any(|name| matches!(name, "task" | "shared_task" | "actor" | "job"))
}

/// Classifies one function, falling back on its parent's context.
pub fn classify(module: &Module, function: &Function) -> ExecContext {
    if is_test_path(&module.path) || function.name.starts_with("test_") {
        return ExecContext::Test;
    }
    // Django data-migration helpers (`def forwards(apps, schema_editor)`) live
    // outside `migrations/` too.
    let params: Vec<&str> = function.params.iter().map(|p| p.name.as_str()).collect();
    if is_migration_path(&module.path)
        || params.ends_with(&["apps", "schema_editor"])
        || is_alembic_env(module)
    {
        return ExecContext::Migration;
    }
    if let Some(ctx) = own_context(module, function) {
        return ctx;
    }
    if let Some(parent) = function.parent.filter(|&p| p != 0) {
        return classify(module, module.function(parent));
    }
    if module
        .path
        .split('/')
        .rev()
        .skip(1)
        .any(|seg| JOB_DIRS.contains(&package_role(seg)))
    {
        return ExecContext::BackgroundJob;
    }
    let file = module.path.rsplit('/').next().unwrap_or(&module.path);
    if INIT_FILES.contains(&file)
        || module
            .path
            .split('/')
            .rev()
            .skip(1)
            .any(|s| INIT_DIRS.contains(&package_role(s)))
    {
        return ExecContext::Init;
    }
    ExecContext::Other
}

fn own_context(module: &Module, function: &Function) -> Option<ExecContext> {
    if function.kind == FunctionKind::Module {
        return Some(ExecContext::Init);
    }
    for decorator in &function.decorators {
        let Some(name) = decorator_name(decorator) else {
            continue;
        };
        // `@app.get(...)`/`@router.post(...)` are routes; a bare `@property`-style
        // `get` is not, so route verbs count only when called on something.
        let is_route_call = matches!(&decorator.kind, ExprKind::Call(c) if matches!(c.callee.kind, ExprKind::Attribute { .. }));
        if HANDLER_DECORATORS.contains(&name)
            && (is_route_call
                || matches!(name, "api_view" | "view_config")
                || is_drf_action(module, decorator))
        {
            return Some(ExecContext::RequestHandler);
        }
        if JOB_DECORATORS.contains(&name) {
            return Some(ExecContext::BackgroundJob);
        }
        if INIT_DECORATORS.contains(&name) {
            return Some(ExecContext::Init);
        }
        // `@receiver(post_migrate)`: runs at the end of `manage.py migrate`.
        if name == "receiver"
            && decorator
                .as_call()
                .and_then(|c| c.positional(0))
                .is_some_and(|s| names_migrate_signal(module, s))
        {
            return Some(ExecContext::Init);
        }
    }
    // `lifespan_fn`, `app_lifespan`: the FastAPI/Starlette lifespan handler.
    if INIT_NAMES.contains(&function.name.as_str()) || function.name.contains("lifespan") {
        return Some(ExecContext::Init);
    }
    if let Some(class) = function.class.map(|c| &module.classes[c]) {
        // The bases are looked at only for a method named like an HTTP verb
        // or a per-request hook of a view.
        let is_view = || {
            class.bases.iter().any(|b| {
                b.dotted().is_some_and(|d| {
                    VIEW_BASES.iter().any(|v| {
                        d.strip_suffix(v)
                            .is_some_and(|head| head.is_empty() || head.ends_with('.'))
                    })
                }) || module
                    .resolve_expr(b)
                    .is_some_and(|q| RESOURCE_BASES.contains(&q.as_str()))
            })
        };
        let name = function.name.as_str();
        if (HTTP_METHODS.contains(&name) || VIEW_HOOKS.contains(&name)) && is_view() {
            return Some(ExecContext::RequestHandler);
        }
        if class.name.ends_with("Command") && function.name == "handle" {
            return Some(ExecContext::Init);
        }
    }
    let file = module.path.rsplit('/').next().unwrap_or(&module.path);
    // Django function views: `def detail(request, pk)` in views.py or a
    // `views/` package (`views/books/editions.py` when the audit root is
    // the Django app itself).
    if (file == "views.py" || module.path.split('/').rev().skip(1).any(|s| s == "views"))
        && function.params.first().is_some_and(|p| p.name == "request")
    {
        return Some(ExecContext::RequestHandler);
    }
    None
}

/// Django's `pre_migrate`/`post_migrate` signals, sent by the `migrate` and
/// `flush` commands (<https://docs.djangoproject.com/en/stable/ref/signals/#management-signals>):
/// their receivers run from the command line, not per request.
const MIGRATE_SIGNALS: &[&str] = &["pre_migrate", "post_migrate"];

/// `post_migrate`, `signals.post_migrate`, `models.signals.pre_migrate`.
fn names_migrate_signal(module: &Module, expr: &Expr) -> bool {
    module
        .resolve_expr(expr)
        .or_else(|| expr.dotted())
        .is_some_and(|q| MIGRATE_SIGNALS.contains(&q.rsplit('.').next().unwrap_or(&q)))
}

/// Receivers connected to a migrate signal by reference
/// (`post_migrate.connect(create_permissions, sender=self)`, at import time
/// or in `AppConfig.ready()`) are management code, wherever they are
/// defined: only a function of unknown context (`Other`) changes.
pub fn migrate_signal_context(facts: &mut [Vec<super::FunctionFacts<'_>>]) {
    let mut receivers = Vec::new();
    for f in facts.iter().flatten() {
        if f.function.kind != FunctionKind::Module && f.function.name != "ready" {
            continue;
        }
        let module = f.module;
        weir_ir::visit::walk_block_exprs(&f.function.body, &mut |e| {
            if let Some(call) = e.as_call()
                && call.method_name() == Some("connect")
                && call
                    .receiver()
                    .is_some_and(|r| names_migrate_signal(module, r))
                && let Some(handler) = call.positional(0).or_else(|| call.keyword("receiver"))
                && let Some(target) = module
                    .resolve_expr(handler)
                    .and_then(|q| f.project.index.resolve_function(&q))
            {
                receivers.push(target);
            }
        });
    }
    for target in receivers {
        if let Some(function) = facts
            .get_mut(target.module as usize)
            .and_then(|m| m.get_mut(target.func as usize))
            .filter(|f| f.context == ExecContext::Other)
        {
            function.context = ExecContext::Init;
        }
    }
}

/// Startup helpers: a function of unknown context (`Other`) whose every
/// resolved caller is startup, CLI or migration code runs only there (SPEC
/// §2: "startup/init"). `check_extensions()` awaited by the lifespan handler
/// is startup code as much as the handler itself. A call handed to
/// long-lived work (`asyncio.create_task(poll())`, `add_task`) is not: the
/// task outlives the startup that spawned it, so such a caller keeps the
/// callee's context unknown. Callers in tests do not count either way; a
/// function nobody calls (a route registered by reference, a callback)
/// keeps its own context. Runs to a fixed point: helpers of helpers follow.
pub fn inherit_startup_context(facts: &mut [Vec<super::FunctionFacts<'_>>]) {
    // callers[m][f]: (caller module, caller function, index of the call,
    // whether the call is spawned: asked once, and only of startup callers,
    // since the answer scans the caller's calls).
    type Caller = (usize, usize, usize, std::cell::OnceCell<bool>);
    let mut callers: Vec<Vec<Vec<Caller>>> =
        facts.iter().map(|m| vec![Vec::new(); m.len()]).collect();
    for (m, functions) in facts.iter().enumerate() {
        for (f, caller) in functions.iter().enumerate() {
            for (c, call) in caller.calls.iter().enumerate() {
                let Some(target) = call.target else {
                    continue;
                };
                if (m, f) == (target.module as usize, target.func as usize) {
                    continue;
                }
                if let Some(slot) = callers
                    .get_mut(target.module as usize)
                    .and_then(|c| c.get_mut(target.func as usize))
                {
                    slot.push((m, f, c, std::cell::OnceCell::new()));
                }
            }
        }
    }
    loop {
        let mut changed = false;
        for m in 0..facts.len() {
            for f in 0..facts[m].len() {
                if facts[m][f].context != ExecContext::Other {
                    continue;
                }
                // A nested def the function around it calls runs when that
                // function does: a parent found to be startup code only here
                // passes its context on. A decorated one (`@app.exception_handler`)
                // or one handed out as a callback runs later, on its own.
                let function = facts[m][f].function;
                let nested_in_startup = function.decorators.is_empty()
                    && function
                        .parent
                        .filter(|&p| p != 0)
                        .and_then(|p| facts[m].get(p))
                        .is_some_and(|parent| {
                            matches!(parent.context, ExecContext::Init | ExecContext::Migration)
                                && parent.call_exprs().iter().any(|e| {
                                    e.as_call().is_some_and(|c| {
                                        c.callee.as_name() == Some(function.name.as_str())
                                    })
                                })
                        });
                if callers[m][f].is_empty() && !nested_in_startup {
                    continue;
                }
                let mut startup = nested_in_startup;
                let mut elsewhere = false;
                for (cm, cf, c, spawned) in &callers[m][f] {
                    let caller = &facts[*cm][*cf];
                    match caller.context {
                        ExecContext::Init | ExecContext::Migration
                            if !*spawned.get_or_init(|| {
                                caller.handed_to_long_lived_work(&caller.calls[*c])
                            }) =>
                        {
                            startup = true;
                        }
                        ExecContext::Test => {}
                        _ => elsewhere = true,
                    }
                }
                if startup && !elsewhere {
                    facts[m][f].context = ExecContext::Init;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
}

/// Functions handed to a job queue by reference run as background jobs
/// (SPEC §2: "Celery/RQ/arq/Dramatiq task"), whatever file they are in:
/// `background_tasks.add_task(send_receipt, order_id)` (Starlette's
/// `BackgroundTasks`, run after the response), RQ's
/// `queue.enqueue(export_posts, user_id)`, `enqueue_call(func=…)`,
/// `enqueue_in(delay, f)`, `enqueue_at(when, f)`, also by dotted path
/// (`queue.enqueue("app.tasks.export_posts", …)`). Only a function of
/// unknown context (`Other`) changes: a view handed to a queue as well
/// keeps its own. A call that runs a project function (a service's own
/// `enqueue` method) hands nothing to a queue.
pub fn enqueued_job_context(facts: &mut [Vec<super::FunctionFacts<'_>>]) {
    let jobs: Vec<crate::project::FnRef> = facts
        .iter()
        .flatten()
        .flat_map(|f| f.queued_jobs.iter().copied())
        .collect();
    for target in jobs {
        if let Some(function) = facts
            .get_mut(target.module as usize)
            .and_then(|m| m.get_mut(target.func as usize))
            .filter(|f| f.context == ExecContext::Other)
        {
            function.context = ExecContext::BackgroundJob;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context_of(path: &str, source: &str, name: &str) -> ExecContext {
        let module = weir_lang::lower(path, source).unwrap();
        let function = module.functions.iter().find(|f| f.name == name).unwrap();
        classify(&module, function)
    }

    #[test]
    fn lifespan_handlers_are_startup_code() {
        let source = "from contextlib import asynccontextmanager\n\n@asynccontextmanager\nasync def lifespan_fn(app):\n    yield\n";
        assert_eq!(
            context_of("app/main.py", source, "lifespan_fn"),
            ExecContext::Init
        );
    }

    #[test]
    fn flask_restx_resource_methods_are_request_handlers() {
        let source = "from flask_restx import Namespace, Resource\n\nns = Namespace('configs')\n\n@ns.route('')\nclass ConfigList(Resource):\n    def patch(self):\n        pass\n";
        assert_eq!(
            context_of("app/api/v1/config.py", source, "patch"),
            ExecContext::RequestHandler
        );
        let unrelated = "from app.billing import Resource\n\nclass Quota(Resource):\n    def patch(self):\n        pass\n";
        assert_ne!(
            context_of("app/billing/quota.py", unrelated, "patch"),
            ExecContext::RequestHandler
        );
    }

    #[test]
    fn drf_generic_view_hooks_and_actions_are_request_handlers() {
        let source = "from rest_framework import generics, viewsets\nfrom rest_framework.decorators import action\n\nclass Tags(generics.ListCreateAPIView):\n    def get_queryset(self):\n        pass\n\n    def perform_create(self, serializer):\n        pass\n\nclass Sites(viewsets.ReadOnlyModelViewSet):\n    def list(self, request):\n        pass\n\n    @action(detail=True)\n    def racks(self, request, pk=None):\n        pass\n";
        for name in ["get_queryset", "perform_create", "list", "racks"] {
            assert_eq!(
                context_of("inventory/api/views.py", source, name),
                ExecContext::RequestHandler,
                "{name}"
            );
        }
        // The same names outside a view, and a project decorator named `action`.
        let plain = "from inventory.admin import action\n\nclass Exporter:\n    def get_queryset(self):\n        pass\n\n    @action(detail=True)\n    def racks(self):\n        pass\n";
        for name in ["get_queryset", "racks"] {
            assert_eq!(
                context_of("inventory/export.py", plain, name),
                ExecContext::Other,
                "{name}"
            );
        }
    }

    #[test]
    fn function_views_in_a_top_level_views_package_are_request_handlers() {
        let source = "def switch_edition(request):\n    pass\n";
        assert_eq!(
            context_of("views/books/editions.py", source, "switch_edition"),
            ExecContext::RequestHandler
        );
        assert_eq!(
            context_of("previews/editions.py", source, "switch_edition"),
            ExecContext::Other
        );
    }

    #[test]
    fn migration_modules_are_migrations() {
        let source = "async def m002_add_fee_column(db):\n    await db.execute('ALTER TABLE payments ADD COLUMN fee INTEGER')\n";
        assert_eq!(
            context_of("shop/core/migrations.py", source, "m002_add_fee_column"),
            ExecContext::Migration
        );
        assert_ne!(
            context_of(
                "shop/core/migration_helpers.py",
                source,
                "m002_add_fee_column"
            ),
            ExecContext::Migration
        );
    }

    #[test]
    fn private_script_packages_are_scripts() {
        let source = "async def run_port(store):\n    await store.copy()\n";
        for path in ["synapse/_scripts/port_db.py", "dagster/_cli/run.py"] {
            assert_eq!(context_of(path, source, "run_port"), ExecContext::Init);
            assert!(is_script_path(path));
        }
        let worker = "async def drain(queue):\n    await queue.get()\n";
        assert_eq!(
            context_of("app/_workers/drain.py", worker, "drain"),
            ExecContext::BackgroundJob
        );
        assert_eq!(
            context_of("app/_internal/port.py", source, "run_port"),
            ExecContext::Other
        );
    }

    #[test]
    fn alembic_env_scripts_are_migrations_wherever_they_live() {
        let source = "from alembic import context\n\ndef run_migrations_online():\n    pass\n";
        let path = "src/dispatch/database/revisions/core/env.py";
        assert_eq!(
            context_of(path, source, "run_migrations_online"),
            ExecContext::Migration
        );
        let plain = "def run_migrations_online():\n    pass\n";
        assert_ne!(
            context_of(path, plain, "run_migrations_online"),
            ExecContext::Migration
        );
    }
}
