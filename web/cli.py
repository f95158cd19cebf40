"""The `orientation` command: a thin skin over the Python API of each layer."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from directory import Directory, DirectoryError, LoadError, backup, connect, load, migrate

from .settings import Settings, SettingsError

__all__ = ["main", "cli"]


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _dump(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _directory(settings: Settings) -> Directory:
    d = Directory.open(settings.db, settings.data_dir)
    if d.is_empty():
        _fail(f"L'annuaire {settings.db} est vide : lancez « orientation db init --load-if-empty » (ou « make run »).")
    return d


@click.group()
@click.option("--db", type=click.Path(path_type=Path), help="Fichier SQLite (défaut : ORIENTATION_DB ou var/orientation.db).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), help="Dossier des données (défaut : data/).")
@click.pass_context
def cli(ctx, db, data_dir):
    """Orientation des victimes : annuaire, règles, compréhension et conversation."""
    try:
        ctx.obj = Settings.from_env(db=db, data_dir=data_dir)
    except SettingsError as exc:
        _fail(f"Réglage illisible : {exc.message}")


# -- database ---------------------------------------------------------------------------
@cli.group("db")
def db_group():
    """Créer, charger et sauvegarder la base de l'annuaire."""


def _login() -> str:
    from .cli_opendata import _login

    return _login()


@db_group.command("init")
@click.option("--load-if-empty", is_flag=True, help="Charger data/ si l'annuaire est vide.")
@click.pass_obj
def db_init(settings: Settings, load_if_empty):
    """Créer la base et appliquer les migrations en attente."""
    db = connect(settings.db)
    applied = migrate(db)
    click.echo(f"Base {settings.db} : {len(applied)} migration(s) appliquée(s).")
    if load_if_empty and db["service"].count == 0:
        _load(db, settings.data_dir, f"db-init:{_login()}")


def _load(db, data_dir: Path, username: str) -> None:
    try:
        counts = load(db, data_dir, username)
    except LoadError as exc:
        _fail(exc.message)
    click.echo(f"Chargé : {counts['services']} services, {counts['communes']} communes, {counts['territories']} territoires.")


@db_group.command("load")
@click.option("--user", default=_login, show_default="votre identifiant système",
              help="Nom inscrit dans le journal des modifications.")
@click.pass_obj
def db_load(settings: Settings, user: str):
    """Vérifier data/ puis remplacer le contenu de l'annuaire (tout ou rien, inscrit au journal)."""
    _load(connect(settings.db), settings.data_dir, f"db-load:{user}")


@db_group.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_obj
def db_backup(settings: Settings, path: Path):
    """Sauvegarde à chaud de la base dans PATH (le serveur peut tourner)."""
    try:
        target = backup(connect(settings.db), path)
    except DirectoryError as exc:
        _fail(exc.message)
    click.echo(f"Sauvegarde écrite dans {target}.")


# -- communes and services ------------------------------------------------------------------
@cli.group("communes")
def communes_group():
    """Communes du territoire couvert."""


@communes_group.command("find")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def communes_find(settings: Settings, text: str, as_json: bool):
    """Trouver une commune (nom, code postal, code INSEE, fautes de frappe)."""
    d = _directory(settings)
    res = d.resolve_commune(text)
    matches = d.snapshot.communes.search(text)
    if as_json:
        _dump({"query": text, "status": res.status, "communes": [m.as_dict() for m in matches],
               "elsewhere": list(res.elsewhere)})
        return
    if res.status == "out_of_area":
        click.echo(f"« {text} » est hors du territoire couvert.")
        return
    if not matches:
        _fail(f"Aucune commune ne correspond à « {text} ».")
    click.echo({"found": "Trouvée :", "ambiguous": "Plusieurs possibilités :"}.get(res.status, "Suggestions :"))
    for m in matches:
        click.echo(f"  {m.commune.insee}  {m.commune.name} ({', '.join(m.commune.postal_codes)})  score {m.score:.0f}")


@cli.group("services")
def services_group():
    """Services de l'annuaire."""


@services_group.command("search")
@click.argument("text", required=False, default="")
@click.option("--commune", help="Nom, code postal ou code INSEE.")
@click.option("--situation", help="Code de situation (ex. violences_conjugales).")
@click.option("--category", help="Catégorie (ex. reseau_victimes).")
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def services_search(settings: Settings, text, commune, situation, category, limit, as_json):
    """Chercher des services, les plus proches d'abord."""
    d = _directory(settings)
    insee = None
    if commune:
        res = d.resolve_commune(commune)
        if not res.found:
            _fail(f"Commune « {commune} » : {'plusieurs possibilités, précisez' if res.status == 'ambiguous' else 'introuvable dans le territoire couvert'}.")
        insee = res.commune.insee
    try:
        hits, total = d.search(text or None, commune=insee, situation=situation, category=category, per_page=limit)
    except DirectoryError as exc:
        _fail(exc.message)
    if as_json:
        _dump({"total": total, "services": [d.service_json(h.service, scope=h.scope) for h in hits]})
        return
    click.echo(f"{total} service(s).")
    for h in hits:
        phone = h.service.voice or h.service.sms_phone
        click.echo(f"  {h.service.name}  {phone.display if phone else '-'}  [{h.why(d.vocabulary)}]")


