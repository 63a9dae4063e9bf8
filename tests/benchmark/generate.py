"""Deterministic DVF-like data at any scale, in the raw DGFiP format (benchmark only, never published).

Real communes from the vendored referential (arrondissements for Paris, Lyon and Marseille;
nothing for 57, 67, 68 and 976), sales in proportion to population, price levels that vary by
place, and DVF's real structure: multi-row mutations, dependencies, land rows, a house repeated
on several culture lines, multi-flat sales, a flat with a shop, exact duplicate rows, missing
surfaces, symbolic and absurd prices, VEFA rows without a local, exchanges.

Every random draw is `hash(mutation, salt)`, so the files are the same bytes for the same seed
whatever DuckDB's threads do. Run: `python tests/benchmark/generate.py OUT --scale 01 --years 2`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from rules import places, reference  # noqa: E402

ROWS_PER_INHABITANT = 3_500_000 / 66_000_000  # DVF: ~3.5 million rows a year for France; ~1.9 rows a mutation
FIRST_YEAR_OF_FIVE = 2021
HEADER = (
    "Code service CH|Reference document|1 Articles CGI|2 Articles CGI|3 Articles CGI|4 Articles CGI|"
    "5 Articles CGI|No disposition|Date mutation|Nature mutation|Valeur fonciere|No voie|B/T/Q|Type de voie|"
    "Code voie|Voie|Code postal|Commune|Code departement|Code commune|Prefixe de section|Section|No plan|"
    "No Volume|1er lot|Surface Carrez du 1er lot|2eme lot|Surface Carrez du 2eme lot|3eme lot|"
    "Surface Carrez du 3eme lot|4eme lot|Surface Carrez du 4eme lot|5eme lot|Surface Carrez du 5eme lot|"
    "Nombre de lots|Code type local|Type local|Identifiant local|Surface reelle bati|"
    "Nombre pieces principales|Nature culture|Nature culture speciale|Surface terrain"
)


def scope_departements(scale: str) -> list[str]:
    """`france`, a department code (`01`, `2A`, `974`) or a region code prefixed by r (`r84`)."""
    deps = {p.code: p for (lv, _), p in places.all_places().items() if lv == "departement"}
    if scale == "france":
        return sorted(deps)
    if scale.startswith("r"):
        chosen = sorted(c for c, p in deps.items() if p.region == scale[1:])
    else:
        chosen = [scale.upper()] if scale.upper() in deps else []
    if not chosen:
        raise SystemExit(f"--scale {scale}: not france, a department code or r<region code>")
    return chosen


def _communes(con: duckdb.DuckDBPyConnection, deps: list[str]) -> None:
    """Communes that have sales: current communes, but the arrondissements of Paris, Lyon and Marseille."""
    con.execute(f"create temp table ref as from read_csv('{reference.COMMUNES}', all_varchar = true)")
    con.execute(
        """create temp table gen_communes as
           select code, departement, split_part(codes_postaux, ' ', 1) as cp, population::integer as population,
                  row_number() over (order by code) as idx
           from ref
           where kind in ('commune', 'arrondissement')
             and code not in (select parent from ref where kind = 'arrondissement' and parent is not null)
             and departement in (select unnest(?::varchar[]))
             and departement not in ('57', '67', '68', '976')
             and population is not null and population::integer > 0""",
        [deps],
    )


MUTATIONS = """
create or replace temp table gen_mutations as
with per_commune as (
    select *, greatest(1, round(population * getvariable('rows_per_inhabitant') / 1.92))::integer as n
    from gen_communes
),
m as (
    select c.*, unnest(range(n)) as k from per_commune c
)
select
    code, departement, cp, idx,
    hash(code, k, getvariable('seed'), getvariable('year')) as h,
    -- a price level per commune: 900 to 12000 EUR/m2, Paris arrondissements at the top
    case when code like '751%' then 9500 + (hash(code) % 3000) else 900 + (hash(code, 'lvl') % 4200) end as level,
    false as extra
