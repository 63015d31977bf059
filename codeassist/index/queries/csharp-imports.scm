(using_directive (qualified_name) @import)
(using_directive (identifier) @import)
