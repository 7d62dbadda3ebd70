"""Unit tests of the store (users, documents, models) and of the document helpers it relies on."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from desktop_app.document.graph import reachable
from desktop_app.document.specs import (
    is_valid_id,
    iter_refs,
    normalize_attributes,
    normalize_specs,
)
from desktop_app.errors import BadRequest, Conflict, NotFound
from desktop_app.store import Store


def spec(model_type: str, model_id: str, **attributes: Any) -> dict[str, Any]:
    """A normalised spec, as the routes hand them to the store."""
    return {"type": model_type, "id": model_id, "attributes": attributes}


def ref(model_id: str) -> dict[str, str]:
    return {"id": model_id}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> Store:
    s = Store(root)
    s.ensure_user("ann")
    s.ensure_user("bob")
    return s


@pytest.fixture
def doc(store: Store) -> dict[str, Any]:
    """A document of ann's: its record, plus ``pc`` (the PlotContext id)."""
    record = store.create_doc("ann", "plots")
    return {**record, "pc": record["plot_context_ref"]["id"]}


def ids(specs: list[dict[str, Any]]) -> list[str]:
    return [s["id"] for s in specs]


def attrs(store: Store, docid: str, model_id: str, **kw: Any) -> dict[str, Any]:
    """Stored attributes without the ``id``/``doc`` the wire form adds."""
    found = store.get_model(docid, model_id, **kw)["attributes"]
    return {k: v for k, v in found.items() if k not in ("id", "doc")}


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


# -- users -----------------------------------------------------------------------------------------

def test_create_user_twice_is_a_conflict(store: Store) -> None:
    with pytest.raises(Conflict, match="cat"):
        store.create_user("cat", "hash")
        store.create_user("cat", "hash")


def test_ensure_user_keeps_the_first_key(store: Store) -> None:
    first = store.ensure_user("ann")["apikey"]
    assert store.ensure_user("ann")["apikey"] == first
    assert store.get_user("nobody") is None


def test_returned_records_are_copies(store: Store, doc: dict[str, Any]) -> None:
    store.get_user("ann")["docs"].clear()
    store.get_doc(doc["docid"])["rw_users"].append("mallory")
    assert store.docs_of("ann") == [{"docid": doc["docid"], "title": "plots"}]
    assert store.get_doc(doc["docid"])["rw_users"] == ["ann"]


# -- documents -------------------------------------------------------------------------------------

def test_create_doc_makes_record_plotcontext_and_file(store: Store, root: Path,
                                                      doc: dict[str, Any]) -> None:
    docid, pc = doc["docid"], doc["pc"]
    assert doc["title"] == "plots" and doc["owner"] == "ann"
    assert doc["rw_users"] == ["ann"] and doc["r_users"] == [] and doc["published"] is False
    assert doc["plot_context_ref"] == {"type": "PlotContext", "id": pc}
    assert len({doc["apikey"], doc["readonlyapikey"], docid, pc}) == 4
    assert store.docs_of("ann") == [{"docid": docid, "title": "plots"}]
    assert store.live_models(docid) == [{"type": "PlotContext", "id": pc, "attributes": {
        "id": pc, "doc": docid, "children": []}}]
    assert (root / "documents" / f"{docid}.json").is_file()


def test_duplicate_title_is_a_conflict_for_the_same_user_only(store: Store,
                                                              doc: dict[str, Any]) -> None:
    before = files(store.root)
    with pytest.raises(Conflict, match="plots"):
        store.create_doc("ann", "plots")
    assert files(store.root) == before  # nothing written, no orphan document file
    assert store.create_doc("bob", "plots")["title"] == "plots"
    assert store.create_doc("ann", "plots 2")["title"] == "plots 2"
    assert [d["title"] for d in store.docs_of("ann")] == ["plots", "plots 2"]


def test_create_doc_for_unknown_user_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.create_doc("nobody", "t")


def test_update_doc_changes_fields(store: Store, doc: dict[str, Any]) -> None:
    updated = store.update_doc(doc["docid"], published=True, r_users=["bob"])
    assert updated["published"] is True and updated["r_users"] == ["bob"]
    with pytest.raises(NotFound):
        store.update_doc("nope", published=True)


