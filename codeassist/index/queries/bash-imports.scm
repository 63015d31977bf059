((command name: (command_name (word) @_cmd) argument: (_) @import)
 (#match? @_cmd "^(source|\\.)$"))
