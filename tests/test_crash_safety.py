"""Crash safety (DESIGN §3.4): nothing acknowledged is ever lost, whatever moment the crash hits.

The server test kills a real ``plotdesk serve`` process with SIGKILL at random moments while a
client writes to it, restarts it on the same data directory and checks every write that was
answered 200. The unit tests break ``AtomicJSONStorage`` in the middle of a write.

Reproduce a run with ``PLOTDESK_CRASH_SEED=<seed printed by the test>``.
"""

from __future__ import annotations

import inspect
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from tinydb import TinyDB

from desktop_app.runtime import DataDirLock, read_runtime
from desktop_app.store import Store
from desktop_app.store import storage as storage_mod
from desktop_app.store.storage import AtomicJSONStorage

ROUNDS = 25
KILL_DELAY = (0.020, 0.300)  # seconds after the writer starts
MAX_REQUESTS_PER_ROUND = 400  # the writer's loop is bounded in count ...
ROUND_TIME_LIMIT = 5.0  # ... and in time
TEST_TIME_LIMIT = 120.0
JSON = {"Content-Type": "application/json"}


def _seed() -> int:
    raw = os.environ.get("PLOTDESK_CRASH_SEED")
    return int(raw) if raw else random.SystemRandom().randrange(2**32)


def _batch(tag: str, rng: random.Random) -> list[dict[str, Any]]:
    """Three new models with unique ids: a Plot -> GlyphRenderer -> ColumnDataSource chain."""
    plot, renderer, source = f"{tag}-plot", f"{tag}-renderer", f"{tag}-source"
    n = rng.randrange(1, 12)
    return [
        {"type": "ColumnDataSource", "attributes": {
            "id": source, "column_names": ["x", "y"],
            "data": {"x": [rng.random() for _ in range(n)],
                     "y": [rng.randrange(-10**6, 10**6) for _ in range(n)]}}},
        {"type": "GlyphRenderer", "attributes": {
            "id": renderer, "data_source": {"type": "ColumnDataSource", "id": source},
            "name": f"renderer {tag} \u00e9\u2713", "visible": rng.random() < 0.5}},
        {"type": "Plot", "attributes": {
            "id": plot, "title": f"plot {tag}", "width": rng.randrange(200, 900),
            "renderers": [{"type": "GlyphRenderer", "id": renderer}]}},
    ]


class Writer(threading.Thread):
    """Bulkupserts new batches, each also extending the PlotContext's children, until the
    server dies (or the round's count/time bound is reached). Keeps every answered request."""

    def __init__(self, url: str, headers: dict[str, str], docid: str, pc_id: str,
                 children: list[dict[str, str]], round_no: int, rng: random.Random) -> None:
        super().__init__(name=f"writer-{round_no}", daemon=True)
        self.endpoint = f"{url}/bokeh/bb/{docid}/bulkupsert"
        self.headers = {**headers, **JSON}
        self.pc_id = pc_id
        self.children = list(children)
        self.round_no = round_no
        self.rng = rng
        self.acked: list[list[dict[str, Any]]] = []  # request bodies answered 200
        self.inflight: tuple[list[dict[str, Any]], list[dict[str, str]]] | None = None
        self.errors: list[str] = []
        self.started = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + ROUND_TIME_LIMIT
        with requests.Session() as session:
            for seq in range(MAX_REQUESTS_PER_ROUND):
                if time.monotonic() > deadline:
                    break
                models = _batch(f"r{self.round_no}-q{seq}", self.rng)
                children = [*self.children, {"type": "Plot", "id": models[-1]["attributes"]["id"]}]
                body = [*models, {"type": "PlotContext",
                                  "attributes": {"id": self.pc_id, "children": children}}]
                self.inflight = (body, children)
                self.started.set()
                try:
                    resp = session.post(self.endpoint, data=json.dumps(body),
                                        headers=self.headers, timeout=10)
                except requests.RequestException:
                    return  # killed: the in-flight request may or may not have been stored
                if resp.status_code != 200:
                    self.errors.append(f"{resp.status_code}: {resp.text[:300]}")
                    return
                self.acked.append(body)
                self.children = children
                self.inflight = None
        self.started.set()


def _expected_attributes(spec: dict[str, Any], docid: str) -> dict[str, Any]:
    return {**spec["attributes"], "doc": docid}


