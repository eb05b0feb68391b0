-- Data-quality gates of the recommendations of business date ${biz_date}. Each query returns the
-- offending rows; an empty result passes.

-- check: three_ranked_items_per_car
-- Ranks 1..3 once each per car, and no item twice for one car.
SELECT car_number, count(*) AS items, count(DISTINCT rank) AS ranks, count(DISTINCT item) AS distinct_items,
       min(rank) AS first, max(rank) AS last
FROM ${db}.${build_table} WHERE biz_date = '${biz_date}'
GROUP BY car_number
HAVING count(*) > 3 OR count(DISTINCT rank) <> count(*) OR count(DISTINCT item) <> count(*)
    OR min(rank) <> 1 OR max(rank) <> count(*);

-- check: nothing_already_bought
-- A recommendation never names an item the car bought that month.
SELECT r.car_number, r.item FROM ${db}.${build_table} r
LEFT SEMI JOIN ${db}.managed_smartcar_item_buylist_info b
  ON b.car_number = r.car_number AND b.item = r.item AND b.biz_month = substr('${biz_date}', 1, 6)
WHERE r.biz_date = '${biz_date}';

-- check: only_adult_buyers
-- Every recommended car is an adult buyer of the month's purchase mart.
SELECT r.car_number FROM ${db}.${build_table} r
LEFT ANTI JOIN (
  SELECT DISTINCT car_number FROM ${db}.managed_smartcar_item_buylist_info
  WHERE biz_month = substr('${biz_date}', 1, 6)
) b ON b.car_number = r.car_number
WHERE r.biz_date = '${biz_date}';
