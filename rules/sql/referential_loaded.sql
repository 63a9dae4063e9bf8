-- The digest of the referential the store's tables hold (no row: never loaded, or an older store).
select digest from referential_state;