@pytest.mark.slow
def test_sigkill_during_writes_loses_nothing_acknowledged(
        server_process: Callable[..., Any], data_dir: Path) -> None:
    seed = _seed()
    print(f"\ncrash-safety seed: {seed} (rerun with PLOTDESK_CRASH_SEED={seed})")
    rng = random.Random(seed)
    began = time.monotonic()
    proc = server_process().start()
    created = requests.post(proc.url + "/bokeh/doc/", json={"title": "crash"},
                            headers=proc.headers(), timeout=10)
    assert created.status_code == 200, created.text
    docid = next(d["docid"] for d in created.json()["docs"] if d["title"] == "crash")
    info = requests.get(f"{proc.url}/bokeh/bokehinfo/{docid}/", headers=proc.headers(),
                        timeout=10).json()
    pc_id = info["plot_context_ref"]["id"]
    store_dir = data_dir / "store"
    doc_file = store_dir / "documents" / f"{docid}.json"

    expected: dict[str, dict[str, Any]] = {}  # every model of an answered write, by id
    children: list[dict[str, str]] = []
    stats = {"acked": 0, "killed_in_flight": 0, "in_flight_stored": 0, "stale_tmp_seen": 0}

    for round_no in range(ROUNDS):
        where = f"(seed {seed}, round {round_no})"
        assert time.monotonic() - began < TEST_TIME_LIMIT, f"test too slow {where}"
        writer = Writer(proc.url, proc.headers(), docid, pc_id, children, round_no,
                        random.Random(rng.getrandbits(64)))  # its own stream: reproducible
        writer.start()
        assert writer.started.wait(10), f"writer did not start {where}"
        time.sleep(rng.uniform(*KILL_DELAY))
        dead_pid = proc.proc.pid
        proc.kill()  # SIGKILL: no cleanup handler runs
        writer.join(timeout=15)
        assert not writer.is_alive(), f"writer hung after the kill {where}"
        assert not writer.errors, f"a write was refused {where}: {writer.errors}"

        # What a crashed instance leaves behind must not stop the next one.
        assert (read_runtime(data_dir) or {}).get("pid") == dead_pid, "no stale runtime file"
        with DataDirLock(data_dir):  # the dead process's lock is free
            pass
        stats["stale_tmp_seen"] += len(list(store_dir.rglob("*.tmp")))
        for path in store_dir.rglob("*.json"):  # every TinyDB file parses, even before restart
            json.loads(path.read_bytes())

        proc.start()
        headers = proc.headers()

        for body in writer.acked:
            for spec in body[:-1]:
                expected[spec["attributes"]["id"]] = spec
        stats["acked"] += len(writer.acked)
        acked_children = writer.children

        pulled = requests.get(f"{proc.url}/bokeh/bb/{docid}/", headers=headers, timeout=30)
        assert pulled.status_code == 200, f"{pulled.status_code} {pulled.text[:300]} {where}"
        stored = {spec["id"]: spec for spec in pulled.json()}

        # The request cut by the kill is stored whole or not at all.
        if writer.inflight is not None:
            stats["killed_in_flight"] += 1
            body, inflight_children = writer.inflight
            present = [spec["attributes"]["id"] in stored for spec in body[:-1]]
            assert all(present) or not any(present), f"half a request was stored {where}"
            if all(present):
                stats["in_flight_stored"] += 1
                for spec in body[:-1]:
                    expected[spec["attributes"]["id"]] = spec
                acked_children = inflight_children
        pc_children = stored[pc_id]["attributes"]["children"]
        assert pc_children == acked_children, f"PlotContext children differ {where}"

        missing = sorted(set(expected) - set(stored))
        assert not missing, f"{len(missing)} acknowledged models lost {where}: {missing[:5]}"
        extra = sorted(set(stored) - set(expected) - {pc_id})
        assert not extra, f"models nobody wrote (or half-written requests) {where}: {extra[:5]}"
        for mid, spec in expected.items():
            assert stored[mid]["type"] == spec["type"], f"{mid} type {where}"
            assert stored[mid]["attributes"] == _expected_attributes(spec, docid), (
                f"{mid} attributes differ {where}")

        # Per-id GETs: everything written this round, and a sample of older models.
        this_round = [spec for body in writer.acked for spec in body[:-1]]
        older = [spec for mid, spec in expected.items() if not mid.startswith(f"r{round_no}-")]
        with requests.Session() as session:
            session.headers.update(headers)
            for spec in this_round + rng.sample(older, min(15, len(older))):
                mid = spec["attributes"]["id"]
                got = session.get(f"{proc.url}/bokeh/bb/{docid}/{spec['type']}/{mid}/",
                                  timeout=10)
                assert got.status_code == 200, f"GET {mid}: {got.status_code} {where}"
                assert got.json() == _expected_attributes(spec, docid), f"GET {mid} {where}"

        on_disk = json.loads(doc_file.read_bytes())["models"]
        assert set(on_disk) == set(expected) | {pc_id}, f"document file differs {where}"
        assert not list(store_dir.rglob("*.tmp")), f"stale temp files left {where}"
        children = acked_children

    proc.kill()
    # The store also opens in-process after the last kill, holding the same live models.
    reopened = Store(store_dir)
    assert {spec["id"]: spec for spec in reopened.live_models(docid)} == stored
    elapsed = time.monotonic() - began
    print(f"crash-safety: {ROUNDS} kills, {stats['acked']} acknowledged requests, "
          f"{len(expected)} models, killed mid-request {stats['killed_in_flight']}x "
          f"(stored whole {stats['in_flight_stored']}x), stale temp files seen after kills "
          f"{stats['stale_tmp_seen']}, {elapsed:.1f} s")
    assert stats["acked"] >= ROUNDS, "too few writes were acknowledged to mean anything"
    assert stats["killed_in_flight"] >= ROUNDS // 2, "the kills rarely hit a request"


