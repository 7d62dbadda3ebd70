"""Concurrent writers (DESIGN §3.4): cheroot is multi-threaded, TinyDB is not; the store's lock
must make every acknowledged write stick, and nothing else change.

Eight client threads hammer ONE document on the real in-process cheroot server with mixed
writes; afterwards the document must hold exactly what the acknowledged writes say, on the wire,
on disk and after reopening the store. A second test drives the ``Store`` API directly.
"""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from desktop_app.errors import Conflict
from desktop_app.store import Store
from desktop_app.store import storage as storage_mod

THREADS = 8
WRITES_PER_THREAD = 200
TIME_LIMIT = 120.0  # seconds for all workers together; every loop is also bounded in count
SEED = 1234
JSON = {"Content-Type": "application/json"}


def _ref(model_type: str, model_id: str) -> dict[str, str]:
    return {"type": model_type, "id": model_id}


class Worker:
    """One client thread. Every model it writes hangs off its own root Plot, which hangs off the
    PlotContext, so no two threads ever write the same model and nothing is ever unreachable
    (hence a concurrent gc must never delete anything)."""

    def __init__(self, index: int, url: str, headers: dict[str, str], docid: str) -> None:
        self.index = index
        self.base = f"{url}/bokeh/bb/{docid}"
        self.headers = headers
        self.rng = random.Random(SEED + index)
        self.root = f"t{index}-root"
        self.children: list[dict[str, str]] = []  # the root's renderers, in order
        self.models: dict[str, dict[str, Any]] = {}  # id -> {"type", "attributes"} expected
        self.writes = 0  # writes answered 200
        self.counts = {"bulkupsert": 0, "patch": 0, "create": 0, "delete": 0, "gc": 0}
        self.failures: list[str] = []
        self.gc_deleted: list[int] = []
        self._next = 0

    def new_id(self) -> str:
        self._next += 1
        return f"t{self.index}-m{self._next}"

    def _write(self, session: requests.Session, method: str, path: str, body: Any) -> Any:
        resp = session.request(method, self.base + path, data=json.dumps(body), headers=JSON,
                               timeout=30)
        if resp.status_code != 200:
            self.failures.append(f"{method} {path}: {resp.status_code} {resp.text[:200]}")
            return None
        self.writes += 1
        return resp.json()

    def _root_spec(self, children: list[dict[str, str]]) -> dict[str, Any]:
        return {"type": "Plot", "attributes": {"id": self.root, "renderers": children}}

    def _patch_root(self, session: requests.Session, children: list[dict[str, str]]) -> bool:
        ok = self._write(session, "PATCH", f"/Plot/{self.root}/", {"renderers": children})
        if ok is not None:
            self.children = children
        return ok is not None

    def bulkupsert(self, session: requests.Session) -> None:
        new = [self.new_id() for _ in range(self.rng.randrange(1, 4))]
        specs = [{"type": "ColumnDataSource", "attributes": {
            "id": mid, "name": f"{mid} v0", "data": {"x": [self.rng.random() for _ in range(4)]},
            "selected": []}} for mid in new]
        if self.models and self.rng.random() < 0.5:  # also rewrite part of an existing one
            mid = self.rng.choice(sorted(self.models))
            specs.append({"type": self.models[mid]["type"],
                          "attributes": {"id": mid, "name": f"{mid} bulk {self.writes}"}})
        children = [*self.children, *(_ref("ColumnDataSource", mid) for mid in new)]
        reply = self._write(session, "POST", "/bulkupsert", [*specs, self._root_spec(children)])
        if reply is None:
            return
        returned = {spec["id"] for spec in reply["modelspecs"]}
        if not {s["attributes"]["id"] for s in specs} <= returned:
            self.failures.append(f"bulkupsert reply lacks models: {sorted(returned)[:5]}")
        self.children = children
        for spec in specs:
            mid = spec["attributes"]["id"]
            attrs = {k: v for k, v in spec["attributes"].items() if k != "id"}
            old = self.models.get(mid, {"type": spec["type"], "attributes": {}})
            self.models[mid] = {"type": old["type"], "attributes": {**old["attributes"], **attrs}}
        self.counts["bulkupsert"] += 1

    def patch(self, session: requests.Session) -> None:
        mid = self.rng.choice(sorted(self.models))
        model_type = self.models[mid]["type"]
        attrs = {"name": f"{mid} patched {self.writes}", "value": self.rng.random(),
                 "tags": [self.index, self.writes]}
        if self._write(session, "PATCH", f"/{model_type}/{mid}/", attrs) is not None:
            self.models[mid]["attributes"].update(attrs)
            self.counts["patch"] += 1

    def create(self, session: requests.Session) -> None:
        # Link first (a reference to a model not yet stored is skipped), then create: the new
        # model is reachable from the moment it exists, so a concurrent gc cannot take it.
        mid = self.new_id()
        if not self._patch_root(session, [*self.children, _ref("GlyphRenderer", mid)]):
            return
        attrs = {"name": f"{mid} created", "visible": True,
                 "data_source": _ref("ColumnDataSource", self.rng.choice(sorted(self.models)))
                 if self.models else None}
        reply = self._write(session, "POST", "/GlyphRenderer/", {"id": mid, **attrs})
        if reply is not None:
            if reply.get("id") != mid:
                self.failures.append(f"POST create replied {reply!r:.200}")
            self.models[mid] = {"type": "GlyphRenderer", "attributes": attrs}
            self.counts["create"] += 1

    def delete(self, session: requests.Session) -> None:
        # Delete, then unlink: never a moment where a stored model of ours is unreachable.
        mid = self.rng.choice(sorted(self.models))
        model_type = self.models[mid]["type"]
        reply = session.delete(f"{self.base}/{model_type}/{mid}/", timeout=30)
        if reply.status_code != 200:
            self.failures.append(f"DELETE {mid}: {reply.status_code} {reply.text[:200]}")
            return
        self.writes += 1
        del self.models[mid]
        self.counts["delete"] += 1
        self._patch_root(session, [c for c in self.children if c["id"] != mid])

    def gc(self, session: requests.Session) -> None:
        reply = self._write(session, "POST", "/gc", None)
        if reply is not None:
            self.gc_deleted.append(reply["deleted"])
            self.counts["gc"] += 1

    def run(self, start: threading.Barrier, deadline: float) -> None:
        ops = [self.bulkupsert] * 3 + [self.patch] * 4 + [self.create] * 2 + [self.delete] * 2
        with requests.Session() as session:
            session.headers.update(self.headers)
            start.wait(timeout=30)
            for _ in range(WRITES_PER_THREAD):  # each round is at least one write
                if self.writes >= WRITES_PER_THREAD or self.failures:
                    break
                if time.monotonic() > deadline:
                    self.failures.append("time limit reached")
                    break
                op = self.rng.choice(ops) if self.models else self.bulkupsert
                if self.rng.random() < 0.02:
                    op = self.gc
                op(session)

    def expected(self, docid: str) -> dict[str, dict[str, Any]]:
        out = {mid: {"type": m["type"], "attributes": {**m["attributes"], "id": mid, "doc": docid}}
               for mid, m in self.models.items()}
        out[self.root] = {"type": "Plot", "attributes": {
            "id": self.root, "doc": docid, "renderers": self.children}}
        return out


