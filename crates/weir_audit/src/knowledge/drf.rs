//! Django REST framework: which serializer methods DRF calls once per
//! serialized object, and which views serialize a list.
//! <https://www.django-rest-framework.org/api-guide/serializers/>

/// A `ListSerializer` (what `many=True` builds) calls its child's
/// `to_representation(instance)` once per object of the list.
pub const PER_OBJECT_METHOD: &str = "to_representation";

/// `SerializerMethodField`: `to_representation` calls its method,
/// `get_<field>(obj)` by default, once per object.
pub const METHOD_FIELD: &str = "SerializerMethodField";

/// The list serializer itself: its `to_representation(data)` gets the whole
/// collection, once.
pub const LIST_SERIALIZER: &str = "ListSerializer";

/// Views whose `list()` serializes a page of the queryset with
/// `get_serializer(page, many=True)`: `ListModelMixin` and the generic views
/// and viewsets built on it.
pub const LIST_VIEWS: &[&str] = &[
    "ListModelMixin",
    "ListAPIView",
    "ListCreateAPIView",
    "ModelViewSet",
    "ReadOnlyModelViewSet",
];

/// Relational fields that read the related object itself: its `__str__`
/// (`StringRelatedField`) or one of its fields (`SlugRelatedField`).
/// <https://www.django-rest-framework.org/api-guide/relations/>
/// django-taggit's `TagListSerializerField` lists the names of the
/// object's tags (`obj.tags.all()`).
pub const OBJECT_READING_FIELDS: &[&str] = &[
    "StringRelatedField",
    "SlugRelatedField",
    "TagListSerializerField",
];

/// Relational fields that need only the related key: on a foreign key
/// DRF reads `<field>_id` (`use_pk_only_optimization`), with no query;
/// with `many=True` they list the related rows, a query per object.
pub const KEY_ONLY_FIELDS: &[&str] = &["PrimaryKeyRelatedField", "HyperlinkedRelatedField"];

/// A view's `get_serializer_class()` chooses the serializer per action;
/// `self.action == "list"` names the list.
pub const SERIALIZER_CHOOSER: &str = "get_serializer_class";
pub const LIST_ACTION: &str = "list";

/// On when the project imports DRF: its sources (the SerializerMethodField
/// guide) are cited only in the reports of projects that use it. The
/// serializer facts above are found from class bases, not from this pack.
pub const PACK: super::Pack = super::Pack {
    name: "drf",
    roots: &["rest_framework"],
    funcs: &[],
    types: &[],
    methods: &[],
    hints: &[],
    attributes: &[],
};
