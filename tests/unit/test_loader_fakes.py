"""Both loaders against in-memory fakes of Kafka, WebHDFS, HBase and Redis (no services).

Checks that counts reconcile and that a crash at an awkward moment (between two renames of one
block; between a write and its commit) followed by a restart with other roll points leaves each
record exactly once. Expected contents come from the input lines and the simulator's ground
truth, not from the loaders.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ingest.loaders.batch import BatchLoader, BatchOptions
from ingest.loaders.hbase_keys import row_key
from ingest.loaders.hdfs_store import HdfsStore
from ingest.loaders.kafka_source import Committed, TopicPartition
from ingest.loaders.realtime import RealtimeLoader, RealtimeOptions
from ingest.loaders.windows import Closed
from ingest.simulator import SimulatorConfig, simulate_day
from pilot.settings import Settings, load_settings

DATE = "20200322"
PARTITIONS = 3


class Killed(Exception):
    """Stands for kill -9: the loader stops where it is, nothing is cleaned up."""


class Record:
    """A consumed message with ``confluent_kafka.Message``'s accessors."""

    __slots__ = ("_key", "_offset", "_partition", "_timestamp", "_topic", "_value")

    def __init__(self, topic: str, partition: int, offset: int, timestamp: int, key: bytes,
                 value: bytes) -> None:
        self._topic, self._partition, self._offset = topic, partition, offset
        self._timestamp, self._key, self._value = timestamp, key, value

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def timestamp(self) -> tuple[int, int]:
        return (1, self._timestamp)

    def key(self) -> bytes:
        return self._key

    def value(self) -> bytes:
        return self._value


class FakeKafka:
    def __init__(self) -> None:
        self.logs: dict[TopicPartition, list[Record]] = {}
        self.committed: dict[tuple[str, TopicPartition], Committed] = {}

    def produce(self, topic: str, lines: list[str]) -> None:
        for p in range(PARTITIONS):
            self.logs.setdefault(TopicPartition(topic, p), [])
        for line in lines:
            key = line.split(",")[1] if "," in line else line
            tp = TopicPartition(topic, sum(key.encode()) % PARTITIONS)
            log = self.logs[tp]
            log.append(Record(topic, tp.partition, len(log), 1_600_000_000_000, key.encode(), line.encode()))


class FakeConsumer:
    """GroupConsumer's interface over FakeKafka: assignment (with the loader's start offsets) on
    the first poll, ``batch`` records per partition per poll."""

    def __init__(self, kafka: FakeKafka, group: str, topics: list[str], on_assigned: Any, on_revoked: Any,
                 max_polls: int | None = None, batch: int = 37) -> None:
        self.kafka, self.group, self.topics = kafka, group, topics
        self.on_assigned, self.on_revoked = on_assigned, on_revoked
        self.parts = [tp for tp in kafka.logs if tp.topic in topics]
        self.positions: dict[TopicPartition, int] = {}
        self.polls = 0
        self.max_polls = max_polls
        self.batch = batch

    def poll(self, max_records: int, timeout: float) -> dict[TopicPartition, list[Record]]:
        if not self.positions:
            committed = {tp: self.kafka.committed.get((self.group, tp), Committed(None, ""))
                         for tp in self.parts}
            starts = self.on_assigned(committed) or {}
            for tp in self.parts:
                start = starts.get(tp, committed[tp].offset)
                self.positions[tp] = 0 if start is None else start
        self.polls += 1
        if self.max_polls is not None and self.polls > self.max_polls:
            raise Killed
        out = {}
        for tp in sorted(self.positions):
            pos = self.positions[tp]
            records = self.kafka.logs[tp][pos:pos + self.batch]
            if records:
                out[tp] = records
                self.positions[tp] = pos + len(records)
        return out

    def assignment(self) -> set[TopicPartition]:
        return set(self.positions)

    def commit(self, offsets: dict[TopicPartition, int],
               metadata: dict[TopicPartition, str] | None = None) -> None:
        for tp, offset in offsets.items():
            self.kafka.committed[(self.group, tp)] = Committed(offset, (metadata or {}).get(tp, ""))

    def end_offsets(self) -> dict[TopicPartition, int]:
        return {tp: len(self.kafka.logs[tp]) for tp in self.parts}

    def lag(self) -> int:
        return sum(len(self.kafka.logs[tp]) - pos for tp, pos in self.positions.items())

    def close(self) -> None:
        pass


