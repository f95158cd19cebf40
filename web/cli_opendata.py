"""`orientation export hsds|csv PATH` and `orientation import csv PATH`: thin skins over
`directory.hsds` and `directory.csvio`. Registered in web/cli.py with `cli.add_command`."""
from __future__ import annotations

import getpass
import json
from pathlib import Path

import click

from directory import DirectoryError, connect, csvio, hsds

from .settings import Settings

__all__ = ["export_group", "import_group"]

PATH = click.Path(path_type=Path, dir_okay=False)


def _cli():
    # Imported when a command runs, not at import time: web/cli.py imports this module.
    from . import cli

    return cli


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in this environment (containers, services)
        return "inconnu"


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        _cli()._fail(f"Impossible d'écrire {path} : {exc.strerror or exc}.")


@click.group("export")
def export_group():
    """Exporter l'annuaire : données ouvertes HSDS 3.0, ou CSV complet pour l'équipe."""


@export_group.command("hsds")
@click.argument("path", type=PATH)
@click.pass_obj
def export_hsds(settings: Settings, path: Path):
    """Écrire dans PATH l'export HSDS 3.0 (JSON) des services publics ; « - » pour la sortie standard."""
    try:
        data = hsds.export(_cli()._directory(settings))
    except DirectoryError as exc:
        _cli()._fail(exc.message)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if str(path) == "-":
        click.echo(text, nl=False)
        return
    _write(path, text)
    click.echo(f"Export HSDS 3.0 : {data['total_items']} services publics, "
               f"{len(data['organizations'])} organisations, dans {path}.")


@export_group.command("csv")
@click.argument("path", type=PATH)
@click.pass_obj
def export_csv(settings: Settings, path: Path):
    """Écrire dans PATH tous les services en CSV (usage interne : services pro et adresses confidentielles compris)."""
    try:
        count = csvio.export_csv(_cli()._directory(settings), path)
    except OSError as exc:
        _cli()._fail(f"Impossible d'écrire {path} : {exc.strerror or exc}.")
    click.echo(f"Export CSV : {count} services dans {path}. Fichier interne : ne pas le publier.")


@click.group("import")
def import_group():
    """Importer des services dans l'annuaire."""


@import_group.command("csv")
@click.argument("path", type=PATH)
@click.option("--user", default=_login, show_default="votre identifiant système",
              help="Nom inscrit dans le journal des modifications.")
@click.pass_obj
def import_csv(settings: Settings, path: Path, user: str):
    """Vérifier PATH (CSV de « orientation export csv ») puis remplacer les services (tout ou rien)."""
    try:
        counts = csvio.import_csv(connect(settings.db), path, settings.data_dir, username=f"import-csv:{user}")
    except DirectoryError as exc:  # LoadError lists every problem with its line and field
        _cli()._fail(exc.message)
    click.echo(f"Importé : {counts['services']} services depuis {path} ({counts['created']} créé(s), "
               f"{counts['changed']} modifié(s), {counts['removed']} retiré(s) ; communes et territoires inchangés). "
               "Redémarrez le serveur pour qu'il voie les changements.")
