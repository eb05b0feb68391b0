-- Data-quality gates of the fastest-car table for business date ${biz_date}. Each query returns
-- the offending rows; an empty result passes.

-- check: null_keys
-- area_number and car_number must not be NULL.
SELECT area_number, car_number FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' AND (area_number IS NULL OR car_number IS NULL);

-- check: one_row_per_area_and_car
-- A car appears at most once per area.
SELECT area_number, car_number, count(*) AS copies FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' GROUP BY area_number, car_number HAVING count(*) > 1;

-- check: every_area
-- Every area of the drive mart has its fastest car.
SELECT d.area_number FROM (
  SELECT DISTINCT area_number FROM ${db}.managed_smartcar_drive_info WHERE biz_date = '${biz_date}'
) d
LEFT ANTI JOIN (
  SELECT area_number FROM ${db}.${build_table} WHERE biz_date = '${biz_date}'
) f ON f.area_number = d.area_number;