def test_delete_doc_removes_record_models_file_and_every_list_entry(
        store: Store, root: Path, doc: dict[str, Any]) -> None:
    docid = doc["docid"]
    store.upsert_models(docid, [spec("PlotContext", doc["pc"], children=[ref("p")]),
                                spec("Plot", "p")])
    # bob holds it too (as the classic "docs" list entry of a shared document)
    store._users.update({"docs": [{"docid": docid, "title": "plots"}]}, doc_ids=["bob"])
    other = store.create_doc("ann", "other")
    assert store.delete_doc(docid)["docid"] == docid
    assert not (root / "documents" / f"{docid}.json").exists()
    assert store.get_doc(docid) is None
    assert store.docs_of("ann") == [{"docid": other["docid"], "title": "other"}]
    assert store.docs_of("bob") == []
    for call in (lambda: store.require_doc(docid), lambda: store.live_models(docid),
                 lambda: store.delete_doc(docid)):
        with pytest.raises(NotFound):
            call()
    assert store.create_doc("ann", "plots")["docid"] != docid  # the title is free again
    assert Store(root).get_doc(docid) is None


# -- models: merging and the PlotContext -----------------------------------------------------------

def test_upsert_merges_attributes(store: Store, doc: dict[str, Any]) -> None:
    docid = doc["docid"]
    store.upsert_models(docid, [spec("PlotContext", doc["pc"], children=[ref("p")])])
    saved = store.upsert_models(docid, [spec("Plot", "p", a=1, b=2, nested={"x": 1, "y": 2})])
    assert saved == [{"type": "Plot", "id": "p",
                      "attributes": {"id": "p", "doc": docid, "a": 1, "b": 2,
                                     "nested": {"x": 1, "y": 2}}}]
    store.upsert_models(docid, [spec("Plot", "p", b=3, c=4, nested={"z": 3})])
    # given keys overwrite (whole values, no deep merge), the others stay
    assert attrs(store, docid, "p") == {"a": 1, "b": 3, "c": 4, "nested": {"z": 3}}


def test_the_same_id_twice_in_one_call_merges_in_order(store: Store,
                                                       doc: dict[str, Any]) -> None:
    saved = store.upsert_models(doc["docid"], [spec("Plot", "p", a=1, b=1),
                                               spec("Plot", "p", b=2)])
    assert len(saved) == 1 and saved[0]["attributes"]["a"] == 1
    assert saved[0]["attributes"]["b"] == 2


def test_subtype_is_kept_when_a_later_spec_omits_it(store: Store, doc: dict[str, Any]) -> None:
    docid = doc["docid"]
    store.upsert_models(docid, [spec("PlotContext", doc["pc"], children=[ref("w")]),
                                {**spec("Model", "w", v=1), "subtype": "MyWidget"}])
    store.upsert_models(docid, [spec("Model", "w", v=2)])
    found = store.get_model(docid, "w", typename="MyWidget")
    assert found["subtype"] == "MyWidget" and found["attributes"]["v"] == 2
    assert ids(store.live_models(docid, "MyWidget")) == ["w"]
    assert ids(store.live_models(docid, "Model")) == ["w"]


@pytest.mark.parametrize("bad", [
    pytest.param(lambda pc: spec("PlotContext", "another-pc"), id="second-plotcontext"),
    pytest.param(lambda pc: spec("Plot", pc), id="plotcontext-id-other-type"),
])
def test_plotcontext_rules_refuse_the_whole_call(store: Store, doc: dict[str, Any],
                                                 bad: Callable[[str], dict]) -> None:
    docid = doc["docid"]
    before_files, before_models = files(store.root), store.live_models(docid)
    with pytest.raises(BadRequest, match="PlotContext"):
        store.upsert_models(docid, [spec("Plot", "p", title="not stored either"),
                                    bad(doc["pc"])])
    assert files(store.root) == before_files
    assert store.live_models(docid) == before_models
    with pytest.raises(NotFound):
        store.get_model(docid, "p", live_only=False)


def test_the_plotcontext_cannot_be_deleted(store: Store, doc: dict[str, Any]) -> None:
    with pytest.raises(BadRequest, match="root"):
        store.delete_model(doc["docid"], doc["pc"])
    assert ids(store.live_models(doc["docid"])) == [doc["pc"]]


