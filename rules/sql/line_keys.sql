-- What a raw file's partial import needs of each of its lines, without splitting them into their 43
-- fields (file_lines.sql; a regular expression takes the 9th, 11th, 19th and 20th): its hash, its
-- price and date as written (which number the mutations: line_ids.sql) and its part (year,
-- half-year, department, commune), placed as staged.sql places a typed row (raw_date.sql,
-- half_year.sql, raw_departement.sql, raw_commune.sql). A line the expression does not match (too
-- few fields) or whose date is not one has no year: its part is never one the store knows, so the
-- line is staged and refused there (candidate_parts.sql). 0.9 s for 3.5 million lines, where
-- staging them takes 4.5 s (2026-12-07).
create or replace temp table line_keys as
with fields as (
    select
        rowid as rid,
        lh,
        regexp_extract(
            l,
            '^(?:[^|]*\|){8}([^|]*)\|[^|]*\|([^|]*)\|(?:[^|]*\|){7}([^|]*)\|([^|]*)(?:\||$)',
            ['date_text', 'price_text', 'departement', 'commune']
        ) as f
    from file_lines
),
texts as (
    select
        rid,
        lh,
        nullif(f.date_text, '') as date_text,
        nullif(f.price_text, '') as price_text,
        nullif(f.departement, '') as departement,
        nullif(f.commune, '') as commune
    from fields
)
select
    rid,
    lh,
    price_text,
    date_text,
    year(raw_date(date_text))::smallint as annee,
    half_year(raw_date(date_text)) as semestre,
    raw_departement(departement) as code_departement,
    raw_commune(departement, commune) as code_commune
from texts;
