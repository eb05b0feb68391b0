-- Withdraw an audited build that failed its data-quality gates (the published partition stays).
ALTER TABLE ${db}.${build_table} DROP IF EXISTS PARTITION (${partition_column} = '${partition_value}');
