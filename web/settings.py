"""Settings, declared once: each field of `Settings` names its environment variable,
its default (as the variable would spell it) and a French help line. Everything
else (the docs test, `SETTINGS_HELP`) is derived from these declarations.

Settings are read once, when the application or the command starts
(`Settings.from_env`); a value that cannot be read stops the start with a French
message naming the variable, rather than being replaced silently.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable

__all__ = ["Settings", "SettingsError", "SETTINGS_HELP"]

ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting's value cannot be read; `message` is French and names the variable."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _path(value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else ROOT / p


def _whole(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = int(value)
        if number < minimum:
            raise ValueError(value)
        return number
    parse.expected = f"un nombre entier supérieur ou égal à {minimum}"
    return parse


def _flag(value: str) -> bool:
    if value not in ("", "0", "1"):
        raise ValueError(value)
    return value == "1"


_flag.expected = "1 (oui) ou 0 (non)"


def _setting(env: str, default: str, help: str, parse: Callable[[str], object] = str):
    """One setting: its variable, its default as text, its help line, how to read it."""
    return field(default_factory=lambda: parse(default),
                 metadata={"env": env, "default": default, "help": help, "parse": parse})


@dataclass(frozen=True)
class Settings:
    db: Path = _setting("ORIENTATION_DB", "var/orientation.db", "Chemin du fichier SQLite de l'annuaire.", _path)
    data_dir: Path = _setting("ORIENTATION_DATA", "data",
                              "Dossier des données de départ (services, communes, territoires).", _path)
    rules_dir: Path = _setting("ORIENTATION_RULES", "rules", "Dossier des règles d'orientation (YAML).", _path)
    model_dir: Path = _setting("ORIENTATION_MODEL", "var/nlu-model", "Dossier du classifieur de situations entraîné.",
                               _path)
    session_ttl: int = _setting("ORIENTATION_SESSION_TTL", "1800",
                                "Durée (secondes) après laquelle une conversation inactive est oubliée.", _whole(1))
    max_sessions: int = _setting("ORIENTATION_MAX_SESSIONS", "10000",
                                 "Nombre maximal de conversations en cours ; au-delà, « service saturé » (aucune "
                                 "conversation active n'est oubliée pour faire de la place).", _whole(1))
    sessions: str = _setting("ORIENTATION_SESSIONS", "memory",
                             "Où vivent les conversations : memory (un seul processus) ou redis://hôte:port/base "
                             "(plusieurs processus, chiffrées).")
    session_key: str = _setting("ORIENTATION_SESSION_KEY", "",
                                "Clé secrète (32 octets en base64 urlsafe) qui chiffre les conversations et les "
                                "compteurs dans Redis ; obligatoire avec redis://.")
    new_chats_per_client: int = _setting("ORIENTATION_NEW_CHATS_PER_CLIENT", "60",
                                         "Nouvelles conversations permises par adresse en 10 minutes ; au-delà, "
                                         "« service saturé ».", _whole(1))
    max_body: int = _setting("ORIENTATION_MAX_BODY", "65536",
                             "Taille maximale (octets) du corps d'une requête, vérifiée pendant la lecture.", _whole(1024))
    body_timeout: int = _setting("ORIENTATION_BODY_TIMEOUT", "10",
                                 "Secondes d'attente au plus entre deux morceaux du corps d'une requête.", _whole(1))
    header_timeout: int = _setting("ORIENTATION_HEADER_TIMEOUT", "10",
                                   "Secondes au plus pour recevoir les en-têtes d'une requête ; puis la connexion "
                                   "est fermée.", _whole(1))
    max_connections: int = _setting("ORIENTATION_MAX_CONNECTIONS", "500",
                                    "Connexions ouvertes au plus par processus ; les suivantes sont fermées aussitôt.",
                                    _whole(1))
    trusted_proxies: str = _setting("ORIENTATION_TRUSTED_PROXIES", "",
                                    "Adresses ou réseaux des mandataires (reverse proxies) dont on croit l'en-tête "
                                    "X-Forwarded-For ; vide : aucun.")
    exit_url: str = _setting("ORIENTATION_EXIT_URL", "https://meteofrance.com/",
                             "Site neutre ouvert par le bouton « Quitter vite ».")
    chat_backend: str = _setting("ORIENTATION_CHAT_BACKEND", "engine", "Qui répond au chat : engine (le nôtre) ou rasa.")
    rasa_url: str = _setting("ORIENTATION_RASA_URL", "http://127.0.0.1:5005",
                             "Adresse du serveur Rasa quand le chat passe par lui.")
    verify_months: int = _setting("ORIENTATION_VERIFY_MONTHS", "6",
                                  "Mois après lesquels une fiche non vérifiée revient dans la file de vérification.",
                                  _whole(1))
    insecure_cookies: bool = _setting("ORIENTATION_INSECURE_COOKIES", "0",
                                      "1 : cookie de session sans Secure sur un http qui n'est pas local "
                                      "(développement seulement).", _flag)

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """The settings from the ORIENTATION_* variables; `overrides` (not None) win."""
        values = {}
        for f in fields(cls):
            if overrides.get(f.name) is not None:
                continue
            env, default, parse = f.metadata["env"], f.metadata["default"], f.metadata["parse"]
            raw = os.environ.get(env, default)
            try:
                values[f.name] = parse(raw.strip())
            except ValueError:
                expected = getattr(parse, "expected", "une valeur lisible")
                raise SettingsError(f"{env}={raw!r} : valeur illisible ; attendu : {expected} "
                                    f"(par défaut : {default}).") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


# name -> (variable, default, help): for the docs and their test.
SETTINGS_HELP = {f.name: (f.metadata["env"], f.metadata["default"], f.metadata["help"]) for f in fields(Settings)}