from m
"""

ROWS = """
create or replace temp table gen_rows as
with drawn as (
    select *,
        (hash(h, 1) % 10000) / 10000.0 as u_kind,
        (hash(h, 2) % 10000) / 10000.0 as u_nature,
        (hash(h, 3) % 10000) / 10000.0 as u_surface,
        (hash(h, 4) % 10000) / 10000.0 as u_price,
        (hash(h, 5) % 10000) / 10000.0 as u_extra,
        (hash(h, 6) % 10000) / 10000.0 as u_odd,
        -- added sales fall before the year's last date, so the headline window does not move
        make_date(getvariable('year'), 1, 1) + (hash(h, 7) % (getvariable('days') - 60 * extra::integer))::integer
            as day
    from gen_mutations
),
shaped as (
    select *,
        case when u_nature < 0.86 then 'Vente' when u_nature < 0.93 then 'Vente en l''état futur d''achèvement'
             when u_nature < 0.96 then 'Vente terrain à bâtir' when u_nature < 0.98 then 'Adjudication'
             when u_nature < 0.995 then 'Echange' else 'Expropriation' end as nature,
        case when u_kind < 0.42 then 'house' when u_kind < 0.80 then 'flat' when u_kind < 0.83 then 'flats'
             when u_kind < 0.84 then 'flat_shop' when u_kind < 0.93 then 'land' else 'shop' end as kind,
        case when u_kind < 0.42 then 60 + u_surface * 140 else 18 + u_surface * 100 end as surface
    from drawn
),
priced as (
    select *,
        case when u_odd < 0.002 then 1.0
             when u_odd > 0.9995 then 2500000000.0
             else round(surface * level * (0.6 + 0.8 * u_price), 0) end as price
    from shaped
),
expanded as (
    select p.*, t.r as r
    from priced p,
        unnest(
            case kind
                when 'house' then list_concat(
                    list_transform(range(1 + (hash(h, 8) % 3)::integer),
                        lambda x: {'type': 1, 'surf': p.surface, 'culture': ['S', 'AG', 'BS'][x + 1], 'land': 400 + x * 300}),
                    case when u_extra < 0.3 then [{'type': 3, 'surf': 0, 'culture': 'S', 'land': 400}] else [] end,
                    case when u_extra > 0.7 then [{'type': null, 'surf': null, 'culture': 'T', 'land': 900}] else [] end)
                when 'flat' then list_concat(
                    [{'type': 2, 'surf': p.surface, 'culture': null, 'land': null}],
                    case when u_extra < 0.5 then [{'type': 3, 'surf': 0, 'culture': null, 'land': null}] else [] end)
                when 'flats' then list_transform(range(2 + (hash(h, 9) % 3)::integer),
                        lambda x: {'type': 2, 'surf': p.surface - x * 5, 'culture': null, 'land': null})
                when 'flat_shop' then [{'type': 2, 'surf': p.surface, 'culture': null, 'land': null},
                                       {'type': 4, 'surf': 120, 'culture': null, 'land': null}]
                when 'land' then [{'type': null, 'surf': null, 'culture': 'T', 'land': 1500}]
                else [{'type': 4, 'surf': p.surface * 2, 'culture': null, 'land': null}]
            end
        ) as t(r)
)
select *,
    -- A total order: rows equal on all of these print as the same line, so ties cannot move bytes.
    row_number() over (order by day, h, r.type nulls last, r.culture nulls last, r.surf nulls last, r.land nulls last) as ord,
    (hash(h, 'dup') % 100) < 5 and r.type = 3 as duplicated
