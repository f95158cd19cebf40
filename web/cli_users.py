"""`orientation users ...`: staff accounts from the command line, a thin skin over
directory.staff. Registered in web/cli.py with `cli.add_command(users_group)`; the
parent group puts the Settings in the click context object.
"""
from __future__ import annotations

import sys

import click

from directory import connect, migrate
from directory.staff import ROLES, StaffError, add_user, disable_user, set_password

__all__ = ["users_group"]


def _by() -> str:
    """Who changes accounts from the command line, for the audit log."""
    from .cli_opendata import _login

    return "cli:" + _login()


def _db(settings):
    db = connect(settings.db)
    migrate(db)
    return db


def _fail(message: str) -> None:
    click.echo(message[:1].upper() + message[1:] + ".", err=True)
    sys.exit(1)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        # One line, for scripts: printf '%s\n' "$PASSWORD" | orientation users add ...
        return sys.stdin.readline().rstrip("\r\n")
    # Asked twice by hand: click's own confirmation speaks English.
    first = click.prompt("Mot de passe (12 à 128 caractères, difficile à deviner)", hide_input=True, show_default=False)
    again = click.prompt("Le même mot de passe, encore une fois", hide_input=True, show_default=False)
    if first != again:
        _fail("les deux mots de passe ne sont pas identiques : rien n'a changé")
    return first


@click.group("users")
def users_group():
    """Comptes du personnel : lecteur, editeur, admin."""


@users_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="lecteur (recherche, fiches pros), editeur (modifie les fiches), admin (gère les comptes).")
@click.option("--password-stdin", is_flag=True, help="Lire le mot de passe sur l'entrée standard (une ligne).")
@click.pass_obj
def users_add(settings, username, role, password_stdin):
    """Créer un compte ; le mot de passe est demandé deux fois."""
    try:
        add_user(_db(settings), username, _password(password_stdin), role, by=_by())
    except StaffError as exc:
        _fail(exc.message)
    click.echo(f"Compte « {username.strip()} » créé (rôle : {role}).")


@users_group.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Lire le mot de passe sur l'entrée standard (une ligne).")
@click.pass_obj
def users_passwd(settings, username, password_stdin):
    """Changer le mot de passe d'un compte (ferme ses sessions ouvertes)."""
    try:
        set_password(_db(settings), username, _password(password_stdin), by=_by())
    except StaffError as exc:
        _fail(exc.message)
    click.echo(f"Mot de passe de « {username} » changé ; ses sessions ouvertes sont fermées.")


@users_group.command("disable")
@click.argument("username")
@click.pass_obj
def users_disable(settings, username):
    """Désactiver un compte (ferme ses sessions ouvertes)."""
    try:
        disable_user(_db(settings), username, by=_by())
    except StaffError as exc:
        _fail(exc.message)
    click.echo(f"Compte « {username} » désactivé ; ses sessions ouvertes sont fermées.")
