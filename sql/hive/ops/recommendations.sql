-- The recommendations of business date ${biz_date}, car by car (pilot demo's headlines).
SELECT car_number, rank, item FROM ${db}.analysis_recommendations WHERE biz_date = '${biz_date}'
ORDER BY car_number, rank
