"""French formatting for the site: numbers with narrow no-break spaces, euros, dates, percentages."""

from __future__ import annotations

import functools
import unicodedata
from datetime import date, datetime

MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
NNBSP = "\u202f"  # narrow no-break space: thousands, before ; : ! ? and inside « »
NBSP = "\u00a0"  # no-break space: between a number and its noun


@functools.lru_cache(maxsize=1 << 16)
def nombre(value: float | int) -> str:
    """12345 -> '12 345'; 71.5 -> '71,5'. Kept for the run: a commune page writes about 80
    numbers, counts and prices that recur across France's 35,000 pages (4-5 % of a page)."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", NNBSP).replace(".", ",")
    return f"{int(value):,}".replace(",", NNBSP)


_LETTRES = (
    "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize".split()
)


def lettres(n: int) -> str:
    """Small numbers in running text are written out: 5 -> 'cinq'; 17 and more stay in digits."""
    return _LETTRES[n] if 0 <= n < len(_LETTRES) else nombre(n)


def euros(value: float | int | None, unit: str = "") -> str:
    """1339 -> '1 339 €' (a dash when there is no value)."""
    if value is None:
        return "—"
    return f"{nombre(value)}{NNBSP}€{unit}"


def km(value: float) -> str:
    """3.2 -> '3,2 km'; under a kilometre, '0,8 km'."""
    return f"{value:.1f}".replace(".", ",") + f"{NBSP}km"


def pct(value: float) -> str:
    """3.14 -> '+3,1 %'."""
    sign = "+" if value > 0 else ("−" if value < 0 else "")
    return f"{sign}{abs(value):.1f}".replace(".", ",") + f"{NNBSP}%"


def periode(period: str, court: bool = False) -> str:
    """'2021' stays; '2021-T1' -> '1er trimestre 2021' ('1er trim. 2021' in a table); '2021-03' ->
    'mars 2021'."""
    if "-T" in period:
        year, quarter = period.split("-T")
        return f"{quarter}{'er' if quarter == '1' else 'e'} {'trim.' if court else 'trimestre'} {year}"
    if len(period) == 7:
        return f"{MONTHS[int(period[5:]) - 1]} {period[:4]}"
    return period


def cle(nom: str) -> str:
    """A name's sort key in French order: accents and case set aside (Île-de-France among the I)."""
    return unicodedata.normalize("NFD", nom).encode("ascii", "ignore").decode().lower()


def _jour(d: date) -> str:
    """The day of the month: '1er', '2', ..."""
    return f"{d.day}{'er' if d.day == 1 else ''}"


def date_fr(value: str) -> str:
    """'2021-01-01' -> '1er janvier 2021'."""
    d = date.fromisoformat(value)
    return f"{_jour(d)} {MONTHS[d.month - 1]} {d.year}"


def du_au(first: str, last: str) -> str:
    """A span of days said once: 'le 15 janvier 2020', 'du 5 au 9 janvier 2021', 'du 3 janvier au
    27 décembre 2023', 'du 6 janvier 2020 au 4 janvier 2021'."""
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    if a == b:
        return f"le {date_fr(first)}"
    if (a.year, a.month) == (b.year, b.month):
        return f"du {_jour(a)} au {date_fr(last)}"
    if a.year == b.year:
        return f"du {_jour(a)} {MONTHS[a.month - 1]} au {date_fr(last)}"
    return f"du {date_fr(first)} au {date_fr(last)}"


def annees(start: int, end: int) -> str:
    """'de 2019 à 2023', or 'en 2021' for a single year."""
    return f"en {start}" if start >= end else f"de {start} à {end}"


def date_heure(value: str) -> str:
    """'2026-12-02T01:56:00+00:00' -> '2 décembre 2026 à 1 h 56 (UTC)'."""
    moment = datetime.fromisoformat(value)
    minutes = f"{NBSP}{moment.minute:02d}" if moment.minute else ""
    return f"{date_fr(moment.date().isoformat())} à {moment.hour}{NBSP}h{minutes} (UTC)"