# -- rules -----------------------------------------------------------------------------------
def _orienter(settings: Settings):
    from rules import Orienter, RulesError

    d = _directory(settings)
    try:
        return Orienter(d, settings.rules_dir)
    except RulesError as exc:
        _fail(exc.message)


@cli.group("rules")
def rules_group():
    """Vérifier, tester et mesurer la couverture des règles d'orientation."""


@rules_group.command("check")
@click.pass_obj
def rules_check(settings: Settings):
    """Valider tous les fichiers de règles ; code de sortie 1 au moindre problème ou avertissement."""
    orienter = _orienter(settings)
    rs = orienter.ruleset
    click.echo(f"Règles valides : {len(rs.rules)} règles dans {len(rs.files)} fichiers ({', '.join(rs.files)}).")
    if rs.warnings:
        # e.g. a contact nobody can reach: the rules work, but the person would never see it
        click.echo(f"{len(rs.warnings)} avertissement(s) :", err=True)
        for w in rs.warnings:
            click.echo(f"  - {w}", err=True)
        sys.exit(1)


@rules_group.command("test")
@click.option("-v", "--verbose", is_flag=True)
@click.pass_obj
def rules_test(settings: Settings, verbose):
    """Jouer les scénarios (*.scenarios.yml) écrits à côté des règles."""
    from rules.scenarios import load_scenarios, run_scenario

    orienter = _orienter(settings)
    scenarios = load_scenarios(settings.rules_dir)
    failed = 0
    for sc in scenarios:
        failures = run_scenario(orienter, sc)
        if failures:
            failed += 1
            click.echo(f"ÉCHEC {sc.where} {sc.name}")
            for f in failures:
                click.echo(f"    {f}")
        elif verbose:
            click.echo(f"ok    {sc.where} {sc.name}")
    click.echo(f"{len(scenarios) - failed} passed, {failed} failed")
    if failed:
        sys.exit(1)


