-- Withdraw a mart partition that failed its data-quality gates.
ALTER TABLE ${db}.${table} DROP IF EXISTS PARTITION (${partition_column} = '${partition_value}');
