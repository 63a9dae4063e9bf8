-- Where each partition's rows are in history_rows (see history_stage).
select code_departement, min(rowid), max(rowid)
from history_scratch.history_rows
group by code_departement;
