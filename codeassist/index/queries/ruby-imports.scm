((call method: (identifier) @_req arguments: (argument_list (string (string_content) @import)))
 (#match? @_req "^require(_relative)?$"))
