"""Anthropic's text editor tool (``str_replace_based_edit_tool``), executed inside one worktree.

Commands: ``view``, ``str_replace``, ``create``, ``insert`` (type ``text_editor_20250728``), plus a
small client tool ``delete_file``. Paths are repository-relative or absolute under the virtual root
``/repo``; anything outside the worktree, inside ``.git``, through a symlink leading out, or a
secret file is refused. A refused command is an :class:`~codeassist.errors.EditError` whose
message goes back to the model as an ``is_error`` tool result; nothing is written in that case.
"""

from __future__ import annotations

import logging
import os
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from codeassist.errors import EditError
from codeassist.refactor.matching import insert_after, replace_unique
from codeassist.refactor.models import EditNote, FileStatus

log = logging.getLogger(__name__)

TOOL_NAME = "str_replace_based_edit_tool"
TOOL_TYPE = "text_editor_20250728"
DELETE_TOOL = "delete_file"
VIRTUAL_ROOT = "/repo"
_SNIPPET_CONTEXT = 4


@dataclass(frozen=True)
class ToolOutcome:
    text: str
    is_error: bool = False


_EDITOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "command": {"type": "string", "enum": ["view", "str_replace", "create", "insert"]},
        "path": {"type": "string"},
        "view_range": {"type": "array", "items": {"type": "integer"}},
        "old_str": {"type": "string"},
        "new_str": {"type": "string"},
        "file_text": {"type": "string"},
        "insert_line": {"type": "integer"},
        "insert_text": {"type": "string"},
    },
    "required": ["command", "path"],
}


def tool_definitions(max_view_chars: int, *, schema: bool = False) -> list[dict[str, Any]]:
    """The ``tools`` list for the Messages API.

    Claude gets Anthropic's schema-less ``text_editor_20250728``; other servers speaking the same
    protocol (``--local``: llama-server) get the same tool spelled out with an input schema.
    """
    editor: dict[str, Any] = {"type": TOOL_TYPE, "name": TOOL_NAME, "max_characters": max_view_chars}
    if schema:
        editor = {"name": TOOL_NAME, "input_schema": _EDITOR_SCHEMA,
                  "description": "View, create and edit files: view, str_replace (exact unique "
                                 "old_str), create, insert (after insert_line)."}
    return [
        editor,
        {
            "name": DELETE_TOOL,
            "description": "Delete one file of the repository (a path relative to the repository root "
                           "or absolute under /repo). Use it only for files the plan removes.",
            "input_schema": {"type": "object", "properties": {"path": {"type": "string"}},
                             "required": ["path"]},
        },
    ]


