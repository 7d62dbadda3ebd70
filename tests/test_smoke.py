def test_ping(anon):
    r = anon.get("/bokeh/ping")
    assert r.status == 200 and r.text == "pong"


def test_userinfo_needs_credentials(anon, client):
    assert anon.get("/bokeh/userinfo/").status == 401
    r = client.get("/bokeh/userinfo/")
    assert r.status == 200 and r.json() == {"username": "defaultuser", "docs": []}


def test_bulkupsert_and_pull(client, new_doc):
    info = new_doc("first")
    docid, pc = info["docid"], info["plot_context_ref"]["id"]
    specs = [
        {"type": "PlotContext", "attributes": {"id": pc, "children": [{"id": "p1"}]}},
        {"type": "Plot", "attributes": {"id": "p1", "title": "hello"}},
    ]
    r = client.post(f"/bokeh/bb/{docid}/bulkupsert", json=specs)
    assert r.status == 200, r.text
    pulled = client.get(f"/bokeh/bb/{docid}/").json()
    assert {s["id"] for s in pulled} == {pc, "p1"}


def test_live_server(server):
    s = server.session()
    assert s.get(server.url + "/bokeh/userinfo/").status_code == 200
