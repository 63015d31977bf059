"""The terminal surfaces of the chat: the Textual app (``app``) and the plain REPL (``plain``)."""
