-- Export target of mart 2 (managed_smartcar_drive_info): driving events of adult cars.
-- {table} is the target (schema.table), quoted by the exporter. One list partition per business date.
-- Key columns use COLLATE "C": they are ASCII codes, and byte order makes their index cheaper to build.
CREATE TABLE IF NOT EXISTS {table} (
  r_date       varchar(14) COLLATE "C" NOT NULL,
  car_number   varchar(5) COLLATE "C" NOT NULL,
  speed_pedal  smallint,
  break_pedal  smallint,
  steer_angle  varchar(2),
  direct_light varchar(1),
  speed        smallint,
  area_number  varchar(3),
  sex          varchar(2),
  age          smallint,
  marriage     varchar(4),
  region       varchar(8),
  job          varchar(16),
  car_capacity integer,
  car_year     smallint,
  car_model    varchar(2),
  biz_date     date        NOT NULL,
  PRIMARY KEY (biz_date, car_number, r_date)
) PARTITION BY LIST (biz_date);