# --- Names of places, with their article and preposition ----------------------------------------
# INSEE's TNCC ("type de nom en clair", `typeLiaison` in the referential) says which article a
# name takes: 0 none (consonant), 1 none (vowel or mute h: d'), 2 le, 3 la, 4 les, 5 l', 6 aux,
# 7 las, 8 los. A commune's name carries its article ("Le Havre"); a department's or a region's
# does not ("Nord", "Bouches-du-Rhône"), except La Réunion's.
APOSTROPHE = "\u2019"
_ARTICLE = {2: "Le ", 3: "La ", 4: "Les ", 5: "L'", 6: "Aux ", 7: "Las ", 8: "Los "}
_DE = {0: "de ", 1: "d'", 2: "du ", 3: "de la ", 4: "des ", 5: "de l'", 6: "des ", 7: "de las ", 8: "de los "}
# "à" for a commune: contracted with le, les and aux; kept before la, l', las and los.
_A_COMMUNE = {2: "au ", 4: "aux ", 6: "aux "}
# The article of a department's or region's name (not written in it): le Nord, l'Ain.
_LE = {2: "le ", 3: "la ", 4: "les ", 5: "l'"}
# "in" for a department: "dans" + article; a name without article takes "en" (en Seine-et-Marne).
_DANS = {liaison: "dans " + article for liaison, article in _LE.items()}
# Places whose "in" no rule gives: islands and a city-department take "à"; the DROM named
# without their article "en"; Centre-Val de Loire uses "en" (the region's own usage).
_IN_EXCEPTIONS = {
    ("departement", "75"): "à ",
    ("departement", "971"): "en ",
    ("departement", "972"): "en ",
    ("departement", "973"): "en ",
    ("departement", "974"): "à ",
    ("departement", "976"): "à ",
    ("region", "04"): "à ",
    ("region", "06"): "à ",
    ("region", "24"): "en ",
}


def typo(text: str) -> str:
    """Typographic apostrophes in a name or a sentence: L'Haÿ-les-Roses -> L’Haÿ-les-Roses."""
    return text.replace("'", APOSTROPHE)


def _bare(nom: str, liaison: int) -> str:
    """A commune's name without its leading article: "Le Havre" -> "Havre"."""
    article = _ARTICLE.get(liaison, "")
    return nom[len(article) :] if article and nom.startswith(article) else nom


# "Haut" takes an aspirated h (de Haut-Mauco), though INSEE's TNCC elides four such names.
_H_ASPIRE = ("Haut", "Haute", "Hautes", "Hauts")


def de(nom: str, liaison: int, level: str = "commune", code: str = "") -> str:
    """ "of" a place: de Bourg-en-Bresse, d'Oyonnax, du Havre, de La Rochelle, des Abymes, de
    L'Haÿ-les-Roses (a commune keeps its article's capital); du Nord, de l'Ain, des Landes."""
    if liaison == 1 and nom.replace("-", " ").split(" ")[0] in _H_ASPIRE:
        liaison = 0
    if level == "arrondissement":
        return "du " + arrondissement(nom)
    if level == "commune" and liaison not in (0, 1, 2, 4, 6):
        return typo("de " + nom)  # the article stays, with its capital: de La Rochelle
    return typo(_DE.get(liaison, "de ") + _bare(nom, liaison))


def a(nom: str, liaison: int, level: str = "commune", code: str = "") -> str:
    """ "in" a place: à Bourg-en-Bresse, au Havre, aux Abymes, à La Rochelle; dans l'Ain, dans le
    Nord, dans les Bouches-du-Rhône, en Seine-et-Marne, à Paris; en Île-de-France, dans les
    Hauts-de-France, à La Réunion; en France."""
    if level == "arrondissement":
        return "dans le " + arrondissement(nom)
    if level == "commune":
        if liaison in _A_COMMUNE:
            return typo(_A_COMMUNE[liaison] + _bare(nom, liaison))
        return typo("à " + nom)
    if level == "france":
        return "en France"
    if exception := _IN_EXCEPTIONS.get((level, code)):
        return typo(exception + nom)
    if level == "region" and liaison in (0, 1, 3):
        return typo("en " + nom)
    return typo(_DANS.get(liaison, "en ") + nom)


def arrondissement(nom: str) -> str:
    """ "Paris 15e arrondissement" -> "15e arrondissement de Paris" (one does not live "à Paris 15e
    arrondissement" but "dans le 15e arrondissement de Paris")."""
    city, number, _ = nom.split(" ", 2)
    return f"{number} arrondissement de {city}"


def court(nom: str) -> str:
    """ "Paris 15e arrondissement" -> "Paris 15e", for titles; other names as they are."""
    return nom.removesuffix(" arrondissement")


def le(nom: str, liaison: int, level: str = "commune", code: str = "") -> str:
    """A place with its article, as a complement: le Nord, l'Ain, la Gironde, les Landes, Paris,
    Le Havre (a commune's name already carries it)."""
    if level in ("commune", "arrondissement") or liaison in (0, 1):
        return typo(nom)
    return typo(_LE.get(liaison, "") + nom)


def compte(n: int, singulier: str, pluriel: str | None = None) -> str:
    """1 vente, 2 095 ventes, 0 vente (French takes the singular below two)."""
    return f"{nombre(n)}{NBSP}{singulier if n < 2 else (pluriel or singulier + 's')}"
