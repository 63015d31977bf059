"""`pull` through the real huggingface_hub against a Hub served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from codeassist.errors import ModelError
from codeassist.runtime import catalogue, hub
from tests.runtime.hub_server import FakeRepo, serve
from tests.support.llama import free_port, runtime_settings

REPO = "ggml-org/gemma-4-E2B-it-GGUF"
Q4 = "gemma-4-E2B-it-Q4_K_M.gguf"
Q8 = "gemma-4-E2B-it-Q8_0.gguf"


@pytest.fixture
def fake_hub() -> Iterator[tuple[FakeRepo, str]]:
    repo = FakeRepo(REPO, {Q4: b"GGUF" + bytes(range(256)) * 40, Q8: b"GGUF" + b"\x08" * 20000,
                           "mmproj-gemma-4-E2B-it-Q8_0.gguf": b"GGUF projector", "README.md": b"# readme"})
    server, url = serve(repo)
    yield repo, url
    server.shutdown()
    server.server_close()


def test_pull_verifies_and_records_the_file(fake_hub: tuple[FakeRepo, str], tmp_path: Path) -> None:
    repo, url = fake_hub
    root = tmp_path / "models"
    messages: list[str] = []
    pulled = hub.pull("gemma-4-e2b", root=root, endpoint=url, report=messages.append)
    assert pulled.path.read_bytes() == repo.files[Q4]
    assert pulled.sha256 == repo.sha(Q4) and not pulled.already_there
    assert any("verified sha256" in m for m in messages)
    settings = runtime_settings(tmp_path, **{"model.name": "gemma-4-e2b"})
    assert catalogue.resolve_model_path(settings, root=root) == pulled.path
    # the second pull finds the verified file and asks the Hub nothing
    seen = len(repo.requests)
    assert hub.pull("gemma-4-e2b", root=root, endpoint=url).already_there
    assert len(repo.requests) == seen
    q8 = hub.pull("gemma-4-e2b:Q8_0", root=root, endpoint=url)
    assert q8.path.name == Q8  # never the mmproj file with the same quant in its name


def test_pull_rejects_a_corrupt_download(fake_hub: tuple[FakeRepo, str], tmp_path: Path) -> None:
    repo, url = fake_hub
    repo.lie_about.add(Q4)
    root = tmp_path / "models"
    with pytest.raises(ModelError, match="corrupt"):
        hub.pull("gemma-4-e2b", root=root, endpoint=url)
    assert not (root / "gemma-4-e2b" / Q4).exists()
    assert catalogue.installed_path(catalogue.parse_spec("gemma-4-e2b"), root) is None


def test_pull_of_a_quant_the_repo_lacks(fake_hub: tuple[FakeRepo, str], tmp_path: Path) -> None:
    repo, url = fake_hub
    del repo.files[Q8]
    with pytest.raises(ModelError, match="has no Q8_0 GGUF file") as info:
        hub.pull("gemma-4-e2b:Q8_0", root=tmp_path, endpoint=url)
    assert Q4 in info.value.message


def test_pull_from_an_unknown_repo_and_an_unreachable_hub(fake_hub: tuple[FakeRepo, str],
                                                          tmp_path: Path) -> None:
    _, url = fake_hub
    with pytest.raises(ModelError, match="was not found on the Hub"):
        hub.pull("gemma-4-e4b", root=tmp_path, endpoint=url)  # this fake hub only has the E2B repo
    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ModelError, match="Cannot reach") as info:
        hub.pull("gemma-4-e2b", root=tmp_path, endpoint=dead)
    assert "model.path" in (info.value.hint or "")
