-- Export target of mart 1 (managed_smartcar_status_info): status records of adult cars.
-- {table} is the target (schema.table), quoted by the exporter. One list partition per business
-- date: the exporter loads a staging table and swaps it in as the date's partition.
-- Key columns use COLLATE "C": they are ASCII codes, and byte order makes their index cheaper to build.
CREATE TABLE IF NOT EXISTS {table} (
  reg_date     varchar(14) COLLATE "C" NOT NULL,
  car_number   varchar(5) COLLATE "C" NOT NULL,
  tire_fl      smallint,
  tire_fr      smallint,
  tire_bl      smallint,
  tire_br      smallint,
  light_fl     varchar(1),
  light_fr     varchar(1),
  light_bl     varchar(1),
  light_br     varchar(1),
  engine       varchar(1),
  "break"      varchar(1),
  battery      smallint,
  sex          varchar(2),
  age          smallint,
  marriage     varchar(4),
  region       varchar(8),
  job          varchar(16),
  car_capacity integer,
  car_year     smallint,
  car_model    varchar(2),
  biz_date     date        NOT NULL,
  PRIMARY KEY (biz_date, car_number, reg_date)
) PARTITION BY LIST (biz_date);
