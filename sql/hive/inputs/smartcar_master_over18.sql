-- The adult car owners: every mart keeps adults only (age >= 18).
CREATE OR REPLACE VIEW ${db}.smartcar_master_over18 AS
SELECT car_number, sex, age, marriage, region, job, car_capacity, car_year, car_model
FROM ${db}.smartcar_master
WHERE age >= 18;
