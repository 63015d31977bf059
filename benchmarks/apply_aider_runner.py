"""Runs aider's SEARCH/REPLACE applier inside its own venv (see aider_venv.py); driven by apply_bench.py.

Reads JSON cases on stdin (``{"text", "old", "new"}``), applies each with aider's own
``do_replace`` (what ``EditBlockCoder.apply_edits`` calls for one block), and prints one JSON
result per case: the new text or null (aider refused), and the seconds it took.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from aider.coders.editblock_coder import DEFAULT_FENCE, do_replace


def main() -> None:
    cases = json.load(sys.stdin)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "case.py"
        for case in cases:
            target.write_text(case["text"], encoding="utf-8")
            start = time.perf_counter()
            try:
                out = do_replace(str(target), case["text"], case["old"], case["new"], DEFAULT_FENCE)
            except ValueError:
                out = None
            elapsed = time.perf_counter() - start
            results.append({"text": out, "seconds": elapsed})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
