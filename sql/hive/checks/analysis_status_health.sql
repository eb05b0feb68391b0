-- Data-quality gates of the status-health label table for business date ${biz_date}.

-- check: every_status_record
-- Every record of the status mart is labelled once (same count).
SELECT s.records, h.labelled FROM
  (SELECT count(*) AS records FROM ${db}.managed_smartcar_status_info WHERE biz_date = '${biz_date}') s
  CROSS JOIN
  (SELECT count(*) AS labelled FROM ${db}.${build_table} WHERE biz_date = '${biz_date}') h
WHERE s.records <> h.labelled;

-- check: one_row_per_record
-- One row per car and reg_date.
SELECT car_number, reg_date, count(*) AS copies FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}' GROUP BY car_number, reg_date HAVING count(*) > 1;

-- check: label_domain
-- Labels are 'normal' or 'abnormal', and agree with the points.
SELECT car_number, reg_date, health_points, label FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}'
  AND (coalesce(label, '') NOT IN ('normal', 'abnormal')
       OR (label = 'abnormal') <> (health_points < 6));
