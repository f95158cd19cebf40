"""A watch of public sources (a Markdown file such as `veille-aisne-2026-12.md`) as signals.

The watch file is written for people: numbered tables of findings (`| # | Organisation
| … | Source | Date source | Confiance | … |`), a list of sources (`| Réf. | URL |
Titre | Date |`), recommendations, and a table mapping its findings to the
directory's ids (`| id du répertoire | Apport | Réf. |`). What becomes a signal:

- each row of the mapping table, on every entry id it names in backticks: what the
  watch says, with the URL and date of its first source (all sources in the text);
- each mapping row marked *(nouveau)*, and each finding the recommendations name as a
  "nouvelle ressource" (unless already present in the directory): a signal about a
  service that is not in the directory, with its commune as territory. No entry is
  created from the watch here: an entry needs a way to reach it, which staff add
  from a source (see data/services.yaml).

Loading is idempotent: a signal's `ref` is `<file name>:<row>`, unique with its subject.
Problems with the file (missing tables, unknown entry ids) are collected and reported
in French; nothing is written unless the whole file reads.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .db import write_transaction
from .errors import LoadError, Problem
from .repository import Directory
from .signals import add_signal
from .text import fold

__all__ = ["WatchSignal", "read_watch", "load_watch"]

_REF = re.compile(r"\[?S(\d+)\]?(?:\s*-\s*\[?S(\d+)\]?)?")
_ID = re.compile(r"`([a-z0-9]+(?:-[a-z0-9]+)*)`")
_ROW_ID = re.compile(r"^[A-Z]\d+$")
_PLACE = re.compile(r"\b[A-ZÉÈÎ][\wÀ-ÿ'’]+(?:-[\wÀ-ÿ'’]+)*")


@dataclass(frozen=True)
class WatchSignal:
    ref: str
    subject: str
    what: str
    service_id: str | None = None
    place: str | None = None  # a commune name, for signals about services not in the directory
    source_url: str | None = None
    source_date: str | None = None
    confidence: str | None = None


def _plain(cell: str) -> str:
    """Markdown cell text without emphasis marks or escaped pipes."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", cell)
    text = re.sub(r"(?<![\w*])\*(.+?)\*(?![\w*])", r"\1", text)
    return " ".join(text.replace("\\|", "|").split())


