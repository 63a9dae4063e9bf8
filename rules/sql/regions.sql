-- Regions in DVF's geography (metropolitan France and the DROM).
create or replace table regions as
select code, nom
from read_csv(
    getvariable('regions_csv'), header = true, auto_detect = false,
    columns = {'code': 'varchar', 'nom': 'varchar', 'liaison': 'varchar'}
);
