//! The context store reaches every rule, and manifests switch knowledge
//! packs on as imports do.

use weir_audit::audit::{Selection, audit, audit_with_context};
use weir_audit::context::{Component, Origin, OriginKind, ProjectContext, Trigger};
use weir_audit::facts::{FunctionFacts, ProjectFacts};

/// A repository helper that receives a DB-API connection from its caller
/// and never imports the driver itself.
const HELPER: &str = "\
def archive_orders(conn, order_ids):
    cursor = conn.cursor()
    for order_id in order_ids:
        cursor.execute(\"UPDATE orders SET archived = true WHERE id = %s\", (order_id,))
    conn.commit()
";

fn declared(id: &str, name: &str) -> Component {
    Component {
        id: id.into(),
        name: name.into(),
        version: Some("2.9".into()),
        sources: vec![Origin {
            file: "requirements.txt".into(),
            line: 3,
            kind: OriginKind::Manifest,
            text: "psycopg2-binary==2.9.9".into(),
            version: Some("2.9".into()),
        }],
    }
}

#[test]
fn manifests_switch_packs_on_and_unused_packs_stay_off() {
    let module = weir_lang::lower("app/repositories/orders.py", HELPER).unwrap();
    let modules = std::slice::from_ref(&module);
    let bare = audit(modules, &Selection::default());
    assert!(!bare.packs.contains(&"dbapi"), "{:?}", bare.packs);
    assert!(!bare.packs.contains(&"django"));

    let mut context = ProjectContext::default();
    context
        .tech_stack
        .drivers
        .push(declared("psycopg2", "psycopg2"));
    let with_stack = audit_with_context(modules, context, &Selection::default());
    assert!(
        with_stack.packs.contains(&"dbapi"),
        "{:?}",
        with_stack.packs
    );
    assert!(
        !with_stack.packs.contains(&"django"),
        "Django is not used: its pack stays off"
    );
    assert!(!with_stack.packs.contains(&"sqlalchemy"));
    assert_eq!(
        with_stack.context.tech_stack.drivers[0].id, "psycopg2",
        "handed back for the report"
    );
}

#[test]
fn every_rule_reads_the_same_context() {
    let module = weir_lang::lower("app/repositories/orders.py", HELPER).unwrap();
    let mut context = ProjectContext::default();
    context.triggers.push(Trigger {
        name: "orders_changed".into(),
        table: "public.orders".into(),
        timing: "AFTER".into(),
        events: vec!["UPDATE".into()],
        level: "ROW".into(),
        function: "notify_order_change".into(),
        notifies: true,
        channel: Some("orders".into()),
        channels: vec!["orders".into()],
        file: "migrations/0003_orders_notify.py".into(),
        line: 14,
        function_defined_at: None,
    });
    let project = ProjectFacts::with_context(std::slice::from_ref(&module), context);
    for function in &module.functions {
        let facts = FunctionFacts::build(&project, &module, function);
        let triggers: Vec<_> = facts.project.context.notify_triggers_on("orders").collect();
        assert_eq!(triggers.len(), 1);
        assert!(std::ptr::eq(facts.project, std::ptr::from_ref(&project)));
    }
}
