-- Data-quality gates of mart 1 for business date ${biz_date}. Each query returns the offending
-- rows; an empty result passes.

-- check: not_empty
-- The input holds status events of adult cars on the business date, but the mart partition is empty.
SELECT 'adult status events exist for ${biz_date} but the mart partition is empty' AS problem
WHERE EXISTS (
        SELECT 1 FROM ${db}.smartcar_status_info s
        JOIN ${db}.smartcar_master_over18 m ON m.car_number = s.car_number
        WHERE s.wrk_date BETWEEN '${biz_date}' AND '${last_wrk_date}'
          AND substr(s.reg_date, 1, 8) = '${biz_date}')
  AND NOT EXISTS (SELECT 1 FROM ${db}.${build_table} WHERE biz_date = '${biz_date}');

-- check: null_keys
-- Key columns (car_number, reg_date) must not be NULL.
SELECT car_number, reg_date FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' AND (car_number IS NULL OR reg_date IS NULL);

-- check: event_date
-- Every row's event date (reg_date) is the business date.
SELECT car_number, reg_date FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' AND substr(reg_date, 1, 8) <> '${biz_date}';

-- check: one_row_per_event
-- One row per (car_number, reg_date): replayed records are deduplicated.
SELECT car_number, reg_date, count(*) AS copies FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' GROUP BY car_number, reg_date HAVING count(*) > 1;

-- check: adults_only
-- Every owner is an adult (age >= 18).
SELECT car_number, age FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' AND (age IS NULL OR age < 18);
