//! The fixture harness: every `.py` file under `tests/fixtures/python/<rule>/`
//! is audited with the other files of its rule folder as one project, with
//! its path relative to that folder (so
//! `tasks/`, `alembic/` and the like classify as they would in a project).
//! `# expect: ID` marks a line that must be reported by ID; `# ok: ID` a
//! line that must not. For every ID a file mentions, its findings must be
//! exactly the `expect` lines.

mod common;

use std::path::Path;

use common::{audit_folder, compare, markers};

#[test]
fn fixtures_match_their_markers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python");
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule_dir in std::fs::read_dir(&root)
        .expect("fixtures/python")
        .map(|e| e.unwrap().path())
    {
        // The rule folder is one project: packs switch on from all its imports.
        let project = audit_folder(&rule_dir);
        let folder = rule_dir.file_name().unwrap().to_string_lossy().into_owned();
        for (rel, id, want, got, ok) in compare(&project) {
            checked += want.len() + ok.len();
            for line in want.difference(&got) {
                failures.push(format!(
                    "{folder}/{rel}:{line}: expected {id}, not reported"
                ));
            }
            for line in got.difference(&want) {
                failures.push(format!(
                    "{folder}/{rel}:{line}: {id} reported but not expected"
                ));
            }
        }
    }
    assert!(
        checked > 100,
        "too few markers checked ({checked}): the harness is not reading the fixtures"
    );
    assert!(
        failures.is_empty(),
        "{} fixture mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn marker_parser_reads_both_keywords() {
    let src = "x = 1  # expect: QE-07, TX-07 ok: RT-01\ny = 2  # ok: QE-05\n";
    let expect = markers(src, "expect");
    assert_eq!(
        expect.keys().cloned().collect::<Vec<_>>(),
        vec!["QE-07".to_string(), "TX-07".to_string()]
    );
    let ok = markers(src, "ok");
    assert_eq!(ok["RT-01"], std::collections::BTreeSet::from([1]));
    assert_eq!(ok["QE-05"], std::collections::BTreeSet::from([2]));
}

/// QE-03 states its certainty from the session configuration: after a
/// commit with objects expiring on commit, the reload may be intended.
#[test]
fn unnecessary_resolve_after_commit_is_reported_lower() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/qe03");
    let project = audit_folder(&root);
    let qe03: Vec<_> = project
        .output
        .findings
        .iter()
        .filter(|f| f.rule == "QE-03")
        .collect();
    let after_commit = qe03
        .iter()
        .find(|f| f.function == "close_and_label")
        .expect("the resolve after a commit is reported");
    assert_eq!(after_commit.severity, weir_audit::report::Severity::Low);
    assert!(
        after_commit.why.contains("may be intended"),
        "{}",
        after_commit.why
    );
    let in_handler = qe03
        .iter()
        .find(|f| f.function == "show")
        .expect("the resolve in the handler is reported");
    assert_eq!(in_handler.severity, weir_audit::report::Severity::Medium);
    assert!(
        in_handler
            .evidence
            .iter()
            .any(|e| e.path == "billing/services/accounts.py"),
        "the callee's load is evidence: {:?}",
        in_handler.evidence
    );
}

/// A file-system metadata call (`exists()`, `resolve()`) in an async
/// handler is reported one level lower than reading a file, directly or
/// through a helper; a helper that also reads the file shows the read.
#[test]
fn metadata_calls_in_async_handlers_are_reported_lower() {
    use weir_audit::report::Severity;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/rt01");
    let project = audit_folder(&root);
    let rt01 = |line: u32| {
        project
            .output
            .findings
            .iter()
            .find(|f| f.rule == "RT-01" && f.path == "app/api/exports.py" && f.line == line)
            .unwrap_or_else(|| panic!("RT-01 at line {line}"))
    };
    assert_eq!(rt01(26).severity, Severity::Medium, "{}", rt01(26).message);
    assert_eq!(rt01(27).severity, Severity::Medium, "{}", rt01(27).message);
    assert!(
        rt01(27).message.contains("metadata"),
        "{}",
        rt01(27).message
    );
    // Directory-entry changes (unlink, makedirs, rename) are metadata calls too.
    for line in [40, 46, 47] {
        assert_eq!(
            rt01(line).severity,
            Severity::Medium,
            "{}",
            rt01(line).message
        );
    }
    assert_eq!(rt01(34).severity, Severity::High, "{}", rt01(34).message);
    assert!(
        rt01(34).message.contains("file I/O"),
        "{}",
        rt01(34).message
    );
}

/// A query per group of keys in a DataLoader's batch function is reported
/// one level lower than the same loop in a plain function.
#[test]
fn queries_in_a_dataloader_batch_function_are_reported_lower() {
    use weir_audit::report::Severity;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/qe07");
    let project = audit_folder(&root);
    let qe07 = |function: &str| {
        project
            .output
            .findings
            .iter()
            .find(|f| {
                f.rule == "QE-07"
                    && f.path == "app/graphql/loaders.py"
                    && f.function.ends_with(function)
            })
            .unwrap_or_else(|| panic!("QE-07 in {function}"))
    };
    assert_eq!(qe07("_load_fn").severity, Severity::Medium);
    assert!(qe07("_load_fn").why.contains("DataLoader"));
    assert_eq!(qe07("token_counts").severity, Severity::High);
}

