"""`orientation export hsds|csv PATH`, `orientation import csv|hsds|annuaire PATH` and
`orientation signals load PATH`: thin skins over `directory.hsds`, `directory.csvio`,
`directory.hsds_import`, `directory.annuaire` and `directory.watch`. Registered in
web/cli.py with `cli.add_command`."""
from __future__ import annotations

import getpass
import json
from pathlib import Path

import click

from directory import DirectoryError, annuaire, connect, csvio, hsds, hsds_import, watch

from .settings import Settings

__all__ = ["export_group", "import_group", "signals_group"]

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


def _types(value: str | None) -> list[str] | None:
    return [t.strip() for t in value.split(",") if t.strip()] if value else None


@import_group.command("annuaire")
@click.argument("path", type=PATH)
@click.option("--types", help="Types de l'annuaire à importer, séparés par des virgules "
                              "(défaut : ceux de data/annuaire.yaml, default_types).")
@click.option("--departement", help="Code du département ; doit être celui de l'annuaire (défaut : le sien).")
@click.option("--date", "file_date", help="Date du fichier, AAAA-MM-JJ (défaut : la date du fichier sur le disque).")
@click.option("--apply", "do_apply", is_flag=True, help="Écrire les changements (sans cette option : simulation).")
@click.option("--user", default=_login, show_default="votre identifiant système",
              help="Nom inscrit dans le journal des modifications.")
@click.option("--json", "as_json", is_flag=True, help="Le résultat en JSON.")
@click.pass_obj
def import_annuaire(settings: Settings, path: Path, types, departement, file_date, do_apply, user, as_json):
    """Importer l'annuaire de l'administration (DILA, export JSON « base de données locales ») :
    simulation par défaut, --apply pour écrire (une transaction, journalisée)."""
    cli = _cli()
    try:
        directory = cli._directory(settings)
        plan = annuaire.plan_import(directory, path, types=_types(types), departement=departement,
                                    file_date=file_date, data_dir=settings.data_dir)
        counts = annuaire.apply_import(directory, plan, f"import-annuaire:{user}") if do_apply else plan.counts()
    except DirectoryError as exc:
        cli._fail(f"Rien n'a été importé : {exc.message}")
    if as_json:
        cli._dump({"applied": do_apply, **counts,
                   "conflicts": [{"id": c.service_id, "field": c.field, "staff": c.staff, "file": c.file}
                                 for c in plan.conflicts], "warnings": plan.warnings})
        return
    for line in plan.lines():
        click.echo(line)
    if do_apply:
        click.echo(f"Écrit : {counts['added']} ajout(s), {counts['changed']} modification(s), "
                   f"{counts['removed']} archivage(s), {counts['conflicts']} conflit(s) laissé(s) à l'équipe. "
                   "Redémarrez le serveur pour qu'il voie les changements.")
    else:
        click.echo("Simulation : rien n'a été écrit. Relancez avec --apply pour importer.")


@import_group.command("hsds")
@click.argument("path", type=PATH)
@click.option("--apply", "do_apply", is_flag=True, help="Écrire les changements (sans cette option : simulation).")
@click.option("--user", default=_login, show_default="votre identifiant système",
              help="Nom inscrit dans le journal des modifications.")
@click.pass_obj
def import_hsds(settings: Settings, path: Path, do_apply, user):
    """Importer un export HSDS 3.0 (celui de « orientation export hsds ») : crée ou met à jour
    chaque service par son identifiant ; simulation par défaut, --apply pour écrire."""
    cli = _cli()
    try:
        directory = cli._directory(settings)
        plan = hsds_import.plan_hsds(directory, path)
        counts = hsds_import.apply_hsds(directory, plan, f"import-hsds:{user}") if do_apply else plan.counts()
    except DirectoryError as exc:
        cli._fail(f"Rien n'a été importé : {exc.message}")
    verb = "Importé" if do_apply else "Simulation (rien n'a été écrit ; --apply pour importer)"
    click.echo(f"{verb} : {counts['services']} services, {counts['created']} à créer, {counts['changed']} à "
               f"modifier, {counts['unchanged']} inchangé(s).")


@click.group("signals")
def signals_group():
    """Signalements des campagnes de vérification (visibles de l'équipe seulement)."""


@signals_group.command("load")
@click.argument("path", type=PATH)
@click.pass_obj
def signals_load(settings: Settings, path: Path):
    """Charger les alertes d'un fichier de veille (Markdown) comme signalements sur les fiches."""
    cli = _cli()
    try:
        counts = watch.load_watch(cli._directory(settings), path)
    except DirectoryError as exc:
        cli._fail(f"Rien n'a été chargé : {exc.message}")
    click.echo(f"Veille {path.name} : {counts['signals']} signalement(s), {counts['added']} nouveau(x), "
               f"{counts['already']} déjà chargé(s).")
