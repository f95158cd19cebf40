"""Places in free text (#10, failure class 2): ordinary words are never places, a
commune of another département is out of the area only when the message introduces it
as a place, and the communes of the Aisne are still found, typos and all."""
from __future__ import annotations

import pytest

from bot.places import find_place

# Messages as victims, relatives and witnesses write them, with no place in them. Many
# hold words that are also the names of communes somewhere in France (Bu, La Marche,
# L'Hôpital, Boulot, Bois, Rue, Sens, Tours, Vienne, Charmes, Marie, Méré, Champs...).
NO_PLACE = [
    "quand il a bu il devient violent",
    "quand il a bu il casse tout dans la maison",
    "il boit tous les soirs et après il me frappe",
    "il avait bu et il m'a poussée dans l'escalier",
    "je ne connais pas la marche à suivre",
    "quelle est la marche à suivre pour porter plainte",
    "je sais pas quoi faire, il faut suivre quelle procédure ?",
    "il m'a envoyée à l'hôpital la semaine dernière",
    "je suis à l'hôpital, il m'a cassé le bras",
    "ma fille est à l'hôpital depuis hier soir",
    "au boulot mon chef me harcèle tous les jours",
    "harcèlement au boulot, je n'en peux plus",
    "il m'attend à la sortie du boulot",
    "il est parti au bois avec le chien et il a un couteau",
    "il me suit dans la rue quand je rentre",
    "il m'a frappée en pleine rue devant tout le monde",
    "il m'a mise à la rue avec les enfants",
    "on est à la rue depuis trois jours",
    "je suis à bout, je ne dors plus",
    "il a pris mes papiers et ma carte vitale",
    "une rue à sens unique, il m'a coincée avec sa voiture",
    "ça n'a aucun sens, il s'excuse puis il recommence",
    "il fait des tours de voiture devant chez moi la nuit",
    "il a essayé plusieurs fois, à tour de rôle avec son frère",
    "j'ai parlé à Marie, ma voisine, elle a tout entendu",
    "Marie m'a dit d'appeler quelqu'un",
    "j'en ai parlé à Romain mais il ne me croit pas",
    "il est parti chez sa mère et il revient demain",
    "ma mère me frappe depuis que je suis petite",
    "ma belle-mère m'insulte devant les enfants",
    "mon beau-père me touche quand maman n'est pas là",
    "en somme il me frappe dès qu'il a bu",
    "il a déchiré la manche de mon manteau",
    "elle m'appelle 30 fois par jour",
    "il m'a menacée 15 fois cette semaine",
    "j'ai 17 ans et mon père me frappe",
    "il a 45 ans et moi 22",
    "il m'a volé 200 euros dans mon sac",
    "ils m'ont pris 1500 euros sur mon compte",
    "on m'a volé mon vélo au marché",
    "on m'a volé mon portefeuille au supermarché",
    "je suis allée à la police mais ils n'ont rien fait",
    "je suis allée au commissariat hier",
    "je dois aller à la gendarmerie demain",
    "mon fils est à l'école, je suis seule avec lui",
    "au collège ils se moquent de moi",
    "au lycée on me traite de tous les noms",
    "il m'attend devant la gare tous les soirs",
    "il m'a suivie jusqu'à la maison",
    "il est rentré à la maison complètement saoul",
    "il dort, je suis dans la salle de bain",
    "je suis enfermée dans la chambre",
    "il a cassé la porte de la cuisine",
    "il a jeté mes affaires par la fenêtre",
    "il a brûlé mes vêtements dans le jardin",
    "il travaille aux champs toute la journée et le soir il me frappe",
    "on habite à la campagne, personne n'entend",
    "on vit à la ferme chez ses parents",
    "je vis avec lui depuis dix ans",
    "j'habite avec mes parents et mon frère me frappe",
    "j'habite chez ma sœur pour l'instant",
    "je vis chez une amie depuis qu'il m'a mise dehors",
    "je vis dans la peur tous les jours",
    "je vis un enfer depuis deux ans",
    "on vit un cauchemar avec notre fils",
    "je suis au bout du rouleau",
    "je suis à la maison avec les enfants",
    "je suis au travail, il m'envoie des messages",
    "je suis au lit, j'ai mal partout",
    "il est au bar avec ses copains",
    "il est au chômage et il boit",
    "il est en prison depuis un mois mais il m'écrit",
    "il sort de prison la semaine prochaine",
    "il est sous contrôle judiciaire",
    "il m'a dit qu'il me tuerait si je partais",
    "il a une arme à la maison",
    "il me traite de tous les noms devant les petits",
    "elle a des bleus partout sur les bras",
    "ma voisine crie tous les soirs",
    "j'entends des coups à côté de chez moi",
    "j'entends des cris à côté, je crois qu'il la frappe",
    "ça se passe près de chez moi mais je ne sais pas quoi faire",
    "on s'est disputés à propos des enfants",
    "à cause de lui je ne sors plus",
    "à force de coups j'ai perdu l'audition",
    "il passe son temps sur les réseaux à m'insulter",
    "il a mis des photos de moi sur snap",
    "un faux conseiller bancaire m'a appelée",
    "j'ai reçu un sms d'un faux livreur",
    "on m'a arnaquée sur le bon coin",
    "des jeunes m'ont agressé en sortant du bus",
    "il m'a mis une claque au parc devant les enfants",
    "je suis allée voir le médecin qui m'a fait un certificat",
    "mon avocat m'a dit d'appeler",
    "l'assistante sociale m'a donné ce site",
    "je suis en foyer depuis une semaine",
    "je dors dans ma voiture sur le parking",
    "il a changé les serrures de la maison",
    "il garde ma carte bleue et mes papiers",
    "je n'ai plus de chez moi",
    "il vient de partir, il a claqué la porte",
    "bonjour, je voudrais de l'aide s'il vous plaît",
    "je préfère ne pas le dire",
    "je sais pas trop, c'est compliqué",
    "oui il est parti là",
    "non merci ça va aller",
    "merci beaucoup pour votre aide",
    "c'est pas moi le souci, c'est la petite",
    "en fait c'est ma sœur qui est concernée",
    "au secours",
    "il me menace de mort",
    "il a bu et il tape sur la porte",
    "il se met en marche arrière sur moi avec sa voiture",
    "il marche derrière moi dans la rue",
    "je suis allée à la mairie pour demander un logement",
    "ils m'ont envoyée aux urgences",
    "je ne sais plus vers qui me tourner",
    "il est monté sur le toit et menace de sauter",
    "je vis à côté de chez lui, il me surveille",
    "j'habite en face de chez lui",
    "mes enfants sont chez leur père ce week-end",
    "elle est en garde à vue",
    "il est en bas de l'immeuble",
    "il est devant la porte avec un couteau",
    "il a bu toute la nuit, il est au salon",
    "LA MARCHE A SUIVRE SVP",
    "QUAND IL A BU IL ME FRAPPE",
    "je vous écris du boulot",
    "il m'a frappée au bois de boulogne",  # a wood, not a commune introduced as where one lives
]