def test_create_only_and_update_only(store: Store, doc: dict[str, Any]) -> None:
    docid = doc["docid"]
    store.upsert_models(docid, [spec("Plot", "p")], create_only=True)
    with pytest.raises(Conflict, match="'p'"):
        store.upsert_models(docid, [spec("Plot", "p")], create_only=True)
    with pytest.raises(NotFound, match="'q'"):
        store.upsert_models(docid, [spec("Plot", "q")], update_only=True)
    store.upsert_models(docid, [spec("Plot", "p", v=1)], update_only=True)
    assert attrs(store, docid, "p", live_only=False) == {"v": 1}


# -- models: what is live, closures, gc, delete ----------------------------------------------------

@pytest.fixture
def graph(store: Store, doc: dict[str, Any]) -> dict[str, Any]:
    """PlotContext → plot → (x range, renderer → source); plus an orphan and a cycle."""
    docid, pc = doc["docid"], doc["pc"]
    store.upsert_models(docid, [
        spec("PlotContext", pc, children=[ref("plot")]),
        spec("Plot", "plot", x_range={"type": "Range1d", "id": "xr"},
             renderers=[ref("rend")], tags=[{"not": "a ref"}]),
        spec("Range1d", "xr", start=0, end=1),
        spec("GlyphRenderer", "rend", data_source={"id": "src"}, plot=ref("plot")),
        spec("ColumnDataSource", "src", data={"x": [1, 2]}, selected=ref("missing")),
        spec("Plot", "orphan", x_range=ref("orphan-range")),
        spec("Range1d", "orphan-range"),
    ])
    return {"docid": docid, "pc": pc}


LIVE = ["plot", "xr", "rend", "src"]


def test_live_models_are_what_the_plotcontext_reaches(store: Store,
                                                      graph: dict[str, Any]) -> None:
    docid = graph["docid"]
    assert ids(store.live_models(docid)) == [graph["pc"], *LIVE]  # storage order
    assert ids(store.live_models(docid, "Range1d")) == ["xr"]
    assert store.live_models(docid, "Legend") == []
    assert store.count_models(docid) == 5
    with pytest.raises(NotFound):
        store.get_model(docid, "orphan")
    assert store.get_model(docid, "orphan", live_only=False)["type"] == "Plot"
    with pytest.raises(NotFound):
        store.get_model(docid, "xr", typename="Plot")
    assert store.roots_of(docid) == ["plot"]


def test_linking_later_makes_a_stored_model_live(store: Store, graph: dict[str, Any]) -> None:
    """spec §16.5: the original 500ed; a later bulkupsert may just reference the model."""
    docid = graph["docid"]
    store.upsert_models(docid, [spec("PlotContext", graph["pc"],
                                     children=[ref("plot"), ref("orphan")])])
    assert {"orphan", "orphan-range"} <= set(ids(store.live_models(docid)))
    store.upsert_models(docid, [spec("PlotContext", graph["pc"], children=[])])
    assert ids(store.live_models(docid)) == [graph["pc"]]


def test_closure_is_the_model_and_everything_it_references(store: Store,
                                                           graph: dict[str, Any]) -> None:
    docid = graph["docid"]
    assert ids(store.closure(docid, "rend")) == ["plot", "xr", "rend", "src"]  # via the cycle
    assert ids(store.closure(docid, "src")) == ["src"]
    assert ids(store.closure(docid, graph["pc"])) == [graph["pc"], *LIVE]
    for unreachable in ("orphan", "missing"):
        with pytest.raises(NotFound):
            store.closure(docid, unreachable)


def test_gc_deletes_exactly_the_unreachable(store: Store, root: Path,
                                            graph: dict[str, Any]) -> None:
    docid = graph["docid"]
    live_before = store.live_models(docid)
    assert store.gc(docid) == 2
    assert store.live_models(docid) == live_before
    for gone in ("orphan", "orphan-range"):
        with pytest.raises(NotFound):
            store.get_model(docid, gone, live_only=False)
    on_disk = json.loads((root / "documents" / f"{docid}.json").read_text())["models"]
    assert set(on_disk) == {graph["pc"], *LIVE}
    before = files(root)
    assert store.gc(docid) == 0
    assert files(root) == before  # nothing to do, nothing written


