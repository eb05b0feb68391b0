-- The cluster profiles of business date ${biz_date} (pilot demo's headlines).
SELECT cluster, cars, description FROM ${db}.analysis_cluster_profiles WHERE biz_date = '${biz_date}'
ORDER BY cluster
