; `impl Type` blocks are scopes: their functions become Type's methods.
(impl_item type: (type_identifier) @name) @definition.impl
(impl_item type: (generic_type type: (type_identifier) @name)) @definition.impl
(type_identifier) @name @reference.type