# A commune of another département, introduced as a place: out of the area.
OUT_OF_AREA = [
    "j'habite à Reims",
    "j'habite à reims",
    "je vis à Lille avec mes enfants",
    "on s'est disputés à Reims samedi",
    "mon ex me harcèle, j'habite à Amiens",
    "ma sœur habite Charleville-Mézières",
    "j'habite à Bu",
    "j'habite à Marie",
    "je suis chez ma mère à Charmes dans les Vosges",
    "ma voiture a été volée à Moulins dans l'Allier",
    "il m'a frappée à Paris",
    "je me suis fait agresser à Maubeuge",
    "je suis à Tours",
    "je vis près de Beauvais",
    "j'habite sur la commune de Creil",
    "j'habite au 51100",
    "je suis dans le Nord",
    "on habite dans la Marne",
    "je vis à Saint-Quentin dans les Yvelines",
    "nous sommes à Bu (28)",
    "j'habite dans la ville de Compiègne",
    "je vis du côté de Noyon",
]

# Names of communes elsewhere that are only words or first names in these messages.
NOT_OUT_OF_AREA = [
    "quand il a bu il devient violent",
    "la marche à suivre",
    "il m'a envoyée à l'hôpital",
    "au boulot",
    "j'ai parlé à Marie",
    "en somme il me frappe",
    "je suis à bout",
    "il est parti chez sa mère dans la cuisine",
]

