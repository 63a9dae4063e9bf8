"""The DVF vocabulary, said once: both formats' headers, the natures of mutation, the local types,
the property types the site publishes and their labels.

Python reads it from here; the SQL files receive it as variables (`variables()`, read with
getvariable()); templates get the published types and labels as globals. Spelling a nature or a
type code anywhere else is a bug.
"""

from __future__ import annotations

RAW_FIRST_COLUMN = ("Code service CH", "Identifiant de document")
RAW_HEADER = [
    "Code service CH",
    "Reference document",
    "1 Articles CGI",
    "2 Articles CGI",
    "3 Articles CGI",
    "4 Articles CGI",
    "5 Articles CGI",
    "No disposition",
    "Date mutation",
    "Nature mutation",
    "Valeur fonciere",
    "No voie",
    "B/T/Q",
    "Type de voie",
    "Code voie",
    "Voie",
    "Code postal",
    "Commune",
    "Code departement",
    "Code commune",
    "Prefixe de section",
    "Section",
    "No plan",
    "No Volume",
    "1er lot",
    "Surface Carrez du 1er lot",
    "2eme lot",
    "Surface Carrez du 2eme lot",
    "3eme lot",
    "Surface Carrez du 3eme lot",
    "4eme lot",
    "Surface Carrez du 4eme lot",
    "5eme lot",
    "Surface Carrez du 5eme lot",
    "Nombre de lots",
    "Code type local",
    "Type local",
    "Identifiant local",
    "Surface reelle bati",
    "Nombre pieces principales",
    "Nature culture",
    "Nature culture speciale",
    "Surface terrain",
]
GEO_HEADER = [
    "id_mutation",
    "date_mutation",
    "numero_disposition",
    "nature_mutation",
    "valeur_fonciere",
    "adresse_numero",
    "adresse_suffixe",
    "adresse_nom_voie",
    "adresse_code_voie",
    "code_postal",
    "code_commune",
    "nom_commune",
    "code_departement",
    "ancien_code_commune",
    "ancien_nom_commune",
    "id_parcelle",
    "ancien_id_parcelle",
    "numero_volume",
    "lot1_numero",
    "lot1_surface_carrez",
    "lot2_numero",
    "lot2_surface_carrez",
    "lot3_numero",
    "lot3_surface_carrez",
    "lot4_numero",
    "lot4_surface_carrez",
    "lot5_numero",
    "lot5_surface_carrez",
    "nombre_lots",
    "code_type_local",
    "type_local",
    "surface_reelle_bati",
    "nombre_pieces_principales",
    "code_nature_culture",
    "nature_culture",
    "code_nature_culture_speciale",
    "nature_culture_speciale",
    "surface_terrain",
    "longitude",
    "latitude",
]

# Every nature of mutation DVF publishes; the method keeps the sales among them (Etalab's steps).
NATURES = (
    "Vente",
    "Vente en l'état futur d'achèvement",
    "Vente terrain à bâtir",
    "Adjudication",
    "Echange",
    "Expropriation",
)
KEPT_NATURES = ("Vente", "Vente en l'état futur d'achèvement", "Adjudication")

# code_type_local: 1 Maison, 2 Appartement, 3 Dépendance, 4 Local industriel, commercial ou assimilé.
# Goods are counted without dependencies (3) and land (no type); a sale of one flat or one house is
# published, by type.
HOUSE, FLAT, DEPENDENCY, PREMISES = 1, 2, 3, 4
LOCAL_TYPES = (HOUSE, FLAT, DEPENDENCY, PREMISES)
GOODS = (HOUSE, FLAT, PREMISES)
TYPES = ("appartement", "maison")  # the published types, in the order pages show them
TYPE_CODES = {"appartement": FLAT, "maison": HOUSE}
TYPE_LABELS = {"appartement": "Appartements", "maison": "Maisons"}
TYPE_LABEL = {"appartement": "Appartement", "maison": "Maison"}


def variables() -> dict[str, object]:
    """The vocabulary as SQL variables."""
    return {
        "natures": list(NATURES),
        "kept_natures": list(KEPT_NATURES),
        "local_types": list(LOCAL_TYPES),
        "goods": list(GOODS),
        "type_names": list(TYPES),
        "type_codes": [TYPE_CODES[t] for t in TYPES],
    }


# Field names as each format's header spells them, for error messages people can act on.
RAW_LABELS = {
    "date_mutation": "Date mutation",
    "nature_mutation": "Nature mutation",
    "valeur_fonciere": "Valeur fonciere",
    "surface_reelle_bati": "Surface reelle bati",
    "surface_terrain": "Surface terrain",
    "nombre_pieces_principales": "Nombre pieces principales",
    "nombre_lots": "Nombre de lots",
    "numero_disposition": "No disposition",
    "code_type_local": "Code type local",
    **{
        f"lot{i}_surface_carrez": f"Surface Carrez du {i}{'er' if i == 1 else 'eme'} lot" for i in range(1, 6)
    },
}
PROBLEMS = {
    "date_mutation": "is not a valid date",
    "date_mutation@future": "is after {latest}: a sale cannot be dated in the future",
    "valeur_fonciere@range": "is not a plausible price (10^15 EUR or more)",
    "surface_reelle_bati@range": "is not a plausible surface (10^12 m2 or more)",
    "surface_terrain@range": "is not a plausible surface (10^12 m2 or more)",
    **{f"lot{i}_surface_carrez@range": "is not a plausible surface (10^12 m2 or more)" for i in range(1, 6)},
    "id_mutation": "is empty: every geo-dvf row names its mutation",
    "nature_mutation": "is not a known nature of mutation",
    "code_type_local": "is not a known local type (1-4)",
}
