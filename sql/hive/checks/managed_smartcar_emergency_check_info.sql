-- Data-quality gates of mart 4 for business date ${biz_date}. Each query returns the offending
-- rows; an empty result passes. An empty partition is legal: no car needed a check that day.

-- check: null_keys
-- car_number must not be NULL.
SELECT car_number FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' AND car_number IS NULL;

-- check: one_row_per_car
-- One row per car and business date.
SELECT car_number, count(*) AS copies FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' GROUP BY car_number HAVING count(*) > 1;

-- check: label_domain
-- Every label is one of the five checks, and the list agrees with the flags and the count.
SELECT car_number, checks, check_count FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}'
  AND (checks IS NULL
       OR size(array_except(split(checks, ','),
                            array('Tire Check', 'Light Check', 'Engine Check', 'Brake Check',
                                  'Battery Check'))) > 0
       OR size(split(checks, ',')) <> check_count
       OR check_count <> IF(tire_check, 1, 0) + IF(light_check, 1, 0) + IF(engine_check, 1, 0)
                         + IF(brake_check, 1, 0) + IF(battery_check, 1, 0));

-- check: at_least_one_check
-- Only cars with at least one check are listed.
SELECT car_number, check_count FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' AND (check_count IS NULL OR check_count < 1);
