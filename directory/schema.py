"""Versioned schema, shaped on Open Referral HSDS 3.0 plus local tables.

HSDS tables: organization, service, phone, schedule, location, address,
service_at_location, service_area, taxonomy_term, attribute. Local tables:
commune, commune_alias, territory, territory_commune, source. Append a new
migration for every change; never edit one that has shipped.
"""
from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

__all__ = ["migrations", "migrate"]

migrations = Migrations("orientation.directory")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE source (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            url TEXT,
            date TEXT
        );
        CREATE TABLE commune (
            insee TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            norm TEXT NOT NULL,
            postal_codes TEXT NOT NULL,
            arrondissement TEXT,
            epci TEXT,
            epci_name TEXT,
            population INTEGER
        );
        CREATE INDEX commune_norm ON commune(norm);
        CREATE TABLE commune_alias (
            alias TEXT NOT NULL,
            norm TEXT NOT NULL,
            insee TEXT NOT NULL REFERENCES commune(insee) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            PRIMARY KEY (norm, insee)
        );
        -- Communes of other départements, only to tell "out of the area" from "unknown".
        CREATE TABLE place_elsewhere (
            norm TEXT NOT NULL,
            name TEXT NOT NULL,
            departement TEXT NOT NULL
        );
        CREATE INDEX place_elsewhere_norm ON place_elsewhere(norm);
        CREATE TABLE territory (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            rank INTEGER NOT NULL,
            assumption TEXT,
            a_verifier INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE territory_commune (
            territory_id TEXT NOT NULL REFERENCES territory(id) ON DELETE CASCADE,
            insee TEXT NOT NULL REFERENCES commune(insee) ON DELETE CASCADE,
            PRIMARY KEY (territory_id, insee)
        ) WITHOUT ROWID;
        CREATE INDEX territory_commune_insee ON territory_commune(insee, territory_id);
        CREATE TABLE organization (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            description TEXT,
            url TEXT
        );
        CREATE TABLE service (
            id TEXT PRIMARY KEY,
            organization_id TEXT REFERENCES organization(id),
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            url TEXT,
            category TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active',
            visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'pro')),
            cost TEXT,
            emergency INTEGER NOT NULL DEFAULT 0,
            access TEXT,
            hours TEXT,
            ages TEXT NOT NULL DEFAULT '',
            roles TEXT NOT NULL DEFAULT '',
            source_id TEXT REFERENCES source(id),
            verified_on TEXT,
            a_verifier INTEGER NOT NULL DEFAULT 0,
            version INTEGER NOT NULL DEFAULT 1,
            stems TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX service_category ON service(category);
        CREATE TABLE phone (
            id INTEGER PRIMARY KEY,
            service_id TEXT NOT NULL REFERENCES service(id) ON DELETE CASCADE,
            number TEXT NOT NULL,
            type TEXT NOT NULL DEFAULT 'voice',
            position INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX phone_service ON phone(service_id);
        CREATE TABLE schedule (
            id INTEGER PRIMARY KEY,
            service_id TEXT NOT NULL REFERENCES service(id) ON DELETE CASCADE,
            opening_hours TEXT NOT NULL
        );
        CREATE TABLE location (
            id TEXT PRIMARY KEY,
            organization_id TEXT REFERENCES organization(id),
            name TEXT,
            confidential INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE address (
            id TEXT PRIMARY KEY,
            location_id TEXT NOT NULL REFERENCES location(id) ON DELETE CASCADE,
            address_1 TEXT,
            city TEXT,
            postal_code TEXT,
            country TEXT NOT NULL DEFAULT 'FR'
        );
        CREATE TABLE service_at_location (
            id TEXT PRIMARY KEY,
            service_id TEXT NOT NULL REFERENCES service(id) ON DELETE CASCADE,
            location_id TEXT NOT NULL REFERENCES location(id) ON DELETE CASCADE
        );
        CREATE TABLE service_area (
            service_id TEXT NOT NULL REFERENCES service(id) ON DELETE CASCADE,
            territory_id TEXT NOT NULL REFERENCES territory(id),
            PRIMARY KEY (service_id, territory_id)
        ) WITHOUT ROWID;
        CREATE INDEX service_area_territory ON service_area(territory_id, service_id);
        CREATE TABLE taxonomy_term (
            id TEXT PRIMARY KEY,
            taxonomy TEXT NOT NULL,
            code TEXT NOT NULL,
            name TEXT NOT NULL
        );
        CREATE TABLE attribute (
            service_id TEXT NOT NULL REFERENCES service(id) ON DELETE CASCADE,
            taxonomy_term_id TEXT NOT NULL REFERENCES taxonomy_term(id),
            PRIMARY KEY (service_id, taxonomy_term_id)
        ) WITHOUT ROWID;
        CREATE INDEX attribute_term ON attribute(taxonomy_term_id, service_id);
        """
    )
    # Accent-insensitive full-text index kept in sync by triggers (never call
    # table.transform() on service: it would drop them silently).
    db["service"].enable_fts(
        ["name", "description", "stems"],
        tokenize="unicode61 remove_diacritics 2",
        create_triggers=True,
    )


@migrations()
def m002_staff(db: sqlite_utils.Database) -> None:
    """Staff accounts and sessions, the append-only audit log, verifications,
    temporary closures and anonymous error reports. No table here holds any
    conversation text."""
    db.executescript(
        """
        CREATE TABLE staff_user (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('lecteur', 'editeur', 'admin')),
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        );
        CREATE TABLE staff_session (
            token_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES staff_user(id) ON DELETE CASCADE,
            csrf TEXT NOT NULL,
            expires_at REAL NOT NULL
        );
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            username TEXT NOT NULL,
            entry TEXT NOT NULL,
            action TEXT NOT NULL,
            field TEXT,
            before TEXT,
            after TEXT
        );
        CREATE INDEX audit_log_entry ON audit_log(entry, id);
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'le journal des modifications ne peut pas être modifié'); END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'le journal des modifications ne peut pas être effacé'); END;
        CREATE TABLE verification (
            id INTEGER PRIMARY KEY,
            service_id TEXT NOT NULL,
            username TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE TABLE service_closure (
            id INTEGER PRIMARY KEY,
            service_id TEXT NOT NULL,
            start TEXT NOT NULL,
            end TEXT NOT NULL,
            reason TEXT,
            CHECK (end >= start)
        );
        CREATE INDEX service_closure_service ON service_closure(service_id);
        CREATE TABLE error_report (
            id INTEGER PRIMARY KEY,
            service_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL,
            resolved_at TEXT,
            resolved_by TEXT
        );
        """
    )


@migrations()
def m003_address_confidential(db: sqlite_utils.Database) -> None:
    """Keep the confidentiality of a service's address on the service itself: a
    shelter is confidential even before anyone records its address."""
    db.execute("ALTER TABLE service ADD COLUMN address_confidential INTEGER NOT NULL DEFAULT 0")
    db.execute("UPDATE service SET address_confidential = 1 WHERE id IN "
               "(SELECT sal.service_id FROM service_at_location sal JOIN location l ON l.id = sal.location_id "
               "WHERE l.confidential = 1)")


@migrations()
def m004_service_email_genders(db: sqlite_utils.Database) -> None:
    """A service's public e-mail (one more way in), and the genders it receives
    (space-separated codes of data/taxonomy.yaml `genders`; empty = everyone)."""
    db.execute("ALTER TABLE service ADD COLUMN email TEXT")
    db.execute("ALTER TABLE service ADD COLUMN genders TEXT NOT NULL DEFAULT ''")


@migrations()
def m005_imports_signals(db: sqlite_utils.Database) -> None:
    """What an import brought in, to update in place and spot staff edits; and the
    signals of the verification campaigns (staff only: never shown to the public)."""
    db.executescript(
        """
        -- One row per entry that came from an external file: its stable id there, and
        -- the entry exactly as the last import wrote it (JSON, the shape of
        -- data/services.yaml). A field that differs from it now was edited by staff.
        CREATE TABLE import_record (
            service_id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            external_id TEXT NOT NULL,
            external_type TEXT,
            entry TEXT NOT NULL,
            imported_at TEXT NOT NULL,
            UNIQUE (source, external_id)
        );
        -- What someone reported about an entry (or about a service not in the
        -- directory yet: service_id NULL, then subject and territory say which).
        CREATE TABLE signal (
            id INTEGER PRIMARY KEY,
            service_id TEXT,
            subject TEXT NOT NULL,
            territory_id TEXT,
            what TEXT NOT NULL,
            reporter TEXT NOT NULL,
            source_url TEXT,
            source_date TEXT,
            confidence TEXT,
            ref TEXT NOT NULL,
            created_at TEXT NOT NULL,
            closed_at TEXT,
            closed_by TEXT,
            closed_how TEXT,
            UNIQUE (ref, subject)
        );
        CREATE INDEX signal_service ON signal(service_id, closed_at);
        """
    )


@migrations()
def m006_place_elsewhere_population(db: sqlite_utils.Database) -> None:
    """The legal population of the communes of other départements: a known town ("à
    Reims") is a place even after a bare "à"; a village named like a word or a first
    name ("à Marie") is not."""
    db.execute("ALTER TABLE place_elsewhere ADD COLUMN population INTEGER")


@migrations()
def m007_service_languages(db: sqlite_utils.Database) -> None:
    """The languages a service speaks (space-separated ISO 639 codes), only where a source
    says so; empty: not known (never "French only")."""
    db.execute("ALTER TABLE service ADD COLUMN languages TEXT NOT NULL DEFAULT ''")


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations; return their names."""
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending
