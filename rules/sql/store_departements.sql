-- The departments whose communes have rows in the store: a local build's default scope. The
-- store's distinct communes first, then the referential: joining every row took 0.2 s at France
-- scale, this 0.06 s.
select distinct c.departement
from (select distinct code_commune from dvf_rows) r
join communes c on c.code = r.code_commune
order by 1;
