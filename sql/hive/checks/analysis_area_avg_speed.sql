-- Data-quality gates of the area average-speed table for business date ${biz_date}.

-- check: one_row_per_area
-- One row per area.
SELECT area_number, count(*) AS copies FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' GROUP BY area_number HAVING count(*) > 1 OR area_number IS NULL;

-- check: at_least_the_minimum
-- Only areas whose average speed is at least the minimum speed are kept.
SELECT area_number, avg_speed, min_speed FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' AND (avg_speed < min_speed OR min_speed <> ${min_speed});
