"""Services as read from the database, and their public Contact form (see contracts.md)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .hours import PARIS, open_now
from .phones import Phone

__all__ = ["Service", "contact", "address_line", "WAYS_IN"]

# The ways a person can reach a service, in the order a contact card shows them.
WAYS_IN = ("phone", "sms", "url", "email", "address")


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    organization: str | None
    category: str
    description: str
    url: str | None
    visibility: str
    cost: str | None
    emergency: bool
    access: str | None
    hours: str | None
    ages: tuple[str, ...]
    roles: tuple[str, ...]
    source: str | None
    verified_on: str | None
    a_verifier: bool
    phones: tuple[Phone, ...]
    situations: tuple[str, ...]
    area: tuple[str, ...]
    address: dict | None
    confidential_address: bool
    status: str = "active"
    version: int = 1
    source_id: str | None = None
    closures: tuple[tuple[str, str, str | None], ...] = ()  # (start, end, reason), ISO dates
    email: str | None = None
    genders: tuple[str, ...] = ()  # empty: everyone; ("femme",): women only
    languages: tuple[str, ...] = ()  # ISO 639 codes the service speaks, where a source says so

    def closure_on(self, day: str) -> tuple[str, str, str | None] | None:
        """The temporary closure that applies on `day` (ISO date), if any."""
        return next((c for c in self.closures if c[0] <= day <= c[1]), None)

    @property
    def voice(self) -> Phone | None:
        return next((p for p in self.phones if p.type == "voice"), None)

    @property
    def sms_phone(self) -> Phone | None:
        return next((p for p in self.phones if p.type == "sms"), None)

    @property
    def is_public(self) -> bool:
        return self.visibility == "public" and self.status == "active"

    def public_address(self) -> dict | None:
        # Shelters' addresses are confidential: never in any public output.
        return None if self.confidential_address else self.address

    def ways_in(self) -> tuple[str, ...]:
        """How a person can reach the service by themselves (codes of WAYS_IN).

        An address counts only when it is public and the hours say when to come:
        an address alone does not tell a person they will be received.
        """
        ways = []
        if self.voice:
            ways.append("phone")
        if self.sms_phone:
            ways.append("sms")
        if self.url:
            ways.append("url")
        if self.email:
            ways.append("email")
        if address_line(self.public_address()) and self.hours:
            ways.append("address")
        return tuple(ways)

    @property
    def reachable(self) -> bool:
        """At least one way in: a measure or a unit reached only through others is not a contact."""
        return bool(self.ways_in())


def address_line(address: dict | None) -> str | None:
    """An address as one line ("1 rue de la Paix, 02000 Laon"), or None when empty."""
    if not address:
        return None
    town = " ".join(str(x) for x in (address.get("postal_code"), address.get("city")) if x)
    line = ", ".join(x for x in (address.get("street"), town) if x)
    return line or None


def contact(service: Service, why: str, now: datetime | None = None) -> dict:
    """The Contact object of the public contract for one service."""
    voice, sms = service.voice, service.sms_phone
    at = now or datetime.now(PARIS)
    closed = service.closure_on(at.date().isoformat())
    result = {
        "id": service.id,
        "name": service.name,
        "phone": voice.number if voice else None,
        "phone_display": voice.display if voice else (sms.display if sms else None),
        "tel": voice.tel if voice else None,
        "sms": sms.number if sms else None,
        "url": service.url,
        "hours": service.hours,
        "open_now": False if closed else open_now(service.hours, now),
        "why": why,
        "verified_on": service.verified_on,
        "source": service.source,
        # optional fields (contracts.md): one more way in, and the public address on one line
        "email": service.email,
        "address": address_line(service.public_address()),
        # optional (issue 14): the languages the service speaks, only where a source says so
        "languages": list(service.languages),
    }
    if closed:
        # optional field (contracts.md: extend, never rename): shown in the chat and the search
        result["closed"] = {"until": closed[1], "reason": closed[2]}
    return result
