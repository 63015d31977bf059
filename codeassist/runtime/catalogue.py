"""Model catalogue, resolution of the configured model to a GGUF file, and pulling from the Hub.

``model.path`` (an explicit GGUF) wins over ``model.name``. A name is a catalogue entry, optionally
with a quantisation: ``gemma-4-e4b`` or ``gemma-4-e4b:Q8_0``. The default, ``qwen2.5-coder-0.5b``, is
an offline model installed from the package index (:mod:`codeassist.runtime.embedded`), chosen by
``benchmarks/default_model_bench.py``; Gemma 4 (pulled from the Hub) is the recommended model.

Pulled files live in ``~/.cache/codeassist/models/<name>/`` next to a small manifest recording the
repository, revision and the sha256 checked after the download.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from codeassist import paths
from codeassist.config import Settings
from codeassist.errors import ModelError
from codeassist.runtime import _files, embedded

__all__ = [
    "CATALOGUE",
    "DEFAULT_MODEL",
    "TINY_MODEL",
    "CatalogueModel",
    "ModelChoice",
    "find_entry",
    "installed_path",
    "models_dir",
    "offline_model_notice",
    "parse_spec",
    "recommend",
    "resolve_model_path",
]

log = logging.getLogger(__name__)

TINY_MODEL = "gemma3-270m-tiny"  # the test suite's model without FIM tokens and without a template
DEFAULT_MODEL = "qwen2.5-coder-0.5b"  # what a fresh install uses (the `offline` extra)
RECOMMENDED_DEFAULT = "gemma-4-e4b"
# GPU memory needed beyond the weights: KV cache and compute buffers at the default 8K context.
_OVERHEAD_GB = 1.5


@dataclass(frozen=True)
class CatalogueModel:
    """One model of the catalogue; ``quants`` maps a quantisation to its approximate file size (GB)."""

    name: str
    title: str
    repo: str  # Hugging Face repository; "" for the embedded tiny model
    quants: dict[str, float]
    default_quant: str
    context: int
    summary: str

    def vram_gb(self, quant: str) -> float:
        """Approximate GPU memory for full offload at the default context."""
        return round(self.quants[quant] + _OVERHEAD_GB, 1)

    @property
    def embedded(self) -> bool:
        return not self.repo


CATALOGUE: tuple[CatalogueModel, ...] = (
    CatalogueModel(DEFAULT_MODEL, "Qwen2.5-Coder 0.5B Instruct (offline default)", "", {"Q4_K_M": 0.49},
                   "Q4_K_M", 32_768, "Offline default from the package index: answers everyday coding "
                   "questions on a CPU; small."),
    CatalogueModel("qwen2.5-coder-1.5b", "Qwen2.5-Coder 1.5B Instruct (offline)", "", {"Q4_K_M": 1.12},
                   "Q4_K_M", 32_768, "Offline, from the package index (`codeassist[offline-large]`): "
                   "better answers, ~3x slower."),
    CatalogueModel(TINY_MODEL, "Gemma 3 270M base (offline, tiny)", "", {"Q4_K_M": 0.25}, "Q4_K_M",
                   32_768, "Offline base model (`codeassist[tiny]`): no chat template of its own; "
                   "for tests and demos."),
    CatalogueModel("gemma-4-e2b", "Gemma 4 E2B instruct", "ggml-org/gemma-4-E2B-it-GGUF",
                   {"Q4_K_M": 3.4, "Q8_0": 5.0}, "Q4_K_M", 131_072,
                   "Smallest Gemma 4; fast completions on laptops and small GPUs."),
    CatalogueModel("gemma-4-e4b", "Gemma 4 E4B instruct", "ggml-org/gemma-4-E4B-it-GGUF",
                   {"Q4_K_M": 5.0, "Q8_0": 8.2}, "Q4_K_M", 131_072,
                   "Best balance of speed and quality for completions on an 8-12 GB GPU."),
    CatalogueModel("gemma-4-26b-a4b", "Gemma 4 26B-A4B instruct (MoE, ~4B active)",
                   "ggml-org/gemma-4-26B-A4B-it-GGUF", {"Q4_K_M": 16.9, "Q8_0": 27.0}, "Q4_K_M", 262_144,
                   "Mixture of experts: near-31B quality at the speed of a 4B model; needs 24 GB+."),
    CatalogueModel("gemma-4-31b", "Gemma 4 31B instruct", "ggml-org/gemma-4-31B-it-GGUF",
                   {"Q4_K_M": 18.7, "Q8_0": 32.6}, "Q4_K_M", 262_144,
                   "Largest dense Gemma 4; best chat and snippets, slower completions."),
)
# Preferred (model, quant) pairs, best first, for a recommendation by GPU memory.
_PREFERENCE = (
    ("gemma-4-26b-a4b", "Q8_0"), ("gemma-4-31b", "Q8_0"), ("gemma-4-26b-a4b", "Q4_K_M"),
    ("gemma-4-31b", "Q4_K_M"), ("gemma-4-e4b", "Q8_0"), ("gemma-4-e4b", "Q4_K_M"),
    ("gemma-4-e2b", "Q8_0"), ("gemma-4-e2b", "Q4_K_M"),
)


@dataclass(frozen=True)
class ModelChoice:
    entry: CatalogueModel
    quant: str

    @property
    def spec(self) -> str:
        if self.quant == self.entry.default_quant:
            return self.entry.name
        return f"{self.entry.name}:{self.quant}"


def find_entry(name: str) -> CatalogueModel:
    for entry in CATALOGUE:
        if entry.name == name.lower():
            return entry
    known = ", ".join(e.name for e in CATALOGUE)
    raise ModelError(f"There is no model called {name!r} in the catalogue.",
                     hint=f"Known models: {known} (`codeassist model list`), or set `model.path` "
                          "to a GGUF file.")


def parse_spec(spec: str) -> ModelChoice:
    """``name`` or ``name:QUANT`` → a catalogue entry and a quantisation it offers."""
    name, _, quant = spec.strip().partition(":")
    entry = find_entry(name)
    if not quant:
        return ModelChoice(entry, entry.default_quant)
    for known in entry.quants:
        if known.lower() == quant.lower():
            return ModelChoice(entry, known)
    raise ModelError(f"{entry.name} has no quantisation {quant!r}.",
                     hint=f"Available: {', '.join(entry.quants)}.")


def recommend(vram_gb: float | None) -> ModelChoice:
    """The best catalogue model that fits fully in ``vram_gb`` of GPU memory (None: no GPU)."""
    if vram_gb is not None:
        for name, quant in _PREFERENCE:
            entry = find_entry(name)
            if entry.vram_gb(quant) <= vram_gb:
                return ModelChoice(entry, quant)
    # CPU only, or a small GPU: the smallest Gemma 4 still works (partly offloaded / on the CPU).
    return ModelChoice(find_entry("gemma-4-e2b"), "Q4_K_M")


def models_dir() -> Path:
    return paths.cache_dir() / "models"


def manifest_path(choice: ModelChoice, root: Path) -> Path:
    return root / choice.entry.name / f"{choice.quant}.json"


def installed_path(choice: ModelChoice, root: Path | None = None) -> Path | None:
    """The pulled, verified file of ``choice``, or None when it was not pulled (or is gone)."""
    manifest = _files.read_json(manifest_path(choice, root or models_dir()))
    if manifest is None:
        return None
    path = Path(str(manifest.get("path", "")))
    if not path.is_file() or path.stat().st_size != manifest.get("size"):
        return None
    return path


def embedded_model_path(name: str) -> Path:
    """The offline model ``name``, assembled from its packages on first use (and verified)."""
    model = embedded.find(name)
    if model is None:
        raise ModelError(f"{name} is not an offline model.", hint="`codeassist model list` shows them.")
    return embedded.assemble(model)


def resolve_model_path(settings: Settings, root: Path | None = None) -> Path:
    """The GGUF file the configured model stands for (assembling an offline model if needed)."""
    explicit = settings.model.path
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ModelError(f"`model.path` is {explicit}, but that file does not exist.",
                             hint="Fix `model.path`, or remove it and choose a catalogue model "
                                  "with `codeassist model use NAME`.")
        return path.resolve()
    choice = parse_spec(settings.model.name)
    if choice.entry.embedded:
        return embedded_model_path(choice.entry.name)
    pulled = installed_path(choice, root)
    if pulled is None:
        raise ModelError(f"The model {choice.spec} has not been downloaded yet.",
                         hint=f"Download it with `codeassist model pull {choice.spec}`.")
    return pulled


def offline_installed(entry: CatalogueModel) -> bool:
    """Whether the packages of the offline model ``entry`` are installed."""
    model = embedded.find(entry.name)
    return model is not None and (embedded.installed(model) is not None or embedded.packages_installed(model))


def offline_model(settings: Settings) -> CatalogueModel | None:
    """The offline (package-index) catalogue model in use, or None (Gemma 4, a path, a server)."""
    if settings.server.url or settings.model.path:
        return None
    try:
        entry = parse_spec(settings.model.name).entry
    except ModelError:
        return None
    return entry if entry.embedded else None


def offline_model_notice(settings: Settings) -> str | None:
    """The sentence to show once per session while an offline model is in use, else None.

    Attached to a server elsewhere (``server.url``), that server's model is in use: no notice.
    """
    entry = offline_model(settings)
    if entry is None:
        return None
    how = (f"Gemma 4 is the recommended model: `codeassist model pull {RECOMMENDED_DEFAULT}` and "
           f"`codeassist model use {RECOMMENDED_DEFAULT}` (`codeassist model list` shows what fits "
           "your GPU).")
    if entry.name == TINY_MODEL:
        return (f"codeassist is using the tiny offline model {entry.title.split(' (')[0]}: a base model "
                f"for tests and demos, its answers are poor. {how}")
    return (f"codeassist is using the offline model {entry.title.split(' (')[0]}: small, private, good "
            f"for everyday questions on a CPU. {how}")
