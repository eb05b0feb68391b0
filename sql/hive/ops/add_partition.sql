-- Register one collection-date partition of an input table at its HDFS directory (idempotent).
ALTER TABLE ${db}.${table} ADD IF NOT EXISTS PARTITION (wrk_date = '${wrk_date}')
LOCATION '${location}';
