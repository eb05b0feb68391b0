-- Data-quality gates of mart 2 for business date ${biz_date}. Each query returns the offending
-- rows; an empty result passes.

-- check: not_empty
-- The input holds driving events of adult cars on the business date, but the mart partition is empty.
SELECT 'adult driving events exist for ${biz_date} but the mart partition is empty' AS problem
WHERE EXISTS (
        SELECT 1 FROM ${db}.smartcar_drive_info d
        JOIN ${db}.smartcar_master_over18 m ON m.car_number = d.car_number
        WHERE d.wrk_date BETWEEN '${biz_date}' AND '${last_wrk_date}'
          AND substr(d.r_date, 1, 8) = '${biz_date}')
  AND NOT EXISTS (SELECT 1 FROM ${db}.${build_table} WHERE biz_date = '${biz_date}');

-- check: null_keys
-- Key columns (car_number, r_date) must not be NULL.
SELECT car_number, r_date FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' AND (car_number IS NULL OR r_date IS NULL);

-- check: event_date
-- Every row's event date (r_date) is the business date.
SELECT car_number, r_date FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' AND substr(r_date, 1, 8) <> '${biz_date}';

-- check: one_row_per_event
-- One row per (car_number, r_date): replayed events are deduplicated.
SELECT car_number, r_date, count(*) AS copies FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' GROUP BY car_number, r_date HAVING count(*) > 1;

-- check: adults_only
-- Every owner is an adult (age >= 18).
SELECT car_number, age FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' AND (age IS NULL OR age < 18);
