"""The classic client's call sequence against the real server on a port (spec §6, §7, §11.1, §16).

Every request is shaped like bokeh 0.10's ``Session`` sends it (see ``tests/classic_session.py``).
The real classic client is exercised by ``tests/manual/classic_client_check.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.classic_session import (
    ClassicSession,
    as_stored,
    by_id,
    model,
    ok_json,
    plot_graph,
    ref,
)

UNKNOWN = "0123456789abcdef0123456789abcdef"
JSON = {"content-type": "application/json"}


def _error(response: requests.Response, status: int) -> dict[str, Any]:
    """Assert the one JSON error shape with ``status``."""
    assert response.status_code == status, (
        f"{response.request.method} {response.url} → {response.status_code}: {response.text}")
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status_code"] == status and body["message"], body
    return body


@pytest.fixture
def doc(classic: ClassicSession) -> dict[str, Any]:
    """A fresh document in use by ``classic``: its docid and PlotContext id."""
    classic.use_doc("test doc")
    pulled = ok_json(classic.pull())
    assert [m["type"] for m in pulled] == ["PlotContext"]
    return {"docid": classic.docid, "pc": pulled[0]["id"]}


def _pushed(classic: ClassicSession, doc: dict[str, Any], **kw: Any) -> dict[str, dict]:
    graph = plot_graph(doc["pc"], **kw)
    ok_json(classic.push(*graph.values()))
    return graph


# -- the whole flow ------------------------------------------------------------------------------


def test_multi_user_classic_flow(make_server):
    srv = make_server(multi_user=True)
    s = ClassicSession(srv.url)  # classic defaults: defaultuser / nokey
    assert ok_json(s.register("alice", "correct horse 1")) == {
        "status": True, "userapikey": srv.ctx.store.get_user("alice")["apikey"]}
    assert s.username == "alice"

    fresh = ClassicSession(srv.url)
    login = ok_json(fresh.login("alice", "correct horse 1"))
    assert login == {"status": True, "userapikey": s.userapikey}
    s = fresh

    assert ok_json(s.userinfo()) == {"username": "alice", "docs": []}
    made = ok_json(s.make_doc("plots"))
    assert made["username"] == "alice" and [d["title"] for d in made["docs"]] == ["plots"]
    docid = made["docs"][0]["docid"]

    assert s.use_doc("plots") == docid
    stored_doc = srv.ctx.store.get_doc(docid)
    assert s.apikey == stored_doc["apikey"]  # the owner gets the read-write key

    assert ok_json(s.gc())["status"] == "success"
    pulled = ok_json(s.pull())
    pc_id = stored_doc["plot_context_ref"]["id"]
    assert pulled == [{"type": "PlotContext", "id": pc_id,
                       "attributes": {"id": pc_id, "doc": docid, "children": []}}]

    graph = plot_graph(pc_id)
    pushed = ok_json(s.push(*graph.values()))
    assert pushed["msgtype"] == "modelpush"
    expected = {spec["id"]: as_stored(spec, docid) for spec in graph.values()}
    assert by_id(pushed["modelspecs"]) == expected

    pulled = ok_json(s.pull())
    assert len(pulled) == len(expected) and by_id(pulled) == expected

    plot = graph["plot"]
    assert ok_json(s.patch("Plot", plot["id"], {"title": "patched", "noop": True})) == {
        "noop": True}
    after = by_id(ok_json(s.pull()))
    assert after[plot["id"]]["attributes"] == {
        **expected[plot["id"]]["attributes"], "title": "patched"}
    assert {k: v for k, v in after.items() if k != plot["id"]} == {
        k: v for k, v in expected.items() if k != plot["id"]}
    one = ok_json(s.pull("Plot", plot["id"]))
    assert one["title"] == "patched" and one["id"] == plot["id"] and one["doc"] == docid

    private_id = ok_json(s.make_doc("private"))["docs"][1]["docid"]
    assert ok_json(s.publish()) == {"status": "success"}
    assert srv.ctx.store.get_doc(docid)["published"] is True

    with requests.Session() as anon:
        info = ok_json(anon.get(f"{srv.url}/bokeh/bokehinfo/{docid}/", timeout=10))
        assert info["docid"] == docid and info["plot_context_ref"] == {
            "type": "PlotContext", "id": pc_id}
        assert by_id(info["all_models"]) == after
        assert info["apikey"] == stored_doc["readonlyapikey"]
        assert by_id(ok_json(anon.get(f"{srv.url}/bokeh/bb/{docid}/", timeout=10))) == after
        assert ok_json(anon.get(f"{srv.url}/bokeh/getdocapikey/{docid}", timeout=10)) == {
            "readonlyapikey": stored_doc["readonlyapikey"]}
        # Published means readable, not writable.
        _error(anon.post(f"{srv.url}/bokeh/bb/{docid}/bulkupsert", headers=JSON,
                         data=json.dumps([graph["plot"]]), timeout=10), 401)
        # The unpublished document stays closed to anonymous callers.
        _error(anon.get(f"{srv.url}/bokeh/bokehinfo/{private_id}/", timeout=10), 401)
        _error(anon.get(f"{srv.url}/bokeh/bb/{private_id}/", timeout=10), 401)
    s.close()


def test_single_user_classic_flow(server):
    # Without the key (the classic default "nokey"), nothing is readable.
    nokey = ClassicSession(server.url)
    _error(nokey.userinfo(), 401)
    nokey.close()

    s = ClassicSession(server.url, "defaultuser", server.headers()["BOKEHUSER-API-KEY"])
    assert ok_json(s.userinfo()) == {"username": "defaultuser", "docs": []}
    docid = s.use_doc("single")  # find_doc creates it
    assert ok_json(s.userinfo())["docs"] == [{"docid": docid, "title": "single"}]
    assert s.apikey == server.ctx.store.get_doc(docid)["apikey"]
    assert ok_json(s.gc())["status"] == "success"
    pc_id = ok_json(s.pull())[0]["id"]
    graph = plot_graph(pc_id)
    ok_json(s.push(*graph.values()))
    assert by_id(ok_json(s.pull())) == {sp["id"]: as_stored(sp, docid) for sp in graph.values()}
    assert ok_json(s.publish()) == {"status": "success"}
    assert ok_json(requests.get(f"{server.url}/bokeh/bb/{docid}/", timeout=10))
    s.close()


def test_register_and_login_accept_stale_classic_headers(make_server):
    """A fresh classic Session sends ``defaultuser``/``nokey`` (or an old key) to register/login."""
    srv = make_server(multi_user=True)
    first = ClassicSession(srv.url)
    assert ok_json(first.register("bob", "pw-bob"))["status"] is True
    other = ClassicSession(srv.url, "bob", "an-old-key-from-config-json")
    assert ok_json(other.login("bob", "pw-bob"))["userapikey"] == first.userapikey
    assert ok_json(other.userinfo())["username"] == "bob"
    # The stale key itself still gets nothing.
    _error(ClassicSession(srv.url, "bob", "an-old-key-from-config-json").userinfo(), 401)


# -- errors ---------------------------------------------------------------------------------------


def test_duplicate_title_is_409(classic):
    ok_json(classic.make_doc("twice"))
    _error(classic.make_doc("twice"), 409)
    assert [d["title"] for d in ok_json(classic.userinfo())["docs"]] == ["twice"]


def test_unknown_docid_is_404_everywhere(classic):
    base = classic.root_url + "bokeh"
    body = json.dumps({"id": "m1", "title": "x"})
    calls = [
        ("get", f"{base}/bb/{UNKNOWN}/", None),
        ("get", f"{base}/bb/{UNKNOWN}/Plot/", None),
        ("post", f"{base}/bb/{UNKNOWN}/Plot/", body),
        ("get", f"{base}/bb/{UNKNOWN}/Plot/m1/", None),
        ("put", f"{base}/bb/{UNKNOWN}/Plot/m1/", body),
        ("patch", f"{base}/bb/{UNKNOWN}/Plot/m1/", body),
        ("delete", f"{base}/bb/{UNKNOWN}/Plot/m1/", None),
        ("post", f"{base}/bb/{UNKNOWN}/bulkupsert", "[]"),
        ("post", f"{base}/bb/{UNKNOWN}/gc", None),
        ("get", f"{base}/bokehinfo/{UNKNOWN}/", None),
        ("get", f"{base}/doc/{UNKNOWN}/", None),
        ("get", f"{base}/objinfo/{UNKNOWN}/m1", None),
        ("get", f"{base}/getdocapikey/{UNKNOWN}", None),
        ("post", f"{base}/{UNKNOWN}/publish", None),
        ("delete", f"{base}/doc/{UNKNOWN}/", None),
    ]
    for method, url, data in calls:
        _error(classic.execute_json(method, url, data=data), 404)


def test_unknown_model_id_is_404_and_creates_nothing(classic, doc):
    graph = _pushed(classic, doc)
    before = ok_json(classic.pull())
    body = json.dumps({"title": "ghost"})
    for method in ("get", "put", "patch", "delete"):
        _error(classic.execute_json(method, classic.model_url("Plot", "nope"),
                                    data=body if method in ("put", "patch") else None), 404)
    _error(classic.get_json(f"{classic.root_url}bokeh/objinfo/{doc['docid']}/nope"), 404)
    # A known id under the wrong type name is not found either.
    _error(classic.pull("Line", graph["plot"]["id"]), 404)
    assert ok_json(classic.pull()) == before
    _error(classic.pull("Plot", "nope"), 404)
    assert ok_json(classic.gc())["deleted"] == 0


def test_unreachable_model_reads_as_404(classic, doc):
    orphan = model("Range1d", start=5, end=6)
    ok_json(classic.push(orphan))
    _error(classic.pull("Range1d", orphan["id"]), 404)
    _error(classic.get_json(f"{classic.root_url}bokeh/objinfo/{doc['docid']}/{orphan['id']}"),
           404)
    assert [m["id"] for m in ok_json(classic.pull())] == [doc["pc"]]


# -- single-model routes --------------------------------------------------------------------------


def test_post_creates_a_model_and_409_on_existing_id(classic, doc):
    docid = doc["docid"]
    url = classic.model_url("Plot")
    created = ok_json(classic.post_json(url, data=json.dumps({"id": "p-new", "title": "made"})))
    assert created == {"id": "p-new", "doc": docid, "title": "made"}
    # Stored, not yet live; linking it from the PlotContext makes it readable.
    assert ok_json(classic.patch("PlotContext", doc["pc"],
                                 {"children": [{"type": "Plot", "id": "p-new"}]})) == {
        "noop": True}
    assert ok_json(classic.pull("Plot", "p-new")) == created

    _error(classic.post_json(url, data=json.dumps({"id": "p-new", "title": "again"})), 409)
    _error(classic.post_json(classic.model_url("PlotContext"),
                             data=json.dumps({"id": doc["pc"], "children": []})), 409)
    assert ok_json(classic.pull("Plot", "p-new"))["title"] == "made"
    assert len(ok_json(classic.pull("PlotContext", doc["pc"]))["children"]) == 1


def test_delete_removes_the_model(classic, doc):
    graph = _pushed(classic, doc)
    glyph = graph["glyph"]
    deleted = ok_json(classic.execute_json("delete", classic.model_url("Line", glyph["id"])))
    assert deleted == as_stored(glyph, doc["docid"])["attributes"]
    ids = {m["id"] for m in ok_json(classic.pull())}
    assert glyph["id"] not in ids
    assert ids == {spec["id"] for spec in graph.values()} - {glyph["id"]}
    _error(classic.pull("Line", glyph["id"]), 404)
    _error(classic.execute_json("delete", classic.model_url("Line", glyph["id"])), 404)


def test_models_of_one_type(classic, doc):
    graph = _pushed(classic, doc)
    ok_json(classic.push(model("Range1d", start=7, end=8)))  # unreachable: not listed
    ranges = ok_json(classic.get_json(classic.model_url("Range1d")))
    expected = [as_stored(graph[k], doc["docid"])["attributes"] for k in ("y_range", "x_range")]
    assert sorted(ranges, key=lambda a: a["start"]) == expected  # by start: y first
    assert ok_json(classic.get_json(classic.model_url("Line"))) == [
        as_stored(graph["glyph"], doc["docid"])["attributes"]]
    assert ok_json(classic.get_json(classic.model_url("NoSuchType"))) == []


def test_objinfo_returns_the_closure_and_type(classic, doc):
    docid = doc["docid"]
    graph = plot_graph(doc["pc"])
    second = model("Plot", title="second", x_range=ref(graph["x_range"]))
    graph["context"]["attributes"]["children"].append(ref(second))
    ok_json(classic.push(*graph.values(), second))

    url = f"{classic.root_url}bokeh/objinfo/{docid}/{graph['plot']['id']}"
    info = ok_json(classic.get_json(url))
    assert info["type"] == "Plot" and info["docid"] == docid
    assert info["plot_context_ref"] == {"type": "PlotContext", "id": doc["pc"]}
    assert info["apikey"] == classic.http.get(
        f"{classic.root_url}bokeh/bokehinfo/{docid}/").json()["apikey"]
    closure = {k: as_stored(v, docid) for k, v in graph.items() if k != "context"}
    assert by_id(info["all_models"]) == {s["id"]: s for s in closure.values()}

    glyph_info = ok_json(classic.get_json(
        f"{classic.root_url}bokeh/objinfo/{docid}/{graph['glyph']['id']}"))
    assert glyph_info["type"] == "Line"
    assert glyph_info["all_models"] == [as_stored(graph["glyph"], docid)]


# -- reachability and gc --------------------------------------------------------------------------


def test_gc_deletes_unreachable_models(classic, doc):
    graph = _pushed(classic, doc)
    live = by_id(ok_json(classic.pull()))
    orphan = model("Range1d", start=1, end=2)
    orphan_child = model("Plot", title="orphaned", x_range=ref(orphan))
    ok_json(classic.push(orphan, orphan_child))
    assert by_id(ok_json(classic.pull())) == live  # hidden from reads...

    result = ok_json(classic.gc())
    assert result["status"] == "success" and result["deleted"] == 2  # ...and deleted by gc
    assert by_id(ok_json(classic.pull())) == live
    _error(classic.pull("Range1d", orphan["id"]), 404)

    # Deleted, not merely hidden: linking the old id now finds nothing.
    context = graph["context"]
    context["attributes"]["children"].append(ref(orphan_child))
    ok_json(classic.push(context))
    assert orphan_child["id"] not in by_id(ok_json(classic.pull()))
    assert ok_json(classic.gc())["deleted"] == 0


def test_linking_a_previously_unreachable_model_later(classic, doc):
    """Spec §16.5: Plotdesk links a model stored while unreachable by a later bulkupsert."""
    graph = plot_graph(doc["pc"])
    context = graph.pop("context")
    ok_json(classic.push(*graph.values()))
    assert [m["id"] for m in ok_json(classic.pull())] == [doc["pc"]]

    ok_json(classic.push(context))  # only the PlotContext, referencing the stored plot
    expected = {s["id"]: as_stored(s, doc["docid"]) for s in [context, *graph.values()]}
    assert by_id(ok_json(classic.pull())) == expected
    assert ok_json(classic.gc())["deleted"] == 0


def test_both_reference_forms_count_for_reachability(classic, doc):
    docid, pc = doc["docid"], doc["pc"]
    specs = [
        {"type": "PlotContext", "attributes": {
            "id": pc, "children": [{"type": "Plot", "id": "pa"}, {"id": "pb"}]}},
        {"type": "Plot", "attributes": {"id": "pa", "renderers": [
            {"type": "ColumnDataSource", "id": "sa"}]}},
        {"type": "Plot", "attributes": {"id": "pb", "renderers": [{"id": "sb"}],
                                        "extra": {"nested": [{"id": "deep"}]}}},
        {"type": "ColumnDataSource", "attributes": {"id": "sa", "data": {"x": [1]}}},
        {"type": "ColumnDataSource", "attributes": {"id": "sb", "data": {"x": [2]}}},
        {"type": "Range1d", "attributes": {"id": "deep", "start": 0, "end": 1}},
        {"type": "Range1d", "attributes": {"id": "orphan", "start": 0, "end": 1}},
    ]
    ok_json(classic.push(*specs))
    assert {m["id"] for m in ok_json(classic.pull())} == {pc, "pa", "pb", "sa", "sb", "deep"}
    assert ok_json(classic.gc())["deleted"] == 1
    pulled = by_id(ok_json(classic.pull()))
    assert pulled["pb"]["attributes"] == {
        "id": "pb", "doc": docid, "renderers": [{"id": "sb"}],
        "extra": {"nested": [{"id": "deep"}]}}


def test_nested_bokeh3_object_reps_are_flattened(classic, doc):
    docid, pc = doc["docid"], doc["pc"]
    source = {"type": "object", "name": "ColumnDataSource", "id": "cds3",
              "attributes": {"data": {"type": "map", "entries": [["x", [1, 2, 3]]]}}}
    renderer = {"type": "object", "name": "GlyphRenderer", "id": "gr3",
                "attributes": {"data_source": source,
                               "glyph": {"type": "object", "name": "Scatter", "id": "sc3",
                                         "attributes": {"x": {"type": "field", "field": "x"}}}}}
    plot = {"type": "object", "name": "Plot", "id": "p3",
            "attributes": {"title": "bokeh 3",
                           "x_range": {"type": "object", "name": "Range1d", "id": "xr3",
                                       "attributes": {"start": 0, "end": 10}},
                           "renderers": [renderer]}}
    context = {"type": "PlotContext", "attributes": {"id": pc, "children": [{"id": "p3"}]}}
    pushed = ok_json(classic.push(context, plot))
    assert {s["id"] for s in pushed["modelspecs"]} == {pc, "p3", "xr3", "gr3", "cds3", "sc3"}

    pulled = by_id(ok_json(classic.pull()))
    assert set(pulled) == {pc, "p3", "xr3", "gr3", "cds3", "sc3"}
    assert pulled["p3"] == {"type": "Plot", "id": "p3", "attributes": {
        "id": "p3", "doc": docid, "title": "bokeh 3", "x_range": {"id": "xr3"},
        "renderers": [{"id": "gr3"}]}}
    assert pulled["xr3"] == {"type": "Range1d", "id": "xr3", "attributes": {
        "id": "xr3", "doc": docid, "start": 0, "end": 10}}
    assert pulled["gr3"]["attributes"] == {
        "id": "gr3", "doc": docid, "data_source": {"id": "cds3"}, "glyph": {"id": "sc3"}}
    assert pulled["cds3"]["type"] == "ColumnDataSource"
    assert pulled["cds3"]["attributes"]["data"] == source["attributes"]["data"]
    assert pulled["sc3"]["attributes"]["x"] == {"type": "field", "field": "x"}
    assert ok_json(classic.gc())["deleted"] == 0
