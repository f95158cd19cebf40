"""Phone numbers: validated with phonenumbers for France, shown and linked the French way.

Cost and emergency status are curated data, never derived: phonenumbers rates 3919
as premium-rate and only knows 15/17/18/112 as emergency numbers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import shortnumberinfo

from .errors import DirectoryError

__all__ = ["PhoneError", "Phone", "parse_phone"]

PHONE_TYPES = ("voice", "sms")


class PhoneError(DirectoryError):
    code = "invalid_phone"


@dataclass(frozen=True)
class Phone:
    number: str  # digits as dialled in France: "0323793014", "3919"
    type: str = "voice"

    @property
    def is_short(self) -> bool:
        return len(self.number) < 10

    @property
    def display(self) -> str:
        if self.is_short:
            # "116006" reads better as "116 006"; 2-4 digit numbers stay whole.
            return f"{self.number[:3]} {self.number[3:]}" if len(self.number) == 6 else self.number
        return " ".join(self.number[i : i + 2] for i in range(0, 10, 2))

    @property
    def e164(self) -> str | None:
        # Short numbers have no international form: "+333919" would be meaningless.
        return None if self.is_short else "+33" + self.number[1:]

    @property
    def tel(self) -> str:
        return f"tel:{self.e164 or self.number}"

    @property
    def sms(self) -> str:
        return f"sms:{self.e164 or self.number}"


def parse_phone(raw: object, type: str = "voice") -> Phone:
    """Validate a French phone number (10 digits or short number) and return it normalised."""
    if type not in PHONE_TYPES:
        raise PhoneError(f"type de numéro « {type} » inconnu (attendu : voice ou sms)", field="type")
    if not isinstance(raw, (str, int)) or isinstance(raw, bool):
        raise PhoneError("le numéro doit être une suite de chiffres, par exemple « 03 23 79 30 14 » ou « 3919 »")
    text = str(raw).strip()
    if text.startswith("+33"):
        text = "0" + text[3:]
    digits = re.sub(r"[\s.\-]", "", text)
    if not digits.isdigit():
        raise PhoneError(f"« {raw} » n'est pas un numéro de téléphone : seuls les chiffres sont attendus")
    parsed = phonenumbers.parse(digits, "FR")
    if len(digits) == 10 and digits.startswith("0"):
        if not phonenumbers.is_valid_number(parsed):
            raise PhoneError(f"« {raw} » n'est pas un numéro français valide")
    elif len(digits) <= 6 and not digits.startswith("0"):
        if not shortnumberinfo.is_valid_short_number_for_region(parsed, "FR"):
            raise PhoneError(f"« {raw} » n'est pas un numéro court valide en France")
    else:
        raise PhoneError(
            f"« {raw} » n'a pas la forme d'un numéro français (10 chiffres commençant par 0, ou numéro court comme 3919)"
        )
    return Phone(digits, type)