def _tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every Markdown table as (header cells, rows of cells)."""
    tables, block = [], []
    for line in text.splitlines() + [""]:
        if line.lstrip().startswith("|"):
            block.append(line.strip())
            continue
        if len(block) >= 2 and re.fullmatch(r"\|[\s:|-]+\|", block[1]):
            cells = [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in block]
            tables.append((cells[0], cells[2:]))
        block = []
    return tables


def _refs(cell: str) -> list[str]:
    out = []
    for m in _REF.finditer(cell):
        first, last = int(m[1]), int(m[2] or m[1])
        out += [f"S{n}" for n in range(first, last + 1)]
    return out


def read_watch(path: str | Path, known_ids: set[str], known_names: dict[str, str] | None = None) -> list[WatchSignal]:
    """The signals a watch file holds; LoadError listing every problem otherwise.

    `known_names` (folded name -> entry id) links a new service the watch names to an
    entry staff have since created from a source."""
    known_names = known_names or {}
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LoadError([Problem("missing_file", path.name, None, None, f"fichier {path} introuvable")]) from None
    except UnicodeDecodeError:
        raise LoadError([Problem("encoding", path.name, None, None, "le fichier n'est pas encodé en UTF-8")]) from None
    problems: list[Problem] = []
    sources: dict[str, tuple[str | None, str | None]] = {}
    findings: dict[str, dict[str, str]] = {}
    mapping: list[list[str]] = []
    for header, rows in _tables(text):
        head = [_plain(h).lower() for h in header]
        if head[:2] == ["réf.", "url"]:
            for r in rows:
                url = next((u for u in re.findall(r"https?://\S+", r[1])), None)
                sources[_plain(r[0])] = (url, _plain(r[3]) if len(r) > 3 else None)
        elif head and head[0] == "#":
            for r in rows:
                findings[_plain(r[0])] = {h: _plain(c) for h, c in zip(head, r)}
        elif head and head[0].startswith("id du répertoire"):
            mapping = rows
    if not sources:
        problems.append(Problem("missing_table", path.name, None, "sources",
                                "tableau des sources introuvable (colonnes « Réf. | URL | … »)"))
    if not mapping:
        problems.append(Problem("missing_table", path.name, None, "correspondance",
                                "tableau de correspondance introuvable (colonnes « id du répertoire | … »)"))

    def cite(refs: list[str]) -> tuple[str | None, str | None, str]:
        known = [r for r in refs if r in sources]
        url, day = sources[known[0]] if known else (None, None)
        listed = " ; ".join(f"[{r}] {sources[r][0] or ''} ({sources[r][1] or 'non daté'})".replace(" ()", "")
                            for r in known)
        return url, day, (f" Sources : {listed}." if listed else "")

    out: list[WatchSignal] = []
    new: list[WatchSignal] = []  # "(nouveau)" rows, kept unless a finding below says the same
    for n, row in enumerate(mapping, 1):
        if len(row) < 3:
            problems.append(Problem("invalid_row", path.name, None, f"correspondance ligne {n}", "trois colonnes attendues"))
            continue
        ids, what, refs = _ID.findall(row[0]), _plain(row[1]), _refs(row[2])
        url, day, cited = cite(refs)
        if "nouveau" in row[0].lower() and not ids:
            subject = re.split(r"\s[:(]|\s—\s", what, maxsplit=1)[0].strip(" .")
            new.append(WatchSignal(f"{path.name}:correspondance-{n}", subject, "Nouveau service signalé par la "
                                   f"veille : {what}{cited}", known_names.get(fold(subject)), _first_place(what),
                                   url, day))
            continue
        for sid in ids:
            if sid not in known_ids:
                problems.append(Problem("unknown_service", path.name, sid, f"correspondance ligne {n}",
                                        f"aucune fiche « {sid} » dans l'annuaire"))
                continue
            out.append(WatchSignal(f"{path.name}:correspondance-{n}", sid, f"{what}{cited}", sid, None, url, day))
    for line in text.splitlines():
        if "nouvelles ressources" not in line.lower():
            continue
        for m in re.finditer(r"\b([A-Z]\d+)\b(?!\s*\(déjà)", line.split(":", 1)[-1]):
            row = findings.get(m[1])
            if row is None:
                problems.append(Problem("unknown_row", path.name, m[1], "recommandations", "ligne de la veille introuvable"))
                continue
            name = row.get("organisation / service") or row.get("organisation") or m[1]
            url, day, cited = cite(_refs(row.get("source", "")))
            role = row.get("rôle pour les victimes", "")
            out.append(WatchSignal(f"{path.name}:{m[1]}", name,
                                   f"Nouvelle ressource sans moyen de la joindre dans la veille ({m[1]}) : {role}. "
                                   f"Commune : {row.get('commune', '—')}. Adresse : {row.get('adresse', '—')}."
                                   f"{cited}", None, row.get("commune"), url, row.get("date source") or day,
                                   row.get("confiance")))
    # a "(nouveau)" mapping row citing the same source as a finding is the same service
    cited_by_findings = {w.source_url for w in out if w.ref.rsplit(":", 1)[1] in findings}
    out += [w for w in new if w.service_id or w.source_url not in cited_by_findings]
    if problems:
        raise LoadError(problems)
    return out


def _first_place(text: str) -> str | None:
    inside = re.search(r"\(([^)]*)\)", text)
    candidates = (inside[1] if inside else text).split(",")
    return candidates[0].strip() if candidates and candidates[0].strip() else None


def _territory(directory: Directory, place: str | None) -> str | None:
    """The commune territory of the first commune named in `place`, if any."""
    for word in ([place] if place else []) + _PLACE.findall(place or ""):
        res = directory.resolve_commune(word)
        if res.status == "found" and f"commune-{res.commune.insee}" in directory.snapshot.territories:
            return f"commune-{res.commune.insee}"
    return None


def load_watch(directory: Directory, path: str | Path) -> dict[str, int]:
    """Record the watch's signals (already recorded ones are skipped); all or nothing."""
    snap = directory.snapshot
    found = read_watch(path, set(snap.services), {fold(s.name): s.id for s in snap.services.values()})
    added = 0
    with write_transaction(directory.db):
        for w in found:
            subject = snap.services[w.service_id].name if w.service_id else w.subject
            added += add_signal(directory.db, subject=subject, what=w.what, reporter="veille", ref=w.ref,
                                service_id=w.service_id, territory_id=_territory(directory, w.place),
                                source_url=w.source_url, source_date=w.source_date, confidence=w.confidence)
    return {"signals": len(found), "added": added, "already": len(found) - added}
