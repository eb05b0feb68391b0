-- The columns and the HDFS location (the `Location` row) of one partition of a mart.
DESCRIBE FORMATTED ${db}.${table} PARTITION (${partition_column} = '${partition_value}');
