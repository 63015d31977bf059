; Names brought in by `from x import Name` count as references to Name.
(import_from_statement name: (dotted_name (identifier) @name) @reference.import)
(import_from_statement name: (aliased_import name: (dotted_name (identifier) @name)) @reference.import)
; Base classes and decorators refer to their definitions.
(class_definition superclasses: (argument_list (identifier) @name) @reference.class)
(decorator (identifier) @name) @reference.call
