//! Collects what each source says about the stack and turns it into the
//! context's `tech_stack`: implications added (asyncpg → PostgreSQL,
//! FastAPI → asyncio), sources ordered by authority, the version taken from
//! the most authoritative source that states one. Disagreeing sources are
//! all kept.

use std::collections::{BTreeMap, HashMap, HashSet};

use weir_audit::context::catalog::{self, Technology};
use weir_audit::context::{Component, Origin, OriginKind, TechStack};

/// Files whose imports are kept as sources, per technology: enough to show
/// where, not every file (the first import of each file).
const MAX_IMPORT_SOURCES: usize = 3;

#[derive(Default)]
pub struct StackBuilder {
    found: BTreeMap<&'static str, Vec<Origin>>,
    // What `accepts` asks, kept beside the origins: scanning them instead
    // made a file naming one package thousands of times quadratic (found
    // by fuzzing). Every origin's (technology, file, kind, line); the files
    // with an import origin, and how many, per technology.
    places: HashSet<(&'static str, String, OriginKind, u32)>,
    import_files: HashSet<(&'static str, String)>,
    imports: HashMap<&'static str, usize>,
}

impl StackBuilder {
    /// Records where `tech` was found; false when that origin was already
    /// known (or the import sources are full).
    pub fn add(&mut self, tech: &'static Technology, origin: Origin) -> bool {
        if !self.accepts(tech, &origin.file, origin.line, origin.kind) {
            return false;
        }
        self.places
            .insert((tech.id, origin.file.clone(), origin.kind, origin.line));
        if origin.kind == OriginKind::Import {
            self.import_files.insert((tech.id, origin.file.clone()));
            *self.imports.entry(tech.id).or_default() += 1;
        }
        self.found.entry(tech.id).or_default().push(origin);
        true
    }

    /// Whether [`add`](Self::add) would record an origin of this kind at
    /// this place: asked first where building the origin costs (imports).
    pub fn accepts(
        &self,
        tech: &'static Technology,
        file: &str,
        line: u32,
        kind: OriginKind,
    ) -> bool {
        if !self.found.contains_key(tech.id) {
            return true;
        }
        // An import counts once per file, whatever its line.
        if kind == OriginKind::Import {
            let imports = self.imports.get(tech.id).copied().unwrap_or_default();
            return imports < MAX_IMPORT_SOURCES
                && !self.import_files.contains(&(tech.id, file.to_string()));
        }
        !self
            .places
            .contains(&(tech.id, file.to_string(), kind, line))
    }

    pub fn build(mut self) -> TechStack {
        self.add_implied();
        let mut stack = TechStack::default();
        for (id, mut origins) in self.found {
            let Some(tech) = catalog::by_id(id) else {
                continue;
            };
            origins.sort_by(|a, b| (a.kind, &a.file, a.line).cmp(&(b.kind, &b.file, b.line)));
            let version = origins.iter().find_map(|o| o.version.clone());
            for (role, name) in tech.roles {
                stack.role_mut(*role).push(Component {
                    id: id.to_string(),
                    name: (*name).to_string(),
                    version: version.clone(),
                    sources: origins.clone(),
                });
            }
        }
        stack
    }

    /// A technology found directly implies others; an implied one gets an
    /// `implied` source only when nothing names it directly.
    fn add_implied(&mut self) {
        loop {
            let mut added = false;
            let present: Vec<&'static str> = self.found.keys().copied().collect();
            for id in present {
                let Some(tech) = catalog::by_id(id) else {
                    continue;
                };
                let Some(first) = self.found[id].first().cloned() else {
                    continue;
                };
                let name = tech.roles.first().map_or(id, |(_, n)| n);
                for implied in tech.implies {
                    let Some(target) = catalog::by_id(implied) else {
                        continue;
                    };
                    let direct = self.found.get(implied).is_some_and(|origins| {
                        origins.iter().any(|o| o.kind != OriginKind::Implied)
                    });
                    let already = self.found.get(implied).is_some_and(|origins| {
                        origins
                            .iter()
                            .any(|o| o.text == format!("implied by {name}"))
                    });
                    if direct || already {
                        continue;
                    }
                    // Two technologies named on the same line implying the
                    // same one: the second origin is a duplicate, and
                    // counting it as added would loop forever.
                    added |= self.add(
                        target,
                        Origin {
                            file: first.file.clone(),
                            line: first.line,
                            kind: OriginKind::Implied,
                            text: format!("implied by {name}"),
                            version: None,
                        },
                    );
                }
            }
            if !added {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(file: &str, line: u32, kind: OriginKind, version: Option<&str>) -> Origin {
        Origin {
            file: file.into(),
            line,
            kind,
            text: String::new(),
            version: version.map(Into::into),
        }
    }

    #[test]
    fn versions_by_authority_conflicts_kept_implications_added() {
        let mut b = StackBuilder::default();
        let pg = catalog::by_id("postgresql").unwrap();
        b.add(
            pg,
            origin(
                "docs/project/tech_stack.md",
                3,
                OriginKind::Docs,
                Some("15"),
            ),
        );
        b.add(
            pg,
            origin("docker-compose.yml", 3, OriginKind::Compose, Some("16")),
        );
        b.add(
            catalog::by_id("asyncpg").unwrap(),
            origin("pyproject.toml", 15, OriginKind::Manifest, Some("0.29")),
        );
        b.add(
            catalog::by_id("fastapi").unwrap(),
            origin("pyproject.toml", 12, OriginKind::Manifest, None),
        );
        let stack = b.build();
        let pg = stack.component("postgresql").unwrap();
        assert_eq!(pg.version.as_deref(), Some("16"));
        assert_eq!(
            pg.sources.len(),
            2,
            "asyncpg's implication is not added: {pg:?}"
        );
        assert_eq!(pg.sources[1].version.as_deref(), Some("15"));
        let asyncio = stack.component("asyncio").unwrap();
        assert_eq!(asyncio.sources.len(), 2, "implied by FastAPI and asyncpg");
        assert!(
            asyncio
                .sources
                .iter()
                .all(|s| s.kind == OriginKind::Implied)
        );
    }

    #[test]
    fn two_technologies_on_one_line_implying_the_same_one_terminate() {
        let mut b = StackBuilder::default();
        for id in ["asyncpg", "psycopg"] {
            b.add(
                catalog::by_id(id).unwrap(),
                origin("pyproject.toml", 20, OriginKind::Manifest, None),
            );
        }
        let stack = b.build();
        assert_eq!(stack.component("postgresql").unwrap().sources.len(), 1);
    }

    #[test]
    fn django_fills_two_roles() {
        let mut b = StackBuilder::default();
        b.add(
            catalog::by_id("django").unwrap(),
            origin("requirements.txt", 1, OriginKind::Manifest, Some("5.0")),
        );
        let stack = b.build();
        assert_eq!(stack.orms[0].name, "Django ORM");
        assert_eq!(stack.web_frameworks[0].name, "Django");
    }
}
