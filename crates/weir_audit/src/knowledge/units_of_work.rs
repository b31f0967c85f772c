//! What belongs in one unit of work, as data for TX-03 (transaction scope
//! too narrow): the words that name an audit or history record, and the
//! attributes whose change is a status change.

/// Words of a model's class or table name (split at `_` and case changes)
/// that mark a record written *about* another change: an audit trail, a
/// history row, an event or outbox message. Such a row belongs in the
/// transaction of the change it records.
pub const AUDIT_RECORD_WORDS: &[&str] = &[
    "audit",
    "audits",
    "history",
    "histories",
    "log",
    "logs",
    "logentry",
    "event",
    "events",
    "outbox",
    "journal",
    "activity",
    "activities",
    "changelog",
    "trail",
    "revision",
    "revisions",
    "transition",
    "transitions",
];

/// Attributes whose assignment changes an entity's status.
pub const STATUS_ATTRIBUTES: &[&str] = &[
    "status",
    "state",
    "stage",
    "phase",
    "is_active",
    "is_approved",
    "approved",
    "is_archived",
    "archived",
    "is_cancelled",
    "cancelled",
    "is_deleted",
    "deleted",
    "is_published",
    "published",
    "live",
    "enabled",
    "is_enabled",
    "locked",
    "is_locked",
    "paid",
    "is_paid",
];

/// The lower-case words of a name: `OrderAuditLog` → `order`, `audit`,
/// `log`; `order_history` → `order`, `history`.
pub fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A model (by class or table name) that records changes to others.
pub fn is_audit_record(class: &str, table: Option<&str>) -> bool {
    words(class)
        .iter()
        .chain(table.map(words).unwrap_or_default().iter())
        .any(|w| AUDIT_RECORD_WORDS.contains(&w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_names_into_words() {
        assert_eq!(words("OrderAuditLog"), vec!["order", "audit", "log"]);
        assert_eq!(words("order_history"), vec!["order", "history"]);
        assert!(is_audit_record("JobEvent", None));
        assert!(is_audit_record("Entry", Some("audit_log")));
        assert!(!is_audit_record("Catalog", Some("catalogs")));
        assert!(!is_audit_record("Blog", Some("blog_posts")));
    }
}
