SELECT count(*) AS row_count FROM ${db}.${table} WHERE ${partition_column} = '${partition_value}';