def test_delete_model(store: Store, graph: dict[str, Any]) -> None:
    docid = graph["docid"]
    deleted = store.delete_model(docid, "xr", typename="Range1d")
    assert deleted["type"] == "Range1d" and deleted["attributes"]["end"] == 1
    assert "xr" not in ids(store.live_models(docid))
    assert attrs(store, docid, "plot")["x_range"] == {"type": "Range1d", "id": "xr"}
    with pytest.raises(NotFound):
        store.delete_model(docid, "xr")
    with pytest.raises(NotFound):
        store.delete_model(docid, "rend", typename="Plot")
    assert store.delete_model(docid, "orphan")["id"] == "orphan"  # unreachable ones too


def test_restart_reads_the_same_state(store: Store, root: Path, graph: dict[str, Any]) -> None:
    docid = graph["docid"]
    store.update_doc(docid, published=True)
    second = store.create_doc("bob", "bob's")
    state = (store.get_user("ann"), store.get_user("bob"), store.get_doc(docid),
             store.get_doc(second["docid"]), store.live_models(docid),
             store.get_model(docid, "orphan", live_only=False), store.closure(docid, "rend"))
    store.close()
    again = Store(root)
    assert (again.get_user("ann"), again.get_user("bob"), again.get_doc(docid),
            again.get_doc(second["docid"]), again.live_models(docid),
            again.get_model(docid, "orphan", live_only=False),
            again.closure(docid, "rend")) == state
    assert again.gc(docid) == 2  # the reference index was rebuilt from the file


def test_a_failed_write_leaves_memory_as_on_disk(store: Store, root: Path,
                                                 graph: dict[str, Any]) -> None:
    """Values JSON cannot hold fail the write; memory must not keep them (nor a later write)."""
    docid = graph["docid"]
    before_files, before_models = files(root), store.live_models(docid)
    for poison in (float("inf"), float("nan"), "\ud800"):
        with pytest.raises(ValueError):
            store.upsert_models(docid, [spec("Plot", "plot", title=poison)])
        assert files(root) == before_files
        assert store.live_models(docid) == before_models
    with pytest.raises(ValueError):
        store.create_doc("ann", "\udc00")
    assert store.docs_of("ann") == [{"docid": docid, "title": "plots"}]
    store.upsert_models(docid, [spec("Plot", "plot", title="fine")])
    assert attrs(store, docid, "plot")["title"] == "fine"
    assert store.create_doc("ann", "after")["title"] == "after"
    assert Store(root).get_model(docid, "plot")["attributes"]["title"] == "fine"


def test_writes_leave_no_temporary_files(store: Store, root: Path,
                                         graph: dict[str, Any]) -> None:
    store.gc(graph["docid"])
    store.delete_doc(store.create_doc("bob", "x")["docid"])
    assert [p.name for p in root.rglob("*") if p.name.endswith(".tmp")] == []


# -- specs: normalisation --------------------------------------------------------------------------

def test_normalize_classic_specs_strips_id_and_doc() -> None:
    payload = [{"type": "Plot", "attributes": {"id": "p", "doc": "d", "title": "t"}},
               {"type": "Range1d", "id": "r", "attributes": {"start": 0}},
               {"type": "Model", "subtype": "Custom", "attributes": {"id": "c"}}]
    assert normalize_specs(payload) == [
        {"type": "Plot", "id": "p", "attributes": {"title": "t"}},
        {"type": "Range1d", "id": "r", "attributes": {"start": 0}},
        {"type": "Model", "id": "c", "attributes": {}, "subtype": "Custom"},
    ]


def test_normalize_flattens_bokeh3_object_reps_into_references() -> None:
    ndarray = {"type": "ndarray", "array": {"type": "bytes", "data": "AAAA"},
               "shape": [1], "dtype": "float32", "order": "little"}
    payload = [{"type": "object", "name": "Plot", "id": "p", "attributes": {
        "x_range": {"type": "object", "name": "Range1d", "id": "r", "attributes": {"end": 2}},
        "renderers": [{"type": "object", "name": "GlyphRenderer", "id": "g", "attributes": {
            "data_source": {"type": "object", "name": "ColumnDataSource", "id": "s",
                            "attributes": {"data": {"type": "map", "entries": [["y", ndarray]]}}},
        }}],
        "y_range": {"id": "r"},
    }}]
    out = {s["id"]: s for s in normalize_specs(payload)}
    assert set(out) == {"p", "r", "g", "s"}
    assert out["p"]["attributes"] == {"x_range": {"id": "r"}, "renderers": [{"id": "g"}],
                                      "y_range": {"id": "r"}}
    assert out["g"] == {"type": "GlyphRenderer", "id": "g",
                        "attributes": {"data_source": {"id": "s"}}}
    assert out["s"]["attributes"]["data"]["entries"][0][1] == ndarray  # kept as sent
    assert out["r"]["attributes"] == {"end": 2}


