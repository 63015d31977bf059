from __future__ import annotations

from pathlib import Path

import pytest

from codeassist.chat.code import code_blocks, last_code_block, preview_write, write_code
from codeassist.errors import UsageError

ANSWER = """Here you go:

```python
def add(a, b):
    return a + b
```

and in shell:

~~~bash
echo hi
~~~
"""


def test_code_blocks_are_found_in_order() -> None:
    blocks = code_blocks(ANSWER)
    assert [b.language for b in blocks] == ["python", "bash"]
    assert blocks[0].code == "def add(a, b):\n    return a + b\n"
    assert last_code_block(ANSWER) == "echo hi\n"
    assert last_code_block("no code here") is None


def test_an_unclosed_block_runs_to_the_end() -> None:
    assert last_code_block("```\nx = 1\ny = 2") == "x = 1\ny = 2\n"


def test_write_code_previews_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "pkg" / "mod.py"
    assert preview_write(target, "x = 1\n").splitlines()[:3] == [
        "--- /dev/null", "+++ b/mod.py", "@@ -0,0 +1 @@"]
    write_code(target, "x = 1\n")
    assert target.read_text() == "x = 1\n"
    assert "-x = 1" in preview_write(target, "x = 2\n")
    write_code(target, "x = 2\n")
    assert target.read_text() == "x = 2\n"
    assert [p.name for p in target.parent.iterdir()] == ["mod.py"]  # no temporary file left


def test_write_code_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory"):
        write_code(tmp_path, "x")
