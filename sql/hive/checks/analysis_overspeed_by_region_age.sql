-- Data-quality gates of the overspeed table for business date ${biz_date}.

-- check: one_row_per_region_and_band
-- One row per region and age band.
SELECT region, age_band, count(*) AS copies FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' GROUP BY region, age_band HAVING count(*) > 1;

-- check: age_band_domain
-- Age bands are 18-29, 30-39, 40-49, 50-59 and 60+; windows and cars are positive.
SELECT region, age_band, windows, cars FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}'
  AND (coalesce(age_band, '') NOT IN ('18-29', '30-39', '40-49', '50-59', '60+')
       OR region IS NULL OR windows < 1 OR cars < 1 OR cars > windows);