/// A lazy relation read in async code fails differently per ORM: Django
/// raises `SynchronousOnlyOperation`, SQLAlchemy `MissingGreenlet`. Each
/// finding names its own.
#[test]
fn lazy_reads_in_async_code_name_their_orm_error() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/tx08");
    let project = audit_folder(&root);
    let tx08 = |path: &str| {
        project
            .output
            .findings
            .iter()
            .filter(|f| {
                f.rule == "TX-08" && f.path == path && f.message.contains("lazy relationship")
            })
            .collect::<Vec<_>>()
    };
    let django = tx08("desk/views.py");
    assert_eq!(django.len(), 3);
    assert!(
        django
            .iter()
            .all(|f| f.why.contains("SynchronousOnlyOperation"))
    );
    assert!(django.iter().all(|f| f.help.contains("select_related")));
    let sqlalchemy = tx08("app/orders.py");
    assert!(!sqlalchemy.is_empty());
    assert!(sqlalchemy.iter().all(|f| f.why.contains("MissingGreenlet")));
}

/// A legacy `relationship("Workspace")` next to its `workspace_id` foreign
/// key is many-to-one: the N+1 message says so, not "a collection".
#[test]
fn lazy_many_to_one_is_not_called_a_collection() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/qe07");
    let project = audit_folder(&root);
    let finding = project.finding_in("QE-07", "open_ticket_labels");
    assert!(
        finding.message.contains("lazily loads a relationship"),
        "{}",
        finding.message
    );
}

/// The loop is named by its source text, subscripts and call chains
/// included, so that a finding in a long function says which loop it means.
#[test]
fn a_loop_over_a_subscript_is_named() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/qe07");
    let project = audit_folder(&root);
    let finding = project.finding_in("QE-07", "restore_tasks");
    assert!(
        finding
            .message
            .contains(r#"loop over `export["projects"].items(…)`"#),
        "{}",
        finding.message
    );
}

/// A data migration (`migrations.py`) runs once per database: its per-row
/// UPDATE is still reported, at LOW (SPEC §2, QE-02), while the same loop in
/// a request handler stays HIGH.
#[test]
fn update_loop_in_a_migration_module_is_low() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/qe02");
    let project = audit_folder(&root);
    let qe02 = |function: &str| project.finding_in("QE-02", function).severity;
    assert_eq!(
        qe02("m002_backfill_expiry"),
        weir_audit::report::Severity::Low
    );
    assert_eq!(qe02("expire_jobs"), weir_audit::report::Severity::High);
}

/// A helper awaited only by the lifespan handler is startup code (LOW); the
/// same kind of call in a helper a route also calls, or in a loop the
/// lifespan spawns as a task that outlives startup, stays HIGH.
#[test]
fn helpers_run_only_at_startup_are_startup_code() {
    use weir_audit::facts::ExecContext;
    use weir_audit::report::Severity;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/rt01");
    let project = audit_folder(&root);
    let rt01 = |function: &str| {
        let f = project.finding_in("RT-01", function);
        (f.context, f.severity)
    };
    assert_eq!(
        rt01("restore_missing_plugins"),
        (ExecContext::Init, Severity::Low)
    );
    assert_eq!(rt01("unpack_bundle"), (ExecContext::Other, Severity::High));
    assert_eq!(rt01("watch_bundles"), (ExecContext::Other, Severity::High));
}

/// The hooks DRF's generic views call on every request
/// (`get_serializer_context`, `perform_update`) are request handlers: an
/// N+1 there is reported in the request's context, not as code of unknown
/// callers.
#[test]
fn generic_view_hooks_are_request_handlers() {
    use weir_audit::facts::ExecContext;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/qe07");
    let project = audit_folder(&root);
    for function in [
        "BladeListCreate.get_serializer_context",
        "EnclosureDetail.perform_update",
    ] {
        assert_eq!(
            project.finding_in("QE-07", function).context,
            ExecContext::RequestHandler,
            "{function}"
        );
    }
}

/// A helper defined inside a function that runs only at boot (`run()`
/// called from the `__main__` guard calls `initialization()`) and called
/// there is startup code too: its per-model lookup is reported one level
/// down. The same nested helper inside a view stays HIGH, and so does a
/// signal receiver that boot code only connects (it runs on every save).
#[test]
fn nested_helpers_of_startup_code_are_startup_code() {
    use weir_audit::facts::ExecContext;
    use weir_audit::report::Severity;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/qe07");
    let project = audit_folder(&root);
    let qe07 = |path: &str| {
        let f = project
            .output
            .findings
            .iter()
            .find(|f| f.rule == "QE-07" && f.path == path)
            .unwrap_or_else(|| panic!("QE-07 in {path}"));
        (f.function.as_str(), f.context, f.severity)
    };
    assert_eq!(
        qe07("app/catalogue/initialization.py"),
        (
            "initialization.<locals>._update_chat_model_options",
            ExecContext::Init,
            Severity::Medium
        )
    );
    assert_eq!(
        qe07("app/catalogue/views.py"),
        (
            "refresh_catalogue.<locals>._update_chat_model_options",
            ExecContext::RequestHandler,
            Severity::High
        )
    );
    let receiver = project
        .output
        .findings
        .iter()
        .find(|f| f.rule == "QE-02" && f.path == "app/catalogue/signals.py")
        .expect("QE-02 in the signal receiver");
    assert_eq!(
        (receiver.context, receiver.severity),
        (ExecContext::Other, Severity::High)
    );
}