from expanded
"""

OUT = """
copy (
    with final as (
        select ord, 1 as copy_no, * from gen_rows
        union all
        select ord, 2, * from gen_rows where duplicated
    )
    select
        '' as "Code service CH", '' as "Reference document", '' as "1 Articles CGI", '' as "2 Articles CGI",
        '' as "3 Articles CGI", '' as "4 Articles CGI", '' as "5 Articles CGI",
        '000001' as "No disposition",
        strftime(day, '%d/%m/%Y') as "Date mutation",
        nature as "Nature mutation",
        case when nature like 'Vente en%' and r.type is null then ''
             else replace(printf('%.2f', price), '.', ',') end as "Valeur fonciere",
        (hash(h, 'no') % 200 + 1)::varchar as "No voie", '' as "B/T/Q", 'RUE' as "Type de voie",
        lpad((hash(h, 'cv') % 9999)::varchar, 4, '0') as "Code voie", 'DE LA REPUBLIQUE' as "Voie",
        ltrim(cp, '0') as "Code postal", 'COMMUNE' as "Commune",
        departement as "Code departement",
        ltrim(right(code, 3), '0') as "Code commune",
        '' as "Prefixe de section", 'AB' as "Section", (hash(h, 'plan') % 2000 + 1)::varchar as "No plan",
        '' as "No Volume",
        case when r.type = 2 then (hash(h, 'lot') % 300 + 1)::varchar else '' end as "1er lot",
        case when r.type = 2 then replace(printf('%.2f', r.surf * 0.97), '.', ',') else '' end
            as "Surface Carrez du 1er lot",
        '' as "2eme lot", '' as "Surface Carrez du 2eme lot", '' as "3eme lot",
        '' as "Surface Carrez du 3eme lot", '' as "4eme lot", '' as "Surface Carrez du 4eme lot",
        '' as "5eme lot", '' as "Surface Carrez du 5eme lot",
        case when r.type = 2 then '1' else '0' end as "Nombre de lots",
        coalesce(r.type::varchar, '') as "Code type local",
        case r.type when 1 then 'Maison' when 2 then 'Appartement' when 3 then 'Dépendance'
             when 4 then 'Local industriel. commercial ou assimilé' else '' end as "Type local",
        '' as "Identifiant local",
        case when r.type is null then '' when u_odd between 0.5 and 0.52 and r.type in (1, 2) then ''
             else round(r.surf)::integer::varchar end as "Surface reelle bati",
        case when r.type in (1, 2) then (1 + round(r.surf / 25))::integer::varchar when r.type = 3 then '0'
             else '' end as "Nombre pieces principales",
        coalesce(r.culture, '') as "Nature culture", '' as "Nature culture speciale",
        coalesce(r.land::varchar, '') as "Surface terrain"
    from final
    order by ord, copy_no
) to '{path}' (format csv, delimiter '|', header true, quote '', escape '')
"""


def generate(
    out: Path,
    scale: str = "france",
    years: int = 5,
    seed: int = 42,
    extra: tuple[int, int] | None = None,
    last_year: int = FIRST_YEAR_OF_FIVE + 4,
) -> dict:
    """Write ValeursFoncieres-YYYY.txt for each year into `out`; returns counts.

    `extra=(communes, sales)` adds that many single-good sales, spread over that many communes,
    to the last year's file (a new release of the same year, as the weekly figures describe).
    """
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = true")
    _communes(con, scope_departements(scale))
    con.execute("set variable seed = ?", [seed])
    con.execute("set variable rows_per_inhabitant = ?", [ROWS_PER_INHABITANT])
    counts: dict = {}
    for year in range(last_year - years + 1, last_year + 1):
        con.execute("set variable year = ?", [year])
        # The last year stops at the end of November, so that added sales never move the last date.
        con.execute("set variable days = ?", [334 if year == last_year else 365])
        con.execute(MUTATIONS)
        if extra and year == last_year:
            counts["extra_communes"] = _add_extra(con, *extra)
        con.execute(ROWS)
        path = out / f"ValeursFoncieres-{year}.txt"
        con.execute(OUT.format(path=str(path).replace("'", "''")))
        counts[path.name] = con.execute(
            "select count(*) + count(*) filter (where duplicated) from gen_rows"
        ).fetchone()[0]
        _check_header(path)
    con.close()
    return counts


def _add_extra(con: duckdb.DuckDBPyConnection, communes: int, sales: int) -> list[str]:
    """Extra mutations for the first `communes` communes in hash order, `sales` in all; their codes."""
    con.execute(
        """insert into gen_mutations
           with chosen as (
               select *, row_number() over (order by hash(code, 'extra')) as rank from gen_communes
               qualify rank <= ?
           ),
           n as (select count(*) as c from chosen)
           select code, departement, cp, idx, hash(code, i, 'extra', getvariable('seed')),
                  case when code like '751%' then 9500 + (hash(code) % 3000) else 900 + (hash(code, 'lvl') % 4200) end,
                  true
           from chosen, n, range(?) as r(i)
           where i % n.c = rank - 1""",
        [communes, sales],
    )
    return [
        r[0] for r in con.execute("select distinct code from gen_mutations where extra order by 1").fetchall()
    ]


def _check_header(path: Path) -> None:
    with open(path, encoding="utf-8") as f:
        if f.readline().rstrip("\n") != HEADER:
            raise SystemExit(f"{path}: generated header differs from DGFiP's")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--scale", default="france")
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    for name, n in generate(args.out, args.scale, args.years, args.seed).items():
        print(f"{name}: {n:,} rows")  # noqa: T201 (a command-line tool)


if __name__ == "__main__":
    main()
