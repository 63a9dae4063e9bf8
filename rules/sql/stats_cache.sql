-- The seed's stats_cache (place, period, stat type, value), filled from the stored figures:
-- headline figures over the window and yearly series, for every place and type.
-- stat_type is '<type>.<figure>', e.g. 'appartement.median_m2'.
create or replace table stats_cache as
select level || ':' || code as place, getvariable('window_label') as period,
       type || '.' || stat as stat_type, value::double as value
from (select level, code, type, n, median_m2, mean_m2 from st_headline)
unpivot (value for stat in (n, median_m2, mean_m2))
union all
select level || ':' || code, period, type || '.' || stat, value::double
from (select level, code, type, period, n, median_m2 from st_series where grain = 'annee')
unpivot (value for stat in (n, median_m2));
