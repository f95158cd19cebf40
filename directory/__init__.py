"""The directory: communes, territories, services and phones, stored in SQLite.

The lowest layer: it imports nothing from rules, bot or web.
"""
from .communes import Commune, CommuneIndex, Match, Resolution
from .db import backup, connect, write_transaction
from .errors import DirectoryError, LoadError, NotFound, Problem
from .hours import open_now, validate_hours
from .loader import load, read_data
from .phones import Phone, PhoneError, parse_phone
from .repository import MAX_PER_PAGE, Directory, SearchHit, Snapshot, Territory
from .schema import migrate
from .services import Service, contact
from .text import fold, normalize_place
from .vocabulary import DATA_DIR, Vocabulary, load_vocabulary

__all__ = [
    "Commune", "CommuneIndex", "Match", "Resolution", "backup", "connect", "write_transaction",
    "DirectoryError", "LoadError", "NotFound", "Problem", "open_now", "validate_hours", "load",
    "read_data", "Phone", "PhoneError", "parse_phone", "MAX_PER_PAGE", "Directory", "SearchHit",
    "Snapshot", "Territory", "migrate", "Service", "contact", "fold", "normalize_place", "DATA_DIR",
    "Vocabulary", "load_vocabulary",
]
