-- Data-quality gates of the cluster profiles of business date ${biz_date}.

-- check: one_profile_per_cluster_with_cars
-- Each cluster once, none empty.
SELECT cluster, count(*) AS profiles, min(cars) AS cars FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' GROUP BY cluster HAVING count(*) <> 1 OR min(cars) < 1;