class EditorTool:
    """Executes text editor commands in ``root`` and remembers which files they touched.

    ``allowed(path)`` is the privacy guard's verdict on a repository-relative path; secrets in
    texts are redacted and restored by the Claude client around every call, not here.
    """

    def __init__(self, root: Path, allowed: Callable[[str], bool] | None = None, *,
                 max_view_chars: int = 60_000) -> None:
        self.root = root
        self._real_root = root.resolve()
        self.allowed = allowed
        self.max_view_chars = max_view_chars
        self.touched: dict[str, FileStatus] = {}
        self.notes: list[EditNote] = []

    # -- entry point -------------------------------------------------------------------------
    def execute(self, name: str, tool_input: Mapping[str, Any]) -> ToolOutcome:
        try:
            if name == DELETE_TOOL:
                return ToolOutcome(self.delete(_str(tool_input, "path")))
            if name != TOOL_NAME:
                raise EditError(f"Unknown tool `{name}`. Use `{TOOL_NAME}` or `{DELETE_TOOL}`.")
            return ToolOutcome(self._dispatch(tool_input))
        except EditError as exc:
            log.info("edit refused: %s", exc.message)
            return ToolOutcome(exc.message, is_error=True)

    def _dispatch(self, args: Mapping[str, Any]) -> str:
        command = args.get("command")
        path = _str(args, "path")
        if command == "view":
            return self.view(path, args.get("view_range"))
        if command == "str_replace":
            return self.str_replace(path, _str(args, "old_str"), _str(args, "new_str", ""))
        if command == "create":
            return self.create(path, _str(args, "file_text"))
        if command == "insert":
            text = args.get("insert_text", args.get("new_str"))
            if not isinstance(text, str):
                raise EditError("`insert` needs `insert_text` (the lines to insert) as a string.")
            return self.insert(path, _int(args, "insert_line"), text)
        raise EditError(f"Unknown command {command!r}. Allowed: view, str_replace, create, insert.")

    # -- paths -------------------------------------------------------------------------------
    def resolve(self, raw: str) -> tuple[Path, str]:
        """The real path and the repository-relative posix path, or EditError."""
        text = raw.strip()
        if not text or "\x00" in text:
            raise EditError("`path` is empty. Give a path relative to the repository root, "
                            "e.g. `src/app.py`.")
        if text == VIRTUAL_ROOT or text.startswith(VIRTUAL_ROOT + "/"):
            text = text[len(VIRTUAL_ROOT):].lstrip("/") or "."
        elif posixpath.isabs(text) or os.path.isabs(text):
            try:
                text = Path(text).resolve().relative_to(self._real_root).as_posix()
            except ValueError:
                raise _outside(raw) from None
        rel = posixpath.normpath(text.replace("\\", "/"))
        if rel == ".." or rel.startswith("../"):
            raise _outside(raw)
        if _in_git_dir(rel):
            raise EditError(f"Refused: `{raw}` is inside `.git`. Only files of the working tree can be "
                            "viewed or edited.")
        full = self.root / rel
        try:
            real_rel = full.resolve().relative_to(self._real_root).as_posix()
        except ValueError:
            raise EditError(f"Refused: `{raw}` leads outside the repository through a symbolic "
                            "link.") from None
        if _in_git_dir(real_rel):
            raise EditError(f"Refused: `{raw}` leads into `.git`. Only files of the working tree "
                            "can be edited.")
        if rel != "." and self.allowed is not None and not self.allowed(rel):
            raise EditError(f"Refused: `{rel}` is a private file (it matches a secret pattern); codeassist "
                            "neither sends nor edits it. Leave it out of the change.")
        return full, rel

    # -- commands ----------------------------------------------------------------------------
    def view(self, raw: str, view_range: Any = None) -> str:
        full, rel = self.resolve(raw)
        if full.is_dir():
            return self._list_dir(full, rel)
        lines = self._read(full, rel).split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        start, end = 1, len(lines)
        if view_range is not None:
            start, end = _range(view_range, len(lines), rel)
        body = "\n".join(f"{n:6}\t{lines[n - 1]}" for n in range(start, end + 1))
        if len(body) > self.max_view_chars:
            body = body[: self.max_view_chars] + "\n<response clipped: use `view_range` to see the rest>"
        return body

    def str_replace(self, raw: str, old: str, new: str) -> str:
        full, rel = self.resolve(raw)
        text = self._read(full, rel)
        applied = replace_unique(text, old, new, path=rel)
        self._write(full, rel, applied.text)
        message = f"The file {rel} has been edited."
        if applied.how != "exact":
            what = ("ignoring whitespace differences" if applied.how == "whitespace"
                    else "across `...` elisions")
            note = f"applied with a {applied.how}-tolerant match at line {applied.line} ({what})"
            self.notes.append(EditNote(rel, applied.line, note))
            message += f" Note: {note}; `new_str` was re-indented to the file's indentation."
        return message + "\n" + self._snippet(applied.text, applied.line, new.count("\n") + 1)

    def create(self, raw: str, file_text: str) -> str:
        full, rel = self.resolve(raw)
        if full.exists():
            raise EditError(f"`{rel}` already exists; `create` does not overwrite. Use `str_replace` to "
                            "change it.")
        try:
            full.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EditError(f"Cannot create the folders for `{rel}`: {exc.strerror}.") from exc
        self._write(full, rel, file_text, created=True)
        return f"File created successfully at: {rel}"

    def insert(self, raw: str, line: int, text: str) -> str:
        full, rel = self.resolve(raw)
        updated = insert_after(self._read(full, rel), line, text, path=rel)
        self._write(full, rel, updated)
        return f"The file {rel} has been edited.\n" + self._snippet(updated, line + 1, text.count("\n") + 1)

    def delete(self, raw: str) -> str:
        full, rel = self.resolve(raw)
        if not full.is_file():
            raise EditError(f"`{rel}` is not a file of the repository; nothing to delete.")
        try:
            full.unlink()
        except OSError as exc:
            raise EditError(f"Cannot delete `{rel}`: {exc.strerror}.") from exc
        if self.touched.get(rel) == "created":
            del self.touched[rel]
        else:
            self.touched[rel] = "deleted"
        return f"Deleted {rel}."

    # -- helpers -----------------------------------------------------------------------------
    def _read(self, full: Path, rel: str) -> str:
        if full.is_dir():
            raise EditError(f"`{rel}` is a directory; this command needs a file.")
        try:
            data = full.read_bytes()
        except FileNotFoundError:
            raise EditError(f"`{rel}` does not exist. Use `view` on a folder to list files, "
                            "or `create`.") from None
        except OSError as exc:
            raise EditError(f"Cannot read `{rel}`: {exc.strerror}.") from exc
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise EditError(f"`{rel}` is not UTF-8 text; it cannot be viewed or edited here.") from None

    def _write(self, full: Path, rel: str, text: str, *, created: bool = False) -> None:
        try:
            full.write_bytes(text.encode("utf-8"))
        except OSError as exc:
            raise EditError(f"Cannot write `{rel}`: {exc.strerror}.") from exc
        if created:
            self.touched[rel] = "modified" if self.touched.get(rel) == "deleted" else "created"
        else:
            self.touched.setdefault(rel, "modified")

    def _snippet(self, text: str, line: int, span: int) -> str:
        lines = text.split("\n")
        lo = max(1, line - _SNIPPET_CONTEXT)
        hi = min(len(lines), line + span + _SNIPPET_CONTEXT)
        body = "\n".join(f"{n:6}\t{lines[n - 1]}" for n in range(lo, hi + 1))
        return "Here is the edited part (`cat -n`):\n" + body

    def _list_dir(self, full: Path, rel: str) -> str:
        entries: list[str] = []
        for dirpath, dirnames, filenames in os.walk(full):
            here = Path(dirpath)
            depth = len(here.relative_to(full).parts)
            visible = sorted(d for d in dirnames if not d.startswith("."))
            dirnames[:] = visible if depth < 1 else []
            for name in sorted(filenames) + [d + "/" for d in visible]:
                if name.startswith("."):
                    continue
                child = (here / name).relative_to(self.root).as_posix()
                if self.allowed is None or self.allowed(child.rstrip("/")):
                    entries.append(child)
        shown = "." if rel == "." else rel
        header = f"Files and folders in {shown} (2 levels, hidden ones left out):\n"
        return header + "\n".join(sorted(entries))


def _outside(raw: str) -> EditError:
    return EditError(f"Refused: `{raw}` is outside the repository. Use paths relative to the repository root "
                     f"(or absolute under {VIRTUAL_ROOT}).")


def _in_git_dir(rel: str) -> bool:
    return any(part.lower() == ".git" for part in PurePosixPath(rel).parts)


def _str(args: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = args.get(key, default)
    if not isinstance(value, str):
        raise EditError(f"`{key}` is missing or not a string.")
    return value


def _int(args: Mapping[str, Any], key: str) -> int:
    value = args.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise EditError(f"`{key}` must be an integer line number.")
    return value


def _range(view_range: Any, count: int, rel: str) -> tuple[int, int]:
    if (not isinstance(view_range, list | tuple) or len(view_range) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in view_range)):
        raise EditError("`view_range` must be two integers [start, end] (end -1: to the end of the file).")
    start, end = int(view_range[0]), int(view_range[1])
    end = count if end == -1 else end
    if not 1 <= start <= max(count, 1) or end < start or end > count:
        raise EditError(f"`view_range` {list(view_range)} does not fit {rel}, which has {count} lines.")
    return start, end
