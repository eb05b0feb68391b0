-- Does a partition of a mart exist? (one row if it does)
SHOW PARTITIONS ${db}.${table} PARTITION (${partition_column} = '${partition_value}');
