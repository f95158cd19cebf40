"""Settings, declared once: name, default, help. Read from ORIENTATION_* environment variables."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

__all__ = ["Settings", "SETTINGS_HELP"]

ROOT = Path(__file__).resolve().parent.parent

SETTINGS_HELP = {
    "db": ("ORIENTATION_DB", "var/orientation.db", "Chemin du fichier SQLite de l'annuaire."),
    "data_dir": ("ORIENTATION_DATA", "data", "Dossier des données de départ (services, communes, territoires)."),
    "rules_dir": ("ORIENTATION_RULES", "rules", "Dossier des règles d'orientation (YAML)."),
    "model_dir": ("ORIENTATION_MODEL", "var/nlu-model", "Dossier du classifieur de situations entraîné."),
    "session_ttl": ("ORIENTATION_SESSION_TTL", "1800", "Durée (secondes) après laquelle une conversation inactive est oubliée."),
    "max_sessions": ("ORIENTATION_MAX_SESSIONS", "10000", "Nombre maximal de conversations en cours ; au-delà, « service saturé » (aucune conversation active n'est oubliée pour faire de la place)."),
    "sessions": ("ORIENTATION_SESSIONS", "memory", "Où vivent les conversations : memory (un seul processus) ou redis://hôte:port/base (plusieurs processus, chiffrées)."),
    "session_key": ("ORIENTATION_SESSION_KEY", "", "Clé secrète (32 octets en base64 urlsafe) qui chiffre les conversations et les compteurs dans Redis ; obligatoire avec redis://."),
    "new_chats_per_client": ("ORIENTATION_NEW_CHATS_PER_CLIENT", "60", "Nouvelles conversations permises par adresse en 10 minutes ; au-delà, « service saturé »."),
    "max_body": ("ORIENTATION_MAX_BODY", "65536", "Taille maximale (octets) du corps d'une requête, vérifiée pendant la lecture."),
    "body_timeout": ("ORIENTATION_BODY_TIMEOUT", "10", "Secondes d'attente au plus entre deux morceaux du corps d'une requête."),
    "header_timeout": ("ORIENTATION_HEADER_TIMEOUT", "10", "Secondes au plus pour recevoir les en-têtes d'une requête ; puis la connexion est fermée."),
    "max_connections": ("ORIENTATION_MAX_CONNECTIONS", "500", "Connexions ouvertes au plus par processus ; les suivantes sont fermées aussitôt."),
    "trusted_proxies": ("ORIENTATION_TRUSTED_PROXIES", "", "Adresses ou réseaux des mandataires (reverse proxies) dont on croit l'en-tête X-Forwarded-For ; vide : aucun."),
    "exit_url": ("ORIENTATION_EXIT_URL", "https://meteofrance.com/", "Site neutre ouvert par le bouton « Quitter vite »."),
    "chat_backend": ("ORIENTATION_CHAT_BACKEND", "engine", "Qui répond au chat : engine (le nôtre) ou rasa."),
    "rasa_url": ("ORIENTATION_RASA_URL", "http://127.0.0.1:5005", "Adresse du serveur Rasa quand le chat passe par lui."),
}


def _path(value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else ROOT / p


@dataclass(frozen=True)
class Settings:
    db: Path = field(default_factory=lambda: _path(SETTINGS_HELP["db"][1]))
    data_dir: Path = field(default_factory=lambda: _path(SETTINGS_HELP["data_dir"][1]))
    rules_dir: Path = field(default_factory=lambda: _path(SETTINGS_HELP["rules_dir"][1]))
    model_dir: Path = field(default_factory=lambda: _path(SETTINGS_HELP["model_dir"][1]))
    session_ttl: int = 1800
    max_sessions: int = 10000
    sessions: str = "memory"
    session_key: str = ""
    new_chats_per_client: int = 60
    max_body: int = 65536
    body_timeout: int = 10
    header_timeout: int = 10
    max_connections: int = 500
    trusted_proxies: str = ""
    exit_url: str = "https://meteofrance.com/"
    chat_backend: str = "engine"
    rasa_url: str = "http://127.0.0.1:5005"

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        values = {}
        for f in fields(cls):
            env, default, _ = SETTINGS_HELP[f.name]
            raw = os.environ.get(env, default)
            if f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("str", str):
                values[f.name] = raw
            else:
                values[f.name] = _path(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
