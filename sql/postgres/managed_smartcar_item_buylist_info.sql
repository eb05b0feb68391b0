-- Export target of mart 5 (managed_smartcar_item_buylist_info): a month's purchases of adult cars.
-- A car may buy the same item twice in a month, so there is no natural key.
-- {table} is the target (schema.table), quoted by the exporter. One list partition per month.
-- Key columns use COLLATE "C": they are ASCII codes, and byte order makes their index cheaper to build.
CREATE TABLE IF NOT EXISTS {table} (
  car_number   varchar(5) COLLATE "C" NOT NULL,
  item         varchar(16) NOT NULL,
  score        smallint,
  sex          varchar(2),
  age          smallint,
  marriage     varchar(4),
  region       varchar(8),
  job          varchar(16),
  car_capacity integer,
  car_year     smallint,
  car_model    varchar(2),
  biz_month    char(6)     NOT NULL
) PARTITION BY LIST (biz_month);
