"""The command line: ``summariser summarise | batch | validate | eval | serve | --version``.

Stage: edge (I/O). Each command builds the settings from its options and the environment,
hands them to the module that does the work (``summarise_command``, ``batch_command``,
``validate_command``, ``eval_command``, ``serve_command``) and turns the outcome into an exit
code through :func:`summariser.console.guarded`: one line on stderr for bad input, never a
traceback (``SUMMARISER_DEBUG=1`` shows one for an internal error).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

import typer

from summariser import __version__
from summariser.batch_command import batch_app
from summariser.console import ExitCode, guarded, say
from summariser.errors import InputError
from summariser.eval_command import eval_app
from summariser.serve_command import serve
from summariser.validate_command import validate_files, validate_jsonl
from summariser.worker_command import worker

if TYPE_CHECKING:
    from summariser.pipeline import SourceFormatOption
    from summariser.summarise_command import OutputFormat

# --- the typer app ----------------------------------------------------------------------------

app = typer.Typer(
    name="summariser",
    help="LLM-assisted financial news summaries: no number is shown as fact unless the source "
    "supports it.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(eval_app, name="eval")
app.add_typer(batch_app, name="batch")
app.command()(serve)
app.command()(worker)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"summariser {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """LLM-assisted financial news summaries: no number is shown as fact unless the source
    supports it."""


@app.command()
def validate(
    source: Annotated[
        str | None,
        typer.Option("--source", "-s", metavar="ARTICLE", help="The article text (- for stdin)."),
    ] = None,
    claims: Annotated[
        str | None,
        typer.Option("--claims", "-c", metavar="CLAIMS.json", help="A JSON list of claims."),
    ] = None,
    jsonl: Annotated[
        str | None,
        typer.Option(
            "--jsonl",
            metavar="REQUESTS.jsonl",
            help='Many requests, one a line: {"id", "source" | "source_path", "claims"}.',
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="OUT", help="Write the JSON here, not stdout."),
    ] = None,
) -> None:
    """Check every figure of every claim against the source, by value.

    Exit 0 when all are supported, 3 when some figure is not, 2 for bad input, 1 for a bug.
    """

    def job() -> ExitCode:
        if jsonl is not None:
            if source is not None or claims is not None:
                raise InputError("give --source with --claims, or --jsonl, not both")
            return validate_jsonl(jsonl, output)
        if source is None and claims is None:
            raise InputError("give --source ARTICLE with --claims CLAIMS.json, or --jsonl FILE")
        if source is None or claims is None:
            raise InputError(
                "--source needs --claims" if claims is None else "--claims needs --source"
            )
        return validate_files(source, claims, output)

    raise typer.Exit(guarded(job))


@app.command()
def summarise(
    article: Annotated[str, typer.Argument(metavar="FILE", help="The article (- for stdin).")],
    backend: Annotated[
        str | None,
        typer.Option(help="openai or offline; default: openai when a key or base URL is set"),
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model name (SUMMARISER_MODEL).")] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible server (OPENAI_BASE_URL).")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="json or markdown.", metavar="FORMAT")
    ] = "json",
    input_format: Annotated[
        str, typer.Option("--input-format", help="auto, text, markdown or html.")
    ] = "auto",
    html: Annotated[
        str | None, typer.Option("--html", metavar="FILE", help="Also write an HTML report.")
    ] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", metavar="OUT", help="Write here, not stdout.")
    ] = None,
    drop_unsupported: Annotated[
        bool, typer.Option("--drop-unsupported", help="Remove items with unsupported figures.")
    ] = False,
) -> None:
    """Summarise one article into checked JSON: every figure verified against the article.

    Exit 0 ok, 3 when unsupported figures remain, 2 bad input, 4 backend failure.
    """

    def job() -> ExitCode:
        from dataclasses import replace

        from summariser.settings import Settings
        from summariser.summarise_command import summarise_file

        out_format = _OUTPUT_FORMATS.get(output_format)
        in_format = _INPUT_FORMATS.get(input_format)
        if out_format is None:
            raise InputError(f"--format must be json or markdown, not {output_format!r}")
        if in_format is None:
            raise InputError(
                f"--input-format must be auto, text, markdown or html, not {input_format!r}"
            )
        settings = Settings.from_env(
            backend=backend, model=model, base_url=base_url, allow_fake=False
        )
        settings = replace(settings, drop_unsupported=drop_unsupported)
        if settings.backend_was_defaulted:
            say(
                "no OPENAI_API_KEY or OPENAI_BASE_URL set: using the offline backend "
                "(deterministic, no model, no network)"
            )
        _, code = summarise_file(
            article,
            settings,
            output_format=out_format,
            output=output,
            html=html,
            input_format=in_format,
        )
        return ExitCode(code)

    raise typer.Exit(guarded(job))


_OUTPUT_FORMATS: dict[str, OutputFormat] = {"json": "json", "markdown": "markdown"}
_INPUT_FORMATS: dict[str, SourceFormatOption] = {
    "auto": "auto",
    "text": "text",
    "markdown": "markdown",
    "html": "html",
}


def main() -> None:
    """The ``summariser`` console script."""
    logging.basicConfig(format="summariser: %(message)s", level=logging.WARNING)
    app(prog_name="summariser")
