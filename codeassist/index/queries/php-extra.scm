; Calls of plain function names (the grammar's query expects qualified names).
(function_call_expression function: (name) @name) @reference.call