@rules_group.command("coverage")
@click.option("--kind", default="arrondissement", show_default=True, help="Type de territoire en colonnes.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def rules_coverage(settings: Settings, kind, as_json):
    """Matrice situation x territoire : nombre de contacts locaux, et les manques."""
    from rules.coverage import coverage

    cov = coverage(_orienter(settings), kind)
    if as_json:
        _dump(cov)
        return
    cols = [t["id"] for t in cov["territories"]]
    width = max(len(s) for s in cov["matrix"]) + 2
    click.echo("situation".ljust(width) + "".join(c.rjust(12) for c in cols))
    for situation, row in cov["matrix"].items():
        cells = [f"{row[c]['local']} ({row[c]['proximite']})" for c in cols]
        click.echo(situation.ljust(width) + "".join(cell.rjust(12) for cell in cells))
    click.echo("\nChaque case : le nombre minimal de contacts locaux reçus par une commune du territoire,")
    click.echo("et entre parenthèses ceux qui ne couvrent pas tout le département (proximité).")
    click.echo(f"\n{len(cov['gaps'])} manque(s) : aucune aide locale, seulement des numéros nationaux :")
    for situation, tid in cov["gaps"]:
        click.echo(f"  - {situation} dans {tid}")
    click.echo(f"\n{len(cov['thin'])} réseau(x) mince(s) : seulement des services pour tout le département :")
    for situation, tid in cov["thin"]:
        click.echo(f"  - {situation} dans {tid}")


@cli.command("orient")
@click.option("--situation")
@click.option("--commune", help="Nom, code postal ou code INSEE.")
@click.option("--danger", is_flag=True)
@click.option("--distress", is_flag=True)
@click.option("--role")
@click.option("--age-group")
@click.option("--profile", multiple=True)
@click.option("--need", "needs", multiple=True)
@click.option("--gender", help="Genre de la personne concernée : femme ou homme.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def orient(settings: Settings, situation, commune, danger, distress, role, age_group, profile, needs, gender,
           as_json):
    """Les contacts à proposer, dans l'ordre, avec leur raison et les règles appliquées."""
    from rules import RequestError, build_request

    orienter = _orienter(settings)
    insee = None
    if commune:
        res = orienter.directory.resolve_commune(commune, codes="insee")
        if not res.found:
            _fail(f"Commune « {commune} » : {'plusieurs possibilités, précisez' if res.status == 'ambiguous' else 'introuvable dans le territoire couvert'}.")
        insee = res.commune.insee
    try:
        req = build_request(orienter.directory.vocabulary, situation=situation, commune=insee, danger=danger,
                            distress=distress, role=role, age_group=age_group, profile=profile, needs=needs,
                            gender=gender)
    except RequestError as exc:
        _fail(exc.message)
    result = orienter.orient(req)
    if as_json:
        _dump(result.as_dict())
        return
    from rules import plan_text

    click.echo(plan_text(result))
    click.echo(f"\nRègles appliquées : {', '.join(result.orientation.rules)}")


# -- understanding --------------------------------------------------------------------------
@cli.group("nlu")
def nlu_group():
    """Entraîner et évaluer la compréhension des messages."""


@nlu_group.command("train")
@click.option("--if-missing", is_flag=True, help="Ne rien faire si le modèle existe déjà.")
@click.pass_obj
def nlu_train(settings: Settings, if_missing):
    """Entraîner le classifieur de situations sur data/nlu.yml (graine fixe, quelques secondes)."""
    import time

    from bot.places import save_words
    from bot.situation import train

    if if_missing and (settings.model_dir / "meta.json").exists():
        click.echo(f"Modèle présent : {settings.model_dir}")
        return
    start = time.perf_counter()
    model = train(settings.data_dir / "nlu.yml")
    settings.model_dir.mkdir(parents=True, exist_ok=True)
    save_words(settings.model_dir)  # ordinary French words, for places (bot/places.py)
    model.save(settings.model_dir)  # meta.json last: its presence says the model is complete
    click.echo(f"Modèle entraîné sur {model.meta['examples']} exemples en {time.perf_counter() - start:.1f} s : {settings.model_dir}")
    # the English classifier (issue 14), saved inside the French model's folder
    from bot import situation_en
    from bot.understand import english_model_dir

    start = time.perf_counter()
    model_en = situation_en.train(settings.data_dir / "nlu_en.yml")
    model_en.save(english_model_dir(settings.model_dir))
    click.echo(f"Modèle anglais entraîné sur {model_en.meta['examples']} exemples en "
               f"{time.perf_counter() - start:.1f} s : {english_model_dir(settings.model_dir)}")


class _InLanguage:
    """An understander that reads every message in one language (for `nlu evaluate --lang`)."""

    def __init__(self, understander, lang: str):
        self.understander, self.lang, self.directory = understander, lang, understander.directory

    def understand(self, text: str):
        return self.understander.understand(text, lang=self.lang)


def _understander(settings: Settings):
    from bot.understand import ModelMissing, Understander

    try:
        return Understander(_directory(settings), settings.model_dir)
    except ModelMissing as exc:
        _fail(str(exc)[0].upper() + str(exc)[1:] + ".")


@nlu_group.command("evaluate")
@click.option("--json", "as_json", is_flag=True)
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True,
              help="Langue du jeu d'évaluation : fr (data/nlu_heldout.yml) ou en (data/nlu_heldout_en.yml).")
@click.pass_obj
def nlu_evaluate(settings: Settings, as_json, lang):
    """Mesurer sur data/nlu_heldout.yml (jamais utilisé pour l'entraînement)."""
    from bot.evaluate import evaluate, report
    from bot.nludata import read_heldout

    understander = _understander(settings)
    if lang == "en":
        if understander.model_en is None:
            _fail("Le classifieur anglais n'est pas entraîné : lancez « orientation nlu train ».")
        figures = evaluate(_InLanguage(understander, "en"), read_heldout(settings.data_dir / "nlu_heldout_en.yml"))
        _dump(figures) if as_json else click.echo(report(figures))
        return
    figures = evaluate(understander, read_heldout(settings.data_dir / "nlu_heldout.yml"))
    _dump(figures) if as_json else click.echo(report(figures))


@cli.command("understand")
@click.argument("text")
@click.pass_obj
def understand_cmd(settings: Settings, text):
    """Ce que dit un message : situation, danger, détresse, commune, rôle, âge, besoins."""
    _dump(_understander(settings).understand(text).as_dict())


