-- The departments whose communes have rows in the store: a local build's default scope.
select distinct c.departement
from dvf_rows r
join communes c on c.code = r.code_commune
order by 1;
