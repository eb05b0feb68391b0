-- Write-audit-publish, step 1: a new build of a mart partition lands in the audit table, in a
-- folder of its own (external table: dropping its partition later keeps the files the mart reads).
CREATE TABLE IF NOT EXISTS ${db}.${build_table} LIKE ${db}.${table} LOCATION '${audit_root}';
ALTER TABLE ${db}.${build_table} DROP IF EXISTS PARTITION (${partition_column} = '${partition_value}');
ALTER TABLE ${db}.${build_table} ADD PARTITION (${partition_column} = '${partition_value}')
  LOCATION '${audit_location}';
