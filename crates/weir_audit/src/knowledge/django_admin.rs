//! Django's admin change list: which methods it calls once per row.
//! <https://docs.djangoproject.com/en/stable/ref/contrib/admin/#django.contrib.admin.ModelAdmin.list_display>
//!
//! The change list renders a page of rows (`list_per_page`, 100 by
//! default) and calls every callable `list_display` names once per row: a
//! method of the `ModelAdmin` taking `(self, obj)`. Its queryset is the
//! model's, with `select_related()` as `list_select_related` asks, and by
//! default (`list_select_related = False`) a bare `select_related()` when
//! `list_display` names a foreign key field
//! (<https://docs.djangoproject.com/en/stable/ref/contrib/admin/#django.contrib.admin.ModelAdmin.list_select_related>).

/// The class attribute naming the columns of the change list.
pub const LIST_DISPLAY: &str = "list_display";

/// `True` (a bare `select_related()`), or the relations to load.
pub const LIST_SELECT_RELATED: &str = "list_select_related";

/// The admin's queryset; an override may load anything.
pub const QUERYSET_METHOD: &str = "get_queryset";

/// `admin.site.register(Model, ModelAdmin)`, `@admin.register(Model)`.
pub const REGISTER: &str = "register";

/// Where registrations are written: modules named for the admin
/// (`shop/admin.py`, `shop/admin/orders.py`, `myadmin.py`) and modules
/// importing Django's admin (a custom `AdminSite` registering in a method).
pub const MODULE_WORD: &str = "admin";
pub const DJANGO_ADMIN: &str = "django.contrib.admin";

/// A library base of a model admin: Django's `ModelAdmin` and the classes
/// built on it (`UserAdmin`, django-reversion's `VersionAdmin`,
/// django-import-export's `ImportExportModelAdmin`, django-mptt's
/// `DraggableMPTTAdmin`…). Inlines (`TabularInline`, `StackedInline`) are
/// not registered with a site, so the registration decides.
pub fn is_admin_base(name: &str) -> bool {
    name.ends_with("Admin")
}
