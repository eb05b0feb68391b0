-- Data-quality gates of the style model's table of business date ${biz_date}.

-- check: one_row_per_adult_driving_car
-- Every car of the symptom mart (adult cars that drove that day) once.
SELECT s.car_number, count(f.car_number) AS rows_ FROM ${db}.managed_smartcar_symptom_info s
LEFT JOIN (SELECT car_number FROM ${db}.${build_table} WHERE biz_date = '${biz_date}') f
  ON f.car_number = s.car_number
WHERE s.biz_date = '${biz_date}'
GROUP BY s.car_number HAVING count(f.car_number) <> 1;

-- check: probabilities_add_up
-- The class probabilities are in [0, 1], add up to 1, and the predicted class has the largest.
SELECT car_number, p_calm, p_normal, p_wild, predicted FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' AND (
  abs(p_calm + p_normal + p_wild - 1) > 1e-6 OR least(p_calm, p_normal, p_wild) < 0
  OR (predicted = 'calm' AND p_calm < greatest(p_normal, p_wild))
  OR (predicted = 'normal' AND p_normal < greatest(p_calm, p_wild))
  OR (predicted = 'wild' AND p_wild < greatest(p_calm, p_normal)));