/// A function handed to a job queue by reference runs as a background job:
/// FastAPI's `background_tasks.add_task(f, …)`, RQ's `queue.enqueue(f)`
/// (here by dotted path). Its findings say so, and RT-01 weighs a blocking
/// call there as in a worker; an async helper the handler awaits is not one.
#[test]
fn functions_handed_to_a_job_queue_run_as_background_jobs() {
    use weir_audit::facts::ExecContext;
    use weir_audit::report::Severity;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/rt01");
    let project = audit_folder(&root);
    let sent = project.finding_in("RT-01", "send_digest");
    assert_eq!(sent.context, ExecContext::BackgroundJob, "{}", sent.message);
    assert_eq!(sent.severity, Severity::Medium, "{}", sent.message);
    let archived = project.finding_in("RT-02", "archive_digests");
    assert_eq!(archived.context, ExecContext::BackgroundJob);
    let checked = project.finding_in("RT-01", "check_mail_api");
    assert_ne!(checked.context, ExecContext::BackgroundJob);
}

/// A cursor left open is one level below a session or connection, also
/// where the code runs lower itself: in a migration, LOW.
#[test]
fn a_cursor_left_open_in_a_migration_is_low() {
    use weir_audit::report::Severity;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/rl03");
    let project = audit_folder(&root);
    let leaked = project.finding_in("RL-03", "backfill_slugs");
    assert_eq!(leaked.severity, Severity::Low, "{}", leaked.message);
}

/// Rules that pick their severity per case (RT-02 in a loop, QE-08 by
/// what is counted) still sit one level lower in a migration.
#[test]
fn per_case_severities_are_lowered_in_migrations() {
    use weir_audit::report::Severity;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python");
    let rt02 = audit_folder(&fixtures.join("rt02"));
    let listed = rt02.finding_in("RT-02", "normalise_tags");
    assert_eq!(listed.severity, Severity::Low, "{}", listed.message);
    let qe08 = audit_folder(&fixtures.join("qe08"));
    let counted = qe08.finding_in("QE-08", "flag_empty_carts");
    assert_eq!(counted.severity, Severity::Low, "{}", counted.message);
}

/// A `management/` package of a web app (an event's back office) is served
/// per request: its N+1 stays HIGH. Django's `management/commands/` is
/// command-line code, one level down.
#[test]
fn a_management_package_is_not_command_line_code() {
    use weir_audit::facts::ExecContext;
    use weir_audit::report::Severity;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/qe07");
    let project = audit_folder(&root);
    let web = project.finding_in("QE-07", "register_attendees");
    assert_eq!(
        (web.context, web.severity),
        (ExecContext::Other, Severity::High)
    );
    let command = project.finding_in("QE-07", "import_attendees");
    assert_eq!(
        (command.context, command.severity),
        (ExecContext::Init, Severity::Medium)
    );
}

/// A request-scoped session kept open across a network call after its
/// last use is HIGH, with the network call as evidence even when a
/// template read comes first; kept across a template read from disk
/// alone, MEDIUM (as TX-02 weighs file I/O against the network).
#[test]
fn a_session_held_across_file_io_alone_is_medium() {
    use weir_audit::report::Severity;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/rl01");
    let project = audit_folder(&root);
    let sent = project.finding_in("RL-01", "send_receipt");
    assert_eq!(sent.severity, Severity::High, "{}", sent.message);
    assert!(sent.message.contains("httpx.post"), "{}", sent.message);
    let previewed = project.finding_in("RL-01", "preview_receipt");
    assert_eq!(
        previewed.severity,
        Severity::Medium,
        "{}",
        previewed.message
    );
}

/// Receivers of Django's `post_migrate`/`pre_migrate` run at the end of
/// `manage.py migrate`, whether `@receiver(post_migrate)` decorates them or
/// `AppConfig.ready()` connects them: their per-model lookups are
/// reported one level down. A `post_save` receiver connected beside them
/// runs on every save and stays HIGH.
#[test]
fn migrate_signal_receivers_are_management_code() {
    use weir_audit::facts::ExecContext;
    use weir_audit::report::Severity;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python/qe07");
    let project = audit_folder(&root);
    let qe07 = |function: &str| {
        let f = project.finding_in("QE-07", function);
        (f.context, f.severity)
    };
    for function in ["sync_view_permissions", "create_default_roles"] {
        assert_eq!(
            qe07(function),
            (ExecContext::Init, Severity::Medium),
            "{function}"
        );
    }
    assert_eq!(
        qe07("audit_role_change"),
        (ExecContext::Other, Severity::High)
    );
}
