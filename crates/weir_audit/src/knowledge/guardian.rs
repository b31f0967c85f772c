//! django-guardian's object permissions: its shortcuts build Django
//! QuerySets of the users, groups or objects holding a permission, which run
//! when evaluated (`list(get_users_with_perms(obj).values_list("id", flat=True))`).
//! <https://django-guardian.readthedocs.io/en/stable/api/guardian.shortcuts.html>

use super::{ObjKind::QuerySet, Pack, ctor};

pub const PACK: Pack = Pack {
    name: "guardian",
    roots: &["guardian"],
    funcs: &[
        ctor("guardian.shortcuts.get_users_with_perms", QuerySet),
        ctor("guardian.shortcuts.get_groups_with_perms", QuerySet),
        ctor("guardian.shortcuts.get_objects_for_user", QuerySet),
        ctor("guardian.shortcuts.get_objects_for_group", QuerySet),
    ],
    types: &[],
    methods: &[],
    hints: &[],
    attributes: &[],
};