@pytest.mark.parametrize("payload, fragment", [
    ({"type": "Plot", "attributes": {"id": "p"}}, "array"),
    ([None], "#0"),
    ([{"type": "Plot"}], "attributes"),
    ([{"type": "Plot", "attributes": {}}], "id"),
    ([{"type": "Plot", "attributes": {"id": ".."}}], "id"),
    ([{"type": "Plot", "attributes": {"id": "a/b"}}], "id"),
    ([{"type": "Plot", "attributes": {"id": "x" * 201}}], "id"),
    ([{"type": "", "attributes": {"id": "p"}}], "type"),
    ([{"type": "Plot", "id": "a", "attributes": {"id": "b"}}], "differ"),
    ([{"type": "Plot", "subtype": 1, "attributes": {"id": "p"}}], "subtype"),
    ([{"type": "object", "name": "Plot", "id": "p", "attributes": {
        "r": {"type": "object", "name": "Range1d", "id": "."}}}], "id"),
])
def test_normalize_refuses_bad_specs(payload: object, fragment: str) -> None:
    with pytest.raises(BadRequest, match=None) as raised:
        normalize_specs(payload)
    assert fragment.lower() in raised.value.message.lower()


def test_normalize_attributes() -> None:
    assert normalize_attributes("Plot", "p", {"title": "t", "noop": True, "id": "p"}) == [
        {"type": "Plot", "id": "p", "attributes": {"title": "t"}}]
    with pytest.raises(BadRequest, match="differs"):
        normalize_attributes("Plot", "p", {"id": "q"})
    with pytest.raises(BadRequest, match="object"):
        normalize_attributes("Plot", "p", ["title"])


@pytest.mark.parametrize("value, valid", [
    ("p1", True), ("x" * 200, True), ("ünïcode", True), ("a.b-c_d", True), ("...", True),
    (".", False), ("..", False), ("", False), ("x" * 201, False), ("a/b", False),
    ("a\\b", False), ("a\x00b", False), ("a\x7fb", False), ("a\nb", False), ("a?b", False),
    ("a#b", False), ("a%2Fb", False), (5, False), (None, False), (["p1"], False),
])
def test_is_valid_id(value: object, valid: bool) -> None:
    assert is_valid_id(value) is valid


# -- references and reachability -------------------------------------------------------------------

def test_iter_refs_finds_both_reference_forms_at_any_depth() -> None:
    value = {
        "a": {"id": "r1"},
        "b": [{"type": "Range1d", "id": "r2"}, [{"id": "r3", "subtype": "X"}]],
        "c": {"deep": {"deeper": [{"id": "r4"}]}},
        "not_refs": [{"id": 5}, {"id": "x", "name": "extra key"},
                     {"type": "object", "name": "Plot", "id": "rep"}, "r5", {"idx": "r6"}],
        "opaque": {"type": "ndarray", "array": {"id": "inside-ndarray"}},
    }
    assert sorted(iter_refs(value)) == ["r1", "r2", "r3", "r4"]


def test_iter_refs_is_iterative() -> None:
    value: Any = {"id": "bottom"}
    for _ in range(100_000):
        value = [{"child": value}]
    assert list(iter_refs(value)) == ["bottom"]


def test_reachable() -> None:
    graph = {"a": ["b", "c"], "b": ["a", "missing"], "c": ["d"], "d": [], "e": ["a"]}
    assert reachable(["a"], graph.get) == {"a", "b", "c", "d"}  # cycles, unknown ids skipped
    assert reachable(["d", "e"], graph.get) == {"a", "b", "c", "d", "e"}
    assert reachable(["missing"], graph.get) == set()
    assert reachable([], graph.get) == set()


def test_reachable_is_iterative() -> None:
    chain = {str(i): [str(i + 1)] for i in range(100_000)}
    assert len(reachable(["0"], chain.get)) == 100_000
