-- Forget cached file listings of a table (the loader may have added files to a partition).
REFRESH TABLE ${db}.${table};
