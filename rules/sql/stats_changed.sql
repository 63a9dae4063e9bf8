-- The parts (a year of a commune, see stats_parts.sql) whose rows changed since the stored
-- figures were computed: a new part, a part gone, or a part whose signature moved; and the parts
-- an import cut a mutation of (cut_parts.sql). Only these parts' sales are deduplicated and
-- compared again; the import replaces every part a mutation ties to a changed one in the periods
-- it covers, and records those it cuts outside them, so no mutation is split between the two sides.
create or replace temp table st_changed as
select annee, part
from st_parts n
full join stats_part_state s using (annee, part)
where n.signature is distinct from s.signature
union
select annee, part from cut_parts;
