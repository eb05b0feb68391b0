-- Every partition of a mart, one `column=value` row each (the exporter takes the latest).
SHOW PARTITIONS ${db}.${table};
