-- Data-quality gates of mart 5 for month ${biz_month}. Each query returns the offending rows;
-- an empty result passes.

-- check: not_empty
-- The purchase list holds rows of adult cars for the month, but the mart partition is empty.
SELECT 'adult purchases exist for ${biz_month} but the mart partition is empty' AS problem
WHERE EXISTS (
        SELECT 1 FROM ${db}.smartcar_item_buylist b
        JOIN ${db}.smartcar_master_over18 m ON m.car_number = b.car_number
        WHERE b.month = '${biz_month}')
  AND NOT EXISTS (SELECT 1 FROM ${db}.${build_table} WHERE biz_month = '${biz_month}');

-- check: null_keys
-- car_number and item must not be NULL.
SELECT car_number, item FROM ${db}.${build_table}
WHERE biz_month = '${biz_month}' AND (car_number IS NULL OR item IS NULL);

-- check: score_domain
-- Scores are 1..5.
SELECT car_number, item, score FROM ${db}.${build_table}
WHERE biz_month = '${biz_month}' AND (score IS NULL OR score NOT BETWEEN 1 AND 5);

-- check: adults_only
-- Every owner is an adult (age >= 18).
SELECT car_number, age FROM ${db}.${build_table}
WHERE biz_month = '${biz_month}' AND (age IS NULL OR age < 18);
