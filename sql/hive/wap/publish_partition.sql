-- Write-audit-publish, step 3 (after the gates passed): the mart's partition reads the audited
-- build's folder. One metastore update: readers see the old files or the new ones, never a mix.
ALTER TABLE ${db}.${table} ADD IF NOT EXISTS PARTITION (${partition_column} = '${partition_value}')
  LOCATION '${audit_location}';
ALTER TABLE ${db}.${table} PARTITION (${partition_column} = '${partition_value}')
  SET LOCATION '${audit_location}';
ALTER TABLE ${db}.${build_table} DROP IF EXISTS PARTITION (${partition_column} = '${partition_value}');
REFRESH TABLE ${db}.${table};
