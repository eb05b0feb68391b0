-- The columns of a table, data columns first (the exporter reads them up to the first `#` row).
DESCRIBE ${db}.${table};
