"""Staff usernames and passwords: what is accepted (OWASP ASVS 5.0, V6.2).

Passwords: Unicode-normalised (NFKC, so the same password typed on another keyboard
or system is the same), 12 to 128 characters, no composition rule, not the username
nor containing it, and not easy to guess: zxcvbn's estimate (which knows the 30,000
most common passwords, common words and names, keyboard walks, repeats and
sequences) must reach score 3 (about 10^8 guesses). Nothing is ever truncated: a
password that was accepted can always sign in.

Usernames: a safe alphabet (lower-case ASCII letters, digits, `.`, `_`, `-`), so no
two accounts look alike on screen and no control character reaches a page or a log.
"""
from __future__ import annotations

import re
import unicodedata

from .errors import DirectoryError

__all__ = ["StaffError", "PasswordError", "MIN_PASSWORD", "MAX_PASSWORD", "normalize_password", "check_password", "check_username",
           "USERNAME_RULE"]

MIN_PASSWORD, MAX_PASSWORD = 12, 128
MIN_SCORE = 3
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
USERNAME_RULE = "lettres minuscules sans accent, chiffres, point, tiret ou tiret bas ; 32 caractères au plus"
_ESTIMATE_CHARS = 72  # zxcvbn's own limit; a strong prefix makes the whole at least as strong


class StaffError(DirectoryError):
    code = "staff_error"


class PasswordError(StaffError):
    code = "weak_password"


def normalize_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def check_password(password, username: str = "") -> str:
    """The normalised password, or PasswordError (field `password`) saying why, in French."""
    if not isinstance(password, str):
        raise PasswordError(f"le mot de passe doit faire au moins {MIN_PASSWORD} caractères", field="password")
    password = normalize_password(password)
    if len(password) < MIN_PASSWORD:
        raise PasswordError(f"le mot de passe doit faire au moins {MIN_PASSWORD} caractères", field="password")
    if len(password) > MAX_PASSWORD:
        raise PasswordError(f"le mot de passe doit faire au plus {MAX_PASSWORD} caractères", field="password")
    if not password.strip() or any(unicodedata.category(c) in ("Cc", "Cf") for c in password):
        raise PasswordError("le mot de passe ne peut pas être fait d'espaces ni de caractères invisibles",
                            field="password")
    name = (username or "").strip().casefold()
    if len(name) >= 3 and name in password.casefold():
        raise PasswordError("le mot de passe ne doit pas contenir l'identifiant", field="password")
    from zxcvbn import zxcvbn

    if zxcvbn(password[:_ESTIMATE_CHARS], user_inputs=[name] if name else [])["score"] < MIN_SCORE:
        raise PasswordError("ce mot de passe est trop facile à deviner (mot de passe courant, suite de touches, "
                            "répétition…) : choisissez une phrase de plusieurs mots", field="password")
    return password


def check_username(username) -> str:
    """The username as stored (trimmed), or StaffError (field `username`)."""
    username = (username or "").strip() if isinstance(username, str) else ""
    if not username:
        raise StaffError("identifiant vide", field="username")
    if not USERNAME.fullmatch(username):
        raise StaffError(f"identifiant refusé : {USERNAME_RULE}", field="username")
    return username
