-- Steps 2-4: Vente, VEFA and Adjudication only; dependencies (3) and land (no type) removed BEFORE
-- counting goods, so they never make a sale multi-good; a mutation kept only if exactly one good
-- (flat, house or business premises) is left.
create or replace temp view sales_single_good as
select *
from sales_deduped
where nature_mutation in ('Vente', 'Vente en l''état futur d''achèvement', 'Adjudication')
  and code_type_local in (1, 2, 4)
qualify count(*) over (partition by source_sha256, id_mutation) = 1;