class FakeDlq:
    def __init__(self) -> None:
        self.letters: list[tuple[str, str]] = []

    def send(self, record: Record, error: Any) -> None:
        self.letters.append((f"{record.topic()}/{record.partition()}@{record.offset()}", error.reason))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class _Response:
    def raise_for_status(self) -> None:
        pass


class FakeWebHdfs:
    """The few InsecureClient calls HdfsStore makes, over a dict of path -> bytes."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.renames_left: int | None = None

    def status(self, path: str, strict: bool = True) -> Any:
        if path in self.files or any(f.startswith(path.rstrip("/") + "/") for f in self.files):
            return {"path": path}
        return None

    def list(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        return sorted({f[len(prefix):].split("/")[0] for f in self.files if f.startswith(prefix)})

    def write(self, path: str, data: bytes, overwrite: bool = False) -> None:
        self.files[path] = bytes(data)

    def delete(self, path: str) -> bool:
        return self.files.pop(path, None) is not None

    def _rename(self, src: str, destination: str, renameoptions: str) -> _Response:
        if self.renames_left is not None:
            if self.renames_left == 0:
                raise Killed
            self.renames_left -= 1
        self.files[destination] = self.files.pop(src)
        return _Response()

    def lines(self, base: str, date: str) -> list[str]:
        prefix = f"{base}/wrk_date={date}/"
        return [line for path, data in self.files.items()
                if path.startswith(prefix) and not path[len(prefix):].startswith("_")
                for line in data.decode().splitlines()]


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("sim")
    simulate_day(out, DATE, cars=5, seed=3, config=SimulatorConfig(day_seconds=3600, overspeed_share=0.6),
                 only=["status", "drive", "truth"], settings=Settings())  # the loaders' thresholds
    truth = json.loads((out / f"ground_truth_{DATE}.json").read_text())
    assert truth["totals"]["overspeed_windows"], "the simulated day should contain overspeed windows"
    return {
        "status": Path(out / f"SmartCarStatusInfo_{DATE}.txt").read_text().splitlines(),
        "drive": Path(out / f"SmartCarDrivingInfo_{DATE}.txt").read_text().splitlines(),
        "alerts": {f"{c}-{w}" for c, f in truth["cars"].items() for w in f["overspeed_windows"]},
    }


@pytest.fixture()
def settings(tmp_path: Path):
    return load_settings(environ={"PILOT_VAR_DIR": str(tmp_path)}, env_file=tmp_path / "none.env")


BAD = ["SmartCarStatusInfo header", "20200322000000,A0001,1,1,F,N,10,A01", "20200322000000,A0001,x"]


def _stream(day: dict[str, Any]) -> tuple[list[str], list[str]]:
    status = [f"{line},{DATE}" for line in day["status"]]
    drive = list(day["drive"])
    drive[200:200] = drive[160:210]  # a collector replay: the same lines again at new offsets
    drive[300:300] = BAD
    status[10:10] = BAD[:1]
    return status, drive


def _batch(settings, kafka: FakeKafka, hdfs: FakeWebHdfs, roll: int, max_polls: int | None = None,
           dlq: FakeDlq | None = None) -> BatchLoader:
    store = HdfsStore(settings)
    store.client = hdfs  # type: ignore[assignment]
    options = BatchOptions(group="g", bounded=True, roll_records=roll, status_dir="/s", drive_dir="/d",
                           progress_seconds=3600)

    def factory(group: str, topics: list[str], on_assigned: Any, on_revoked: Any) -> FakeConsumer:
        return FakeConsumer(kafka, group, topics, on_assigned, on_revoked, max_polls)

    return BatchLoader(settings, options, store=store, dead_letters=dlq or FakeDlq(),
                       consumer_factory=factory)


def test_batch_loader_writes_every_valid_line_once_and_counts_reconcile(settings, day) -> None:
    status, drive = _stream(day)
    kafka = FakeKafka()
    kafka.produce(settings.topic_status, status)
    kafka.produce(settings.topic_drive, drive)
    hdfs, dlq = FakeWebHdfs(), FakeDlq()
    report = _batch(settings, kafka, hdfs, roll=500, dlq=dlq).run()
    assert report.reconciles()
    assert report.topics[settings.topic_status].consumed == len(status)
    assert report.topics[settings.topic_drive].rejected == len(BAD)
    assert len(dlq.letters) == len(BAD) + 1
    valid_drive = [line for line in drive if line not in BAD]
    assert Counter(hdfs.lines("/d", DATE)) == Counter(valid_drive)  # replayed lines kept as they came
    assert Counter(hdfs.lines("/s", DATE)) == Counter(status[:10] + status[11:])
    assert not [p for p in hdfs.files if "/_" in p]  # no temporary file left
    again = _batch(settings, kafka, hdfs, roll=500).run()  # rerun: everything is committed
    assert sum(c.consumed for c in again.topics.values()) == 0


@pytest.mark.parametrize(("renames", "polls"), [(0, None), (3, None), (7, None), (None, 5), (None, 23)])
def test_batch_loader_crash_then_restart_with_other_roll_points_loses_and_duplicates_nothing(
        settings, day, renames: int | None, polls: int | None) -> None:
    status, drive = _stream(day)
    # a drive stream that crosses midnight, so one block has files in two wrk_date folders
    drive = [line.replace(DATE, "20200321", 1) if i < 400 and line not in BAD else line
             for i, line in enumerate(drive)]
    kafka = FakeKafka()
    kafka.produce(settings.topic_status, status)
    kafka.produce(settings.topic_drive, drive)
    hdfs = FakeWebHdfs()
    hdfs.renames_left = renames
    with pytest.raises(Killed):
        _batch(settings, kafka, hdfs, roll=300, max_polls=polls).run()
    hdfs.renames_left = None
    _batch(settings, kafka, hdfs, roll=170).run()  # different roll points after the crash
    valid = [line for line in drive if line not in BAD]
    got = hdfs.lines("/d", "20200321") + hdfs.lines("/d", DATE)
    assert Counter(got) == Counter(valid)
    assert Counter(hdfs.lines("/s", DATE)) == Counter(status[:10] + status[11:])
    assert not [p for p in hdfs.files if "/_" in p]


class FakeHBase:
    def __init__(self) -> None:
        self.rows: dict[bytes, dict[bytes, bytes]] = {}
        self.fail_after: int | None = None

    def ensure_connected(self) -> None:
        pass

    def send(self, mutations: list[Any]) -> None:
        if self.fail_after is not None:
            if self.fail_after <= 0:
                raise Killed
            self.fail_after -= 1
        for m in mutations:
            self.rows.setdefault(m.row, {}).update({x.column: x.value for x in m.mutations})

    def close(self) -> None:
        pass


class FakeRedis:
    def __init__(self) -> None:
        self.sets: dict[str, set[str]] = {}
        self.closed: dict[tuple[str, str], str] = {}
        self.latest: dict[str, tuple[str, str, str]] = {}

    def load_closed_through(self) -> list[tuple[str, str]]:
        return [(car, start) for (car, _), start in self.closed.items()]

    def write(self, closed: list[Closed], latest: dict[str, tuple[str, str, str]]) -> None:
        for c in closed:
            if c.alert:
                self.sets.setdefault(c.day, set()).add(c.member)
            self.closed[(c.car, c.day)] = c.start
        for car, state in latest.items():
            if car not in self.latest or self.latest[car][2] < state[2]:
                self.latest[car] = state


def _realtime(settings, kafka: FakeKafka, hbase: FakeHBase, redis: FakeRedis,
              max_polls: int | None = None, batch: int = 37,
              make: Callable[..., FakeConsumer] = FakeConsumer, dlq: Any = None) -> RealtimeLoader:
    def factory(group: str, topics: list[str], on_assigned: Any, on_revoked: Any) -> FakeConsumer:
        return make(kafka, group, topics, on_assigned, on_revoked, max_polls, batch)

    return RealtimeLoader(settings, RealtimeOptions(group="rt", bounded=True, progress_seconds=3600),
                          hbase=hbase, redis_sink=redis, dead_letters=dlq or FakeDlq(),
                          consumer_factory=factory)


def test_realtime_loader_rows_alerts_latest_state_and_counts(settings, day) -> None:
    _status, drive = _stream(day)
    kafka = FakeKafka()
    kafka.produce(settings.topic_drive, drive)
    hbase, redis = FakeHBase(), FakeRedis()
    report = _realtime(settings, kafka, hbase, redis).run()
    c = report.counts
    assert c.consumed == len(drive) == c.written + c.rejected and c.rejected == len(BAD)
    distinct = set(day["drive"])
    assert set(hbase.rows) == {row_key(line.split(",")[1], line.split(",")[0]) for line in distinct}
    assert redis.sets.get(DATE, set()) == day["alerts"]
    # the replayed lines: counted once in their window (duplicates) or already closed (late)
    assert report.windows.duplicates + report.windows.late == 50 and report.windows.duplicates > 0
    last = {}
    for line in day["drive"]:
        f = line.split(",")
        last[f[1]] = (f[6], f[7], f[0])
    assert redis.latest == last


@pytest.mark.parametrize(("polls", "batch"), [(3, 37), (11, 37), (40, 5), (2, 400)])
def test_realtime_loader_killed_and_restarted_gives_ground_truth(
        settings, day, polls: int, batch: int) -> None:
    _status, drive = _stream(day)
    kafka = FakeKafka()
    kafka.produce(settings.topic_drive, drive)
    hbase, redis = FakeHBase(), FakeRedis()
    with pytest.raises(Killed):
        _realtime(settings, kafka, hbase, redis, max_polls=polls, batch=batch).run()
    assert redis.sets.get(DATE, set()) < day["alerts"] or not day["alerts"]
    report = _realtime(settings, kafka, hbase, redis, batch=batch).run()
    assert report.counts.reconciles()
    assert redis.sets.get(DATE, set()) == day["alerts"]
    assert len(hbase.rows) == len(set(day["drive"]))


class _Future:
    def __init__(self, error: Exception | None) -> None:
        self.exception = error

    def failed(self) -> bool:
        return self.exception is not None


class FlakyDlqProducer:
    """A dead-letter producer whose sends end in a delivery timeout while ``kafka_away``."""

    def __init__(self, kafka_away: bool) -> None:
        self.kafka_away = kafka_away
        self.acknowledged: list[bytes] = []

    def send(self, topic: str, key: bytes, value: bytes) -> _Future:
        if self.kafka_away:
            return _Future(TimeoutError("delivery timed out"))
        self.acknowledged.append(value)
        return _Future(None)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_unacknowledged_dead_letters_stop_the_loader_before_it_commits_their_offsets(settings, day) -> None:
    from ingest.loaders.dead_letters import DeadLetterSender, DeadLettersLost

    status, drive = _stream(day)
    kafka = FakeKafka()
    kafka.produce(settings.topic_status, status)
    kafka.produce(settings.topic_drive, drive)
    hdfs = FakeWebHdfs()
    lost = DeadLetterSender(settings, "loader:batch", producer=FlakyDlqProducer(kafka_away=True))
    with pytest.raises(DeadLettersLost, match="not committed"):
        _batch(settings, kafka, hdfs, roll=100, dlq=lost).run()  # type: ignore[arg-type]
    bad_offsets = {(tp.topic, tp.partition): [i for i, line in enumerate(kafka.logs[tp]) if line.value() in
                                               {b.encode() for b in BAD}]
                   for tp in kafka.logs}
    for (group, tp), committed in kafka.committed.items():
        first_bad = min(bad_offsets[(tp.topic, tp.partition)], default=None)
        assert first_bad is None or committed.offset is None or committed.offset <= first_bad, (group, tp)

    producer = FlakyDlqProducer(kafka_away=False)
    again = DeadLetterSender(settings, "loader:batch", producer=producer)
    _batch(settings, kafka, hdfs, roll=100, dlq=again).run()  # type: ignore[arg-type]
    assert len(producer.acknowledged) == len(BAD) + 1  # every rejected record reached the DLQ
    valid_drive = [line for line in drive if line not in BAD]
    assert Counter(hdfs.lines("/d", DATE)) == Counter(valid_drive)
    assert Counter(hdfs.lines("/s", DATE)) == Counter(status[:10] + status[11:])


def test_realtime_loader_commits_no_offset_past_an_unacknowledged_dead_letter(settings, day) -> None:
    from ingest.loaders.dead_letters import DeadLetterSender, DeadLettersLost

    _status, drive = _stream(day)
    kafka = FakeKafka()
    kafka.produce(settings.topic_drive, drive)
    hbase, redis = FakeHBase(), FakeRedis()  # the stores survive; the loader restarts
    lost = DeadLetterSender(settings, "loader:realtime", producer=FlakyDlqProducer(kafka_away=True))
    with pytest.raises(DeadLettersLost):
        _realtime(settings, kafka, hbase, redis, dlq=lost).run()
    bad = {b.encode() for b in BAD}
    for (_group, tp), committed in kafka.committed.items():
        first_bad = min((r.offset() for r in kafka.logs[tp] if r.value() in bad), default=None)
        assert first_bad is None or committed.offset is None or committed.offset <= first_bad, tp

    producer = FlakyDlqProducer(kafka_away=False)
    again = DeadLetterSender(settings, "loader:realtime", producer=producer)
    report = _realtime(settings, kafka, hbase, redis, dlq=again).run()
    assert len(producer.acknowledged) == len(BAD)  # every rejected event reached the DLQ
    assert report.counts.rejected == len(BAD)  # read again: their offsets had not been committed
    assert redis.sets.get(DATE, set()) == day["alerts"]
    assert set(hbase.rows) == {row_key(line.split(",")[1], line.split(",")[0]) for line in set(day["drive"])}


class FakeBulkLoad:
    """HBase's bulk load: the rows file's lines become rows when it is called (or it dies)."""

    def __init__(self, hbase: FakeHBase, die: bool = False) -> None:
        self.hbase, self.die, self.calls = hbase, die, 0

    def __call__(self, rows_files: list[Path], qualifiers: Any) -> str:
        self.calls += 1
        if self.die:
            raise Killed
        lines = [line for path in rows_files for line in path.read_text().splitlines()]
        for line in lines:
            key, *values = line.split("\t")
            cells = zip(qualifiers, values, strict=True)
            self.hbase.rows[key.encode()] = {f"cf1:{q}".encode(): v.encode() for q, v in cells}
        return f"bulk-loaded {len(lines)} rows"


def _bulk(settings, kafka: FakeKafka, redis: FakeRedis, load: FakeBulkLoad) -> RealtimeLoader:
    def factory(group: str, topics: list[str], on_assigned: Any, on_revoked: Any) -> FakeConsumer:
        return FakeConsumer(kafka, group, topics, on_assigned, on_revoked, None, 37)

    options = RealtimeOptions(group="rt", bounded=True, progress_seconds=3600, bulk=True)
    return RealtimeLoader(settings, options, redis_sink=redis, dead_letters=FakeDlq(),
                          consumer_factory=factory, bulk_load=load)


def test_bulk_load_replays_the_backlog_once_and_commits_only_after_the_load(settings, day) -> None:
    _status, drive = _stream(day)
    kafka = FakeKafka()
    kafka.produce(settings.topic_drive, drive)
    hbase, redis = FakeHBase(), FakeRedis()
    with pytest.raises(Killed):  # the load fails: nothing may be committed
        _bulk(settings, kafka, redis, FakeBulkLoad(hbase, die=True)).run()
    assert not kafka.committed and not hbase.rows
    load = FakeBulkLoad(hbase)
    report = _bulk(settings, kafka, redis, load).run()
    assert report.counts.reconciles() and load.calls == 1
    distinct = set(day["drive"])
    assert set(hbase.rows) == {row_key(line.split(",")[1], line.split(",")[0]) for line in distinct}
    some = next(iter(distinct)).split(",")
    assert hbase.rows[row_key(some[1], some[0])][b"cf1:speed"] == some[6].encode()
    assert redis.sets.get(DATE, set()) == day["alerts"]
    ends = {tp: len(records) for tp, records in kafka.logs.items()}
    assert {tp: c.offset for (_g, tp), c in kafka.committed.items()} == ends
    again = FakeBulkLoad(hbase)
    assert _bulk(settings, kafka, redis, again).run().counts.consumed == 0 and again.calls == 0


def test_bulk_load_needs_a_bounded_run(settings) -> None:
    with pytest.raises(ValueError, match="bounded"):
        RealtimeLoader(settings, RealtimeOptions(bulk=True), bulk_load=FakeBulkLoad(FakeHBase()))


def test_bulk_rows_file_holds_the_put_rows_key_and_columns(tmp_path: Path) -> None:
    from ingest.loaders.hbase_bulk import BulkRows, bulk_line
    from ingest.records import DRIVE_FIELDS

    fields = ("20200322101530", "A0001", "2", "0", "L1", "L", "88", "A03")
    expected = row_key("A0001", "20200322101530") + b"\t" + "\t".join(fields).encode() + b"\n"
    assert bulk_line(fields) == expected
    seen: list[tuple[dict[str, list[str]], tuple[str, ...]]] = []

    def load(paths: list[Path], qualifiers: Any) -> str:
        seen.append(({p.name: p.read_text().splitlines() for p in paths}, tuple(qualifiers)))
        return "ok"

    rows = BulkRows(load, folder=tmp_path)
    assert rows.finish() is None  # nothing sent, nothing loaded
    other = ("20200322101532", "B0002", "0", "1", "F", "N", "40", "B01")
    rows.send([bulk_line(fields), bulk_line(other), bulk_line(fields)])
    assert rows.finish() == "ok" and seen[0][1] == DRIVE_FIELDS
    by_range: dict[str, list[str]] = {}
    for line in (bulk_line(fields), bulk_line(other), bulk_line(fields)):
        by_range.setdefault(f"range-{line[0]:03d}.tsv", []).append(line.decode().rstrip("\n"))
    assert seen[0][0] == by_range  # one file per salt range (first byte of the key)
    assert list(tmp_path.iterdir()) == []  # the rows files are gone once loaded
    rows.send([bulk_line(fields)])
    rows.close()
    assert list(tmp_path.iterdir()) == [] and rows.rows == 4


def test_a_missing_hbase_table_is_named_at_once_not_waited_for(settings) -> None:
    import happybase  # noqa: F401 - its import generates the Hbase_thrift module
    from Hbase_thrift import IOError as ThriftIOError

    from ingest.loaders.hbase_sink import HBaseSink, MissingTable

    class Client:
        calls = 0

        def mutateRows(self, *args: Any) -> None:
            Client.calls += 1
            raise ThriftIOError(message="org.apache.hadoop.hbase.TableNotFoundException: DriverCarInfo")

    sink = HBaseSink(settings)
    sink.conn = type("Conn", (), {"client": Client(), "close": lambda self: None})()
    with pytest.raises(MissingTable, match="pilot stack bootstrap"):
        sink.send(["a row"])
    assert Client.calls == 1