# -- AtomicJSONStorage unit tests ---------------------------------------------------------------


def _disk(path: Path) -> Any:
    return json.loads(path.read_bytes())


def _tmp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db" / "models.json"


def _open_db(path: Path) -> tuple[TinyDB, AtomicJSONStorage]:
    db = TinyDB(path, storage=AtomicJSONStorage)
    return db, db.storage  # type: ignore[return-value]


class _Crash(Exception):
    pass


def _half_writing_open(real_open: Callable[..., Any]) -> Callable[..., Any]:
    """An ``open`` whose binary writes put half the bytes on disk, then crash."""

    class HalfFile:
        def __init__(self, fh: Any) -> None:
            self.fh = fh

        def write(self, data: bytes) -> int:
            self.fh.write(data[: len(data) // 2])
            self.fh.flush()
            raise _Crash("crash in the middle of the write")

        def __getattr__(self, name: str) -> Any:
            return getattr(self.fh, name)

        def __enter__(self) -> HalfFile:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()

    def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fh = real_open(file, mode, *args, **kwargs)
        return HalfFile(fh) if "w" in mode else fh

    return fake_open


@pytest.mark.parametrize("failure", ["half-written temp file", "fsync", "os.replace"])
def test_crash_during_write_keeps_old_file_and_memory_equal_to_disk(
        db_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    db, storage = _open_db(db_path)
    table = db.table("models")
    table.insert_multiple([{"id": i, "name": f"model {i}"} for i in range(50)])
    before = db_path.read_bytes()

    if failure == "half-written temp file":
        # ``open`` as seen by the module that writes the file (a global shadowing the builtin).
        writer_module = inspect.getmodule(storage_mod.write_atomic)
        monkeypatch.setattr(writer_module, "open", _half_writing_open(open), raising=False)
    else:
        def crash(*args: Any, **kwargs: Any) -> None:
            raise _Crash(f"crash in {failure}")
        monkeypatch.setattr(storage_mod.os, failure.removeprefix("os."), crash)

    with pytest.raises(_Crash):
        table.insert({"id": 999, "name": "never stored"})
    with pytest.raises(_Crash), storage.batch():
        table.update({"name": "changed"})
        table.remove(doc_ids=[1, 2])
    monkeypatch.undo()

    assert db_path.read_bytes() == before, "the old file must be intact"
    assert storage.read() == _disk(db_path), "memory must equal disk after a failed write"
    assert len(table) == 50 and not table.search(lambda d: d["name"] == "never stored")
    assert all(d["name"].startswith("model ") for d in table.all())

    # The next successful write works and leaves no temp file behind.
    table.insert({"id": 1000, "name": "after"})
    assert storage.read() == _disk(db_path)
    assert len(TinyDB(db_path, storage=AtomicJSONStorage).table("models")) == 51
    assert _tmp_files(db_path.parent) == []


def test_unencodable_value_rolls_memory_back(db_path: Path) -> None:
    db, storage = _open_db(db_path)
    table = db.table("models")
    table.insert({"id": 1})
    before = db_path.read_bytes()
    with pytest.raises(ValueError):
        table.insert({"id": 2, "bad": float("nan")})  # JSON has no NaN
    assert db_path.read_bytes() == before
    assert storage.read() == _disk(db_path)
    assert _tmp_files(db_path.parent) == []


def test_batch_is_one_durable_write_and_no_temp_files_accumulate(
        db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db, storage = _open_db(db_path)
    table = db.table("models")
    fsynced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(storage_mod.os, "fsync", lambda fd: (fsynced.append(fd),
                                                             real_fsync(fd))[1])
    with storage.batch():
        for i in range(100):
            table.insert({"id": i})
        table.update({"tag": "x"}, doc_ids=[1, 2, 3])
    # One write: the temp file and (on POSIX) the folder are fsynced once each.
    assert len(fsynced) == (2 if os.name == "posix" else 1)
    for i in range(20):
        table.insert({"id": 100 + i})
    assert storage.read() == _disk(db_path)
    assert len(_disk(db_path)["models"]) == 120
    assert _tmp_files(db_path.parent) == []
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["models.json"]


def test_temp_files_of_dead_processes_are_swept_on_open(db_path: Path) -> None:
    db, _ = _open_db(db_path)
    db.table("models").insert({"id": 1})
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    folder = db_path.parent
    stale = folder / f".{db_path.name}.{dead_pid}.tmp"
    stale.write_bytes(b'{"models": {"1": {"id": 1}, "2": {"id"')  # cut off by the kill
    mine = folder / f".{db_path.name}.{os.getpid()}.tmp"  # a live process's: left alone
    mine.write_bytes(b"{}")
    other = folder / f".other.json.{dead_pid}.tmp"  # another file's: not this storage's
    other.write_bytes(b"{}")
    db2, storage2 = _open_db(db_path)
    assert not stale.exists() and mine.exists() and other.exists()
    assert storage2.read() == _disk(db_path) == {"models": {"1": {"id": 1}}}
