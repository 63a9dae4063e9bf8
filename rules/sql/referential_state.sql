-- Which referential the communes, departements and regions tables hold: the sha256 of its vendored
-- files (rules/reference/), so an import reloads them only when they change.
create table if not exists referential_state (digest varchar not null);
