-- Data-quality gates of mart 3 for business date ${biz_date}. Each query returns the offending
-- rows; an empty result passes.

-- check: not_empty
-- The drive mart has rows for the business date, but the symptom partition is empty.
SELECT 'the drive mart has rows for ${biz_date} but the symptom partition is empty' AS problem
WHERE EXISTS (SELECT 1 FROM ${db}.managed_smartcar_drive_info WHERE biz_date = '${biz_date}')
  AND NOT EXISTS (SELECT 1 FROM ${db}.${build_table} WHERE biz_date = '${biz_date}');

-- check: null_keys
-- car_number must not be NULL.
SELECT car_number FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' AND car_number IS NULL;

-- check: one_row_per_car
-- One row per car and business date.
SELECT car_number, count(*) AS copies FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' GROUP BY car_number HAVING count(*) > 1;

-- check: label_domain
-- Symptom labels are 'normal' or 'abnormal'.
SELECT car_number, speed_pedal_symptom, break_pedal_symptom, sharp_turn_symptom
FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}'
  AND (coalesce(speed_pedal_symptom, '') NOT IN ('normal', 'abnormal')
       OR coalesce(break_pedal_symptom, '') NOT IN ('normal', 'abnormal')
       OR coalesce(sharp_turn_symptom, '') NOT IN ('normal', 'abnormal'));

-- check: every_driving_car
-- Every car of the drive mart appears, also those without a sharp turn (count 0).
SELECT d.car_number FROM (
  SELECT DISTINCT car_number FROM ${db}.managed_smartcar_drive_info WHERE biz_date = '${biz_date}'
) d
LEFT ANTI JOIN (
  SELECT car_number FROM ${db}.${build_table} WHERE biz_date = '${biz_date}'
) s ON s.car_number = d.car_number;