def test_eight_threads_of_mixed_writes_on_one_document(server: Any, data_dir: Path) -> None:
    with server.session() as admin:
        created = admin.post(server.url + "/bokeh/doc/", json={"title": "concurrency"},
                             timeout=10)
        assert created.status_code == 200, created.text
        docid = next(d["docid"] for d in created.json()["docs"] if d["title"] == "concurrency")
        pc_id = admin.get(f"{server.url}/bokeh/bokehinfo/{docid}/",
                          timeout=10).json()["plot_context_ref"]["id"]
        workers = [Worker(i, server.url, server.headers(), docid) for i in range(THREADS)]
        roots = [_ref("Plot", w.root) for w in workers]
        setup = [w._root_spec([]) for w in workers]
        setup.append({"type": "PlotContext", "attributes": {"id": pc_id, "children": roots}})
        assert admin.post(f"{server.url}/bokeh/bb/{docid}/bulkupsert", json=setup,
                          timeout=10).status_code == 200

    start = threading.Barrier(THREADS)
    began = time.monotonic()
    threads = [threading.Thread(target=w.run, args=(start, began + TIME_LIMIT), daemon=True)
               for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIME_LIMIT + 30)
    elapsed = time.monotonic() - began
    assert not any(t.is_alive() for t in threads), "a worker hung"
    failures = [f for w in workers for f in w.failures]
    assert not failures, failures[:10]
    assert all(w.writes >= WRITES_PER_THREAD for w in workers)
    totals = {op: sum(w.counts[op] for w in workers) for op in workers[0].counts}
    print(f"\n{sum(w.writes for w in workers)} writes answered 200 in {elapsed:.1f} s: {totals}")
    assert all(totals[op] > 0 for op in ("bulkupsert", "patch", "create", "delete"))
    # Every model is always reachable, so no gc may ever have found anything to delete.
    assert [d for w in workers for d in w.gc_deleted if d] == []

    expected: dict[str, dict[str, Any]] = {}
    for w in workers:
        expected.update(w.expected(docid))
    expected[pc_id] = {"type": "PlotContext",
                       "attributes": {"id": pc_id, "doc": docid, "children": roots}}

    # On the wire: exactly the acknowledged state, nothing lost, nothing extra, nothing stale.
    with server.session() as reader:
        pulled = reader.get(f"{server.url}/bokeh/bb/{docid}/", timeout=30)
        assert pulled.status_code == 200
        served = pulled.json()
        stored = {spec["id"]: spec for spec in served}
        assert len(stored) == len(served), "a model is listed twice"
        assert sorted(stored) == sorted(expected)
        for mid, want in expected.items():
            assert stored[mid]["type"] == want["type"], mid
            assert stored[mid]["attributes"] == want["attributes"], mid
        for mid in random.Random(SEED).sample(sorted(expected), 40):
            want = expected[mid]
            one = reader.get(f"{server.url}/bokeh/bb/{docid}/{want['type']}/{mid}/", timeout=10)
            assert one.status_code == 200 and one.json() == want["attributes"], mid

    # On disk: the document file parses and holds the same records.
    on_disk = json.loads((data_dir / "store" / "documents" / f"{docid}.json").read_bytes())
    assert sorted(on_disk["models"]) == sorted(expected)
    for mid, record in on_disk["models"].items():
        want = expected[mid]["attributes"]
        assert record["attributes"] == {k: v for k, v in want.items() if k not in ("id", "doc")}
    json.loads((data_dir / "store" / "plotdesk.json").read_bytes())

    # After a restart: a new Store on the same folder reads the same state, in the same order.
    server.handle.stop()
    reopened = Store(data_dir / "store")
    assert reopened.live_models(docid) == served
    assert reopened.gc(docid) == 0