@cli.command("chat")
@click.pass_obj
def chat(settings: Settings):
    """La même conversation que sur la page, dans le terminal (Ctrl-D pour quitter)."""
    import uuid

    from bot.dialogue import Dialogue

    from rules import Orienter

    understander = _understander(settings)
    dialogue = Dialogue(understander.directory, Orienter(understander.directory, settings.rules_dir), understander)
    sender = uuid.uuid4().hex
    click.echo(dialogue.spec.texts["welcome"])
    buttons: list[dict] = []
    while True:
        try:
            text = input("> ")
        except (EOFError, KeyboardInterrupt):
            dialogue.handle(sender, "/effacer")
            click.echo("\nConversation effacée. Au revoir.")
            return
        if text.strip().isdigit() and 1 <= int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        buttons = []
        for reply in dialogue.handle(sender, text):
            click.echo(reply.get("text", ""))
            for i, b in enumerate(reply.get("buttons", []), 1):
                click.echo(f"  [{i}] {b['title']}")
            buttons = reply.get("buttons", []) or buttons


@cli.group("dialogue")
def dialogue_group():
    """Évaluer la conversation sur le corpus de conversations (tests/conversations)."""


@dialogue_group.command("evaluate")
@click.option("-v", "--verbose", is_flag=True, help="Montrer chaque échec, avec ses raisons et les réponses du bot.")
@click.option("--class", "only_class", help="Une seule classe (overwrite, places, answers, who, danger...).")
@click.option("--corpus", "folder", type=click.Path(path_type=Path, file_okay=False),
              help="Dossier des conversations (défaut : tests/conversations).")
@click.pass_obj
def dialogue_evaluate(settings: Settings, verbose, only_class, folder):
    """Jouer chaque conversation du corpus dans le vrai dialogue : taux de réussite par classe.

    Code de sortie 1 si une conversation échoue. Le corpus est fait de nos propres
    conversations de test : les afficher est sans risque (jamais celles des personnes)."""
    from bot.corpus import CLASSES, CORPUS_DIR, CorpusError, load_corpus, report, run
    from bot.dialogue import Dialogue
    from bot.sessions import SessionStore

    from rules import Orienter

    if only_class and only_class not in CLASSES:
        _fail(f"Classe inconnue « {only_class} » : {', '.join(CLASSES)}.")
    understander = _understander(settings)
    directory = understander.directory
    try:
        conversations = load_corpus(folder or CORPUS_DIR, services=directory.snapshot.services,
                                    vocabulary=directory.vocabulary)
    except CorpusError as exc:
        _fail(exc.message)
    dialogue = Dialogue(directory, Orienter(directory, settings.rules_dir), understander, SessionStore())
    results = run(dialogue, conversations, only_class)
    click.echo(report(results, verbose=verbose))
    if any(not r.passed for r in results):
        sys.exit(1)


# -- server -----------------------------------------------------------------------------------
@cli.command("serve")
@click.option("--host", envvar="HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="PORT", default=8000, show_default=True, type=int)
@click.option("--workers", envvar="WORKERS", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Processus qui servent en parallèle (plus d'un : ORIENTATION_SESSIONS=redis://… obligatoire).")
@click.pass_obj
def serve(settings: Settings, host, port, workers):
    """Servir le chat, la recherche et l'API."""
    from bot.understand import ModelMissing
    from rules import RulesError

    from .app import create_app
    from .server import run
    from .shared_state import build_shared_state

    if workers > 1:
        if settings.sessions in ("", "memory"):
            _fail("Plusieurs processus ont besoin de partager les conversations : réglez "
                  "ORIENTATION_SESSIONS=redis://hôte:port/0 et ORIENTATION_SESSION_KEY (voir le README).")
        try:
            build_shared_state(settings).redis.ping()
        except Exception as exc:  # a wrong key, URL, or Redis not running
            _fail(f"Le serveur ne peut pas démarrer : {getattr(exc, 'args', [exc])[0]}")
        app = None  # each worker builds its own
    else:
        try:
            app = create_app(settings)  # fail here, in French, on invalid data, rules or model
        except (DirectoryError, RulesError, ModelMissing, ValueError) as exc:
            _fail(f"Le serveur ne peut pas démarrer : {getattr(exc, 'message', exc)}")
    click.echo(f"Orientation des victimes : http://{host}:{port}/ ({workers} processus)")
    # Our access log holds no IP address (uvicorn's would); our proxy handling is web.proxies.
    run(settings, host, port, workers, app)


from .cli_opendata import export_group, import_group, signals_group  # noqa: E402  (they import this module lazily)

from .cli_users import users_group  # noqa: E402

cli.add_command(export_group)
cli.add_command(import_group)
cli.add_command(signals_group)
cli.add_command(users_group)

from .cli_rasa import rasa_actions, rasa_group  # noqa: E402

cli.add_command(rasa_group)
cli.add_command(rasa_actions)


def main() -> None:
    cli(prog_name="orientation")


if __name__ == "__main__":
    main()
