-- Data-quality gates of the car clusters of business date ${biz_date}.

-- check: every_adult_car_once
-- Each adult car of the master has exactly one cluster.
SELECT m.car_number, count(c.car_number) AS clusters
FROM ${db}.smartcar_master_over18 m
LEFT JOIN (SELECT car_number FROM ${db}.${build_table} WHERE biz_date = '${biz_date}') c
  ON c.car_number = m.car_number
GROUP BY m.car_number HAVING count(c.car_number) <> 1;

-- check: no_minor_or_unknown_car
-- No car outside the adult master is clustered.
SELECT c.car_number FROM ${db}.${build_table} c
LEFT ANTI JOIN ${db}.smartcar_master_over18 m ON m.car_number = c.car_number
WHERE c.biz_date = '${biz_date}';