AISNE = [
    ("j'habite à Château-Thierry", "02168"), ("je vis a chateau thierry", "02168"),
    ("chateau thierry", "02168"), ("on est a st quentin", "02691"), ("jsuis a st quentin mon mec ma frappé", "02691"),
    ("près de Guise", "02361"), ("à guise", "02361"), ("à la fère", "02304"), ("j'habite au 02430", "02340"),
    ("vers soisson", "02722"), ("sur soissons", "02722"), ("à laon", "02408"), ("a laon", "02408"),
    ("mes voisins de villers coterets", "02810"), ("je suis à Fargniers", "02738"), ("j'habite à Vailly", "02758"),
    ("j'habite a chateau thiery", "02168"), ("j'habite à hirsson", "02381"), ("j'habite à chaunie", "02173"),
    ("je suis a marle", "02468"), ("j'habite aux Pommiers", "02610"), ("j'habite à Pommiers", "02610"),
    ("il m'a frappée à Tergnier", "02738"), ("un cambriolage à Bohain", "02095"),
    ("quand il a bu il me frappe, j'habite à Laon", "02408"),
    ("je connais pas la marche à suivre, j'habite à Soissons", "02722"),
    ("au boulot à Chauny mon chef me harcèle", "02173"),
]


@pytest.fixture(scope="module")
def index(directory):
    return directory.snapshot.communes


@pytest.mark.parametrize("text", NO_PLACE)
def test_ordinary_messages_name_no_place(index, text):
    res = find_place(text, index)
    assert (res.commune, res.candidates, res.out_of_area) == (None, (), False), (text, res)


@pytest.mark.parametrize("text", OUT_OF_AREA)
def test_places_elsewhere_introduced_as_places_are_out_of_area(index, text):
    res = find_place(text, index)
    assert res.out_of_area and res.commune is None, (text, res)
    assert res.cue is not None


@pytest.mark.parametrize("text", NOT_OUT_OF_AREA)
def test_words_named_like_communes_elsewhere_are_not_out_of_area(index, text):
    assert find_place(text, index).out_of_area is False, text


@pytest.mark.parametrize("text,insee", AISNE)
def test_communes_of_the_aisne_are_found(index, text, insee):
    res = find_place(text, index)
    assert res.commune is not None and res.commune.insee == insee, (text, res)
    assert not res.out_of_area


def test_how_the_place_was_introduced(index):
    assert find_place("j'habite à Laon", index).cue == "residence"
    assert find_place("je vis a chateau thierry", index).cue == "residence"
    assert find_place("il m'a frappée à Laon", index).cue == "place"
    assert find_place("02000", index).cue == "place"
    assert find_place("j'habite à Reims", index).cue == "residence"
    assert find_place("Château-Thierry", index).cue is None
    assert find_place("mon mari me frappe", index).cue is None


def test_understanding_says_how_the_commune_came(understander):
    lives = understander.understand("j'habite à Soissons et mon mari me frappe")
    assert lives.commune.insee == "02722" and lives.commune_cue and lives.commune_residence
    happened = understander.understand("on m'a volé mon scooter devant le lycée de Laon")
    assert happened.commune.insee == "02408" and happened.commune_cue and not happened.commune_residence
    bare = understander.understand("quand il a bu il devient violent")
    assert bare.commune is None and not bare.out_of_area and not bare.commune_cue


def test_common_words_come_from_the_french_lexicon(index):
    from bot.places import is_common_word

    for word in ("bu", "marche", "hôpital", "boulot", "suivre", "bois", "rue", "mère"):
        assert is_common_word(word, index), word
    for name in ("reims", "laon", "soissons", "tergnier", "hirson"):
        assert not is_common_word(name, index), name


def test_places_elsewhere_carry_their_population(index):
    """data/places_elsewhere.csv's population column, loaded through migration m006: what
    tells a known town ("à Reims") from a village named like a first name ("à Marie")."""
    assert max(e["population"] for e in index.elsewhere["reims"]) > 100000
    assert max(e["population"] for e in index.elsewhere["marie"]) < 1000
