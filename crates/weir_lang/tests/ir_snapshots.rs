//! IR snapshots: what the Python frontend produces for representative code.

const SOURCE: &str = r"import time as t
from sqlalchemy.orm import Session
from .db import SessionLocal


class JobService:
    def __init__(self, session: Session):
        self.session = session

    async def run(self, ids):
        for job_id in ids:
            job = self.session.get(Job, job_id)
            t.sleep(1)
        with SessionLocal() as s:
            try:
                s.commit()
            except Exception:
                s.rollback()
                raise
            finally:
                s.close()
        return [j async for j in aiter(ids) if j]
";

#[test]
fn python_lowering() {
    let module = weir_lang::lower("app/services/jobs.py", SOURCE).unwrap();
    insta::assert_json_snapshot!(module);
}

#[test]
fn imports_and_definitions_resolve() {
    let module = weir_lang::lower("app/services/jobs.py", SOURCE).unwrap();
    assert_eq!(module.name, "app.services.jobs");
    assert_eq!(module.resolve("t.sleep").as_deref(), Some("time.sleep"));
    assert_eq!(
        module.resolve("Session").as_deref(),
        Some("sqlalchemy.orm.Session")
    );
    assert_eq!(
        module.resolve("SessionLocal").as_deref(),
        Some("app.services.db.SessionLocal")
    );
    assert_eq!(
        module.resolve("JobService").as_deref(),
        Some("app.services.jobs.JobService")
    );
    let run = module.functions.iter().find(|f| f.name == "run").unwrap();
    assert!(run.is_async);
    assert_eq!(run.qualname, "JobService.run");
}

#[test]
fn syntax_errors_are_recovered_and_reported() {
    let module = weir_lang::lower(
        "m.py",
        "def broken(:\n    pass\n\ndef fine():\n    return 1\n",
    )
    .unwrap();
    assert!(!module.diagnostics.is_empty());
    assert!(module.functions.iter().any(|f| f.name == "fine"));
}

#[test]
fn builtins_and_shadowing() {
    let src = "def a(p):\n    open(p)\n\ndef b(open):\n    open(1)\n";
    let module = weir_lang::lower("m.py", src).unwrap();
    let qualified = |f: usize| {
        let weir_ir::StmtKind::Expr { value } = &module.functions[f].body[0].kind else {
            panic!()
        };
        value.as_call().unwrap().qualified.clone()
    };
    assert_eq!(qualified(1).as_deref(), Some("builtins.open"));
    assert_eq!(qualified(2), None, "a parameter shadows the builtin");
}
