-- Departments in DVF's geography (metropolitan France and the DROM).
create or replace table departements as
select code, nom, region
from read_csv(
    getvariable('departements_csv'), header = true, auto_detect = false,
    columns = {'code': 'varchar', 'nom': 'varchar', 'region': 'varchar', 'liaison': 'varchar'}
);
