(namespace_use_clause (qualified_name) @import)
(namespace_use_clause (name) @import)