def test_store_lock_serialises_threads_using_the_store_api(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(data_dir / "store")
    store.ensure_user("u")
    doc = store.create_doc("u", "shared")
    docid, pc_id = doc["docid"], doc["plot_context_ref"]["id"]

    # Detect any two durable writes running at once (each is widened by a short sleep).
    guard = threading.Lock()
    active = {"now": 0, "max": 0, "writes": 0}
    real_write = storage_mod.write_atomic

    def watched_write(path: Path, data: bytes) -> None:
        with guard:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
            active["writes"] += 1
        try:
            time.sleep(0.0005)
            real_write(path, data)
        finally:
            with guard:
                active["now"] -= 1

    monkeypatch.setattr(storage_mod, "write_atomic", watched_write)

    n_threads, rounds = 12, 40
    start = threading.Barrier(n_threads)

    def work(index: int) -> dict[str, Any]:
        rng = random.Random(SEED + index)
        mine: dict[str, dict[str, Any]] = {}
        conflicts = 0
        start.wait(timeout=30)
        for step in range(rounds):
            mid = f"s{index}-{step}"
            specs = [{"type": "Range1d", "id": mid, "attributes": {"start": step, "end": index}}]
            store.upsert_models(docid, specs)
            mine[mid] = specs[0]["attributes"]
            victim = rng.choice(sorted(mine))
            if step % 5 == 4:
                store.delete_model(docid, victim)
                del mine[victim]
            else:
                patch = [{"type": "Range1d", "id": victim, "attributes": {"end": -step}}]
                store.upsert_models(docid, patch, update_only=True)
                mine[victim] = {**mine[victim], "end": -step}
            # Readers run while the other threads write.
            if mine:
                some = rng.choice(sorted(mine))
                assert store.get_model(docid, some, live_only=False)["attributes"]["start"] \
                    == mine[some]["start"]
            store.live_models(docid)
            store.count_models(docid)
            if step % 10 == 0:  # documents and users: the metadata file, same lock
                store.create_doc("u", f"t{index}-{step}")
                try:
                    store.create_doc("u", f"race-{step}")
                except Conflict:
                    conflicts += 1
        return {"mine": mine, "conflicts": conflicts}

    with ThreadPoolExecutor(n_threads) as pool:
        results = list(pool.map(work, range(n_threads), timeout=120))
    monkeypatch.undo()

    assert active["max"] == 1, f"{active['max']} durable writes overlapped"
    expected = {mid: attrs for r in results for mid, attrs in r["mine"].items()}
    records = {mid: rec["attributes"] for mid, rec in _records(store, docid).items()
               if mid != pc_id}
    assert records == expected
    # Each contested title was created exactly once; every other attempt was a Conflict.
    race_titles = {f"race-{step}" for step in range(0, rounds, 10)}
    assert sum(r["conflicts"] for r in results) == len(race_titles) * (n_threads - 1)
    titles = [d["title"] for d in store.docs_of("u")]
    assert sorted(t for t in titles if t.startswith("race-")) == sorted(race_titles)
    assert len(titles) == 1 + len(race_titles) + n_threads * len(race_titles)

    reopened = Store(data_dir / "store")
    assert {mid: rec["attributes"] for mid, rec in _records(reopened, docid).items()
            if mid != pc_id} == expected
    assert reopened.docs_of("u") == store.docs_of("u")
    assert active["writes"] >= n_threads * rounds * 2


def _records(store: Store, docid: str) -> dict[str, dict[str, Any]]:
    """Every stored model of a document (live or not), straight from its file on disk."""
    path = store.documents_dir / f"{docid}.json"
    return json.loads(path.read_bytes())["models"]

