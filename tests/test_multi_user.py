"""Users, document keys, password storage and browser logins on a real server (spec §3, §5).

Multi-user mode unless a test says otherwise. Two users, A (alice) and B (bob), register through
the API form exactly as the classic client does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.classic_session import ClassicSession, model, ok_json, plot_graph

JSON = {"content-type": "application/json"}
EVIL = "http://evil.example"
TIMEOUT = 10


def _status(response: requests.Response, status: int) -> dict[str, Any]:
    """Assert ``status`` and the one JSON error shape."""
    assert response.status_code == status, (
        f"{response.request.method} {response.url} → {response.status_code}: {response.text}")
    body = response.json()
    assert body["status_code"] == status and body["message"], body
    return body


def _register(url: str, username: str, password: str) -> ClassicSession:
    session = ClassicSession(url)
    assert ok_json(session.register(username, password))["status"] is True
    return session


@pytest.fixture
def srv(make_server):
    return make_server(multi_user=True)


@pytest.fixture
def alice(srv) -> ClassicSession:
    return _register(srv.url, "alice", "alice-pw-1")


@pytest.fixture
def bob(srv) -> ClassicSession:
    return _register(srv.url, "bob", "bob-pw-2")


@pytest.fixture
def alice_doc(srv, alice: ClassicSession) -> dict[str, Any]:
    """Alice's document with a plot in it: docid, keys, the graph and the pulled state."""
    alice.use_doc("alice's plots")
    pc = ok_json(alice.pull())[0]["id"]
    graph = plot_graph(pc)
    ok_json(alice.push(*graph.values()))
    doc = srv.ctx.store.get_doc(alice.docid)
    return {"docid": alice.docid, "rw": doc["apikey"], "ro": doc["readonlyapikey"],
            "graph": graph, "state": ok_json(alice.pull())}


def _doc_calls(url: str, docid: str, graph: dict[str, dict]) -> tuple[list, list]:
    """(reads, writes) on one document as (method, url, body) triples."""
    bb = f"{url}/bokeh/bb/{docid}"
    plot = graph["plot"]
    reads = [
        ("get", f"{bb}/", None),
        ("get", f"{bb}/Plot/", None),
        ("get", f"{bb}/Plot/{plot['id']}/", None),
        ("get", f"{url}/bokeh/bokehinfo/{docid}/", None),
        ("get", f"{url}/bokeh/doc/{docid}/", None),
        ("get", f"{url}/bokeh/objinfo/{docid}/{plot['id']}", None),
    ]
    writes = [
        ("post", f"{bb}/bulkupsert", json.dumps([model("Range1d", start=9, end=10)])),
        ("patch", f"{bb}/Plot/{plot['id']}/", json.dumps({"title": "defaced"})),
        ("put", f"{bb}/Plot/{plot['id']}/", json.dumps({"title": "defaced"})),
        ("post", f"{bb}/Range1d/", json.dumps({"id": "intruder", "start": 0})),
        ("delete", f"{bb}/Line/{graph['glyph']['id']}/", None),
        ("post", f"{bb}/gc", None),
        ("post", f"{url}/bokeh/{docid}/publish", None),
    ]
    return reads, writes


# -- document isolation ---------------------------------------------------------------------------


def test_other_user_can_neither_read_nor_write(srv, alice, bob, alice_doc):
    docid = alice_doc["docid"]
    reads, writes = _doc_calls(srv.url, docid, alice_doc["graph"])
    for method, url, body in [*reads, *writes,
                              ("get", f"{srv.url}/bokeh/getdocapikey/{docid}", None),
                              ("delete", f"{srv.url}/bokeh/doc/{docid}/", None)]:
        _status(bob.execute_json(method, url, data=body), 403)
    assert ok_json(bob.userinfo()) == {"username": "bob", "docs": []}
    assert [d["docid"] for d in ok_json(alice.userinfo())["docs"]] == [docid]
    assert ok_json(alice.pull()) == alice_doc["state"]
    assert srv.ctx.store.get_doc(docid)["published"] is False
    assert ok_json(alice.gc())["deleted"] == 0  # no write slipped in, even an unreachable one


def test_readonly_doc_key_reads_but_never_writes(srv, alice, bob, alice_doc):
    docid, ro = alice_doc["docid"], alice_doc["ro"]
    reads, writes = _doc_calls(srv.url, docid, alice_doc["graph"])
    key = {"BOKEH-API-KEY": ro}
    for method, url, body in reads:
        response = bob.execute_json(method, url, headers=key, data=body)
        assert response.status_code == 200, (url, response.text)
    assert ok_json(bob.execute_json("get", f"{srv.url}/bokeh/bb/{docid}/", headers=key)) == \
        alice_doc["state"]
    # Asking for the key with the read-only key never reveals the read-write key.
    assert ok_json(bob.execute_json("get", f"{srv.url}/bokeh/getdocapikey/{docid}",
                                    headers=key)) == {"readonlyapikey": ro}
    for method, url, body in writes:
        _status(bob.execute_json(method, url, headers=key, data=body), 403)
    # Without any user, the read-only key works the same way.
    with requests.Session() as anon:
        assert anon.get(f"{srv.url}/bokeh/bb/{docid}/", headers=key,
                        timeout=TIMEOUT).status_code == 200
        _status(anon.post(f"{srv.url}/bokeh/bb/{docid}/bulkupsert", data="[]",
                          headers={**key, **JSON}, timeout=TIMEOUT), 403)
    # A wrong key is refused.
    _status(bob.execute_json("get", f"{srv.url}/bokeh/bb/{docid}/",
                             headers={"BOKEH-API-KEY": ro + "x"}), 403)
    assert ok_json(alice.pull()) == alice_doc["state"]
    assert srv.ctx.store.get_doc(docid)["published"] is False
    assert ok_json(alice.gc())["deleted"] == 0


def test_readwrite_doc_key_lets_another_user_write(srv, alice, bob, alice_doc):
    docid, rw = alice_doc["docid"], alice_doc["rw"]
    key = {"BOKEH-API-KEY": rw}
    assert ok_json(bob.execute_json("get", f"{srv.url}/bokeh/getdocapikey/{docid}",
                                    headers=key)) == {"apikey": rw}
    plot = alice_doc["graph"]["plot"]
    ok_json(bob.execute_json("patch", f"{srv.url}/bokeh/bb/{docid}/Plot/{plot['id']}/",
                             headers=key, data=json.dumps({"title": "bob was here"})))
    extra = model("Range1d", start=1, end=2)
    context = alice_doc["graph"]["context"]
    context["attributes"]["children"].append({"type": "Range1d", "id": extra["id"]})
    pushed = ok_json(bob.execute_json("post", f"{srv.url}/bokeh/bb/{docid}/bulkupsert",
                                      headers=key, data=json.dumps([context, extra])))
    assert len(pushed["modelspecs"]) == 2
    seen = {m["id"]: m for m in ok_json(alice.pull())}
    assert seen[plot["id"]]["attributes"]["title"] == "bob was here"
    assert seen[extra["id"]]["attributes"]["start"] == 1
    # The key grants this document only.
    other = ok_json(alice.make_doc("other"))["docs"][1]["docid"]
    _status(bob.execute_json("get", f"{srv.url}/bokeh/bb/{other}/", headers=key), 403)


# -- passwords ------------------------------------------------------------------------------------


def test_wrong_password_or_unknown_user_is_refused(srv, alice):
    s = ClassicSession(srv.url)
    refused = ok_json(s.login("alice", "not-her-password"))
    assert refused["status"] is False and refused["error"]
    assert "userapikey" not in refused
    assert s.userapikey == "nokey" and not s.http.cookies
    assert ok_json(s.login("nobody", "alice-pw-1"))["status"] is False
    assert ok_json(s.register("alice", "another"))["status"] is False
    assert ok_json(s.login("alice", "alice-pw-1"))["userapikey"] == alice.userapikey


def test_stored_user_record_has_no_clear_password(srv, data_dir: Path):
    password = "Zebra-Quartz-93517-secret"
    _register(srv.url, "carol", password)
    store_file = data_dir / "store" / "plotdesk.json"
    raw = store_file.read_text("utf-8")
    record = json.loads(raw)["users"]["carol"]
    assert record["passhash"].startswith("scrypt$")
    assert password not in raw
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path
    assert ok_json(ClassicSession(srv.url).login("carol", password))["status"] is True


# -- browser logins -------------------------------------------------------------------------------


def _csrf_token(html: str) -> str:
    match = re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _browser_login(srv, username: str, password: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{srv.url}/bokeh/login", timeout=TIMEOUT)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    token = _csrf_token(page.text)
    assert browser.cookies.get("plotdesk_csrf")
    response = browser.post(f"{srv.url}/bokeh/login", allow_redirects=False, timeout=TIMEOUT,
                            headers={"Origin": srv.url},
                            data={"username": username, "password": password,
                                  "csrf_token": token, "next": ""})
    assert response.status_code == 302, response.text
    assert response.headers["Location"].endswith("/bokeh/")
    cookie = response.headers["Set-Cookie"]
    assert "plotdesk_session=" in cookie and "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    return browser


def test_form_login_with_csrf_token_and_same_origin(srv, alice):
    browser = _browser_login(srv, "alice", "alice-pw-1")
    assert ok_json(browser.get(f"{srv.url}/bokeh/userinfo/", timeout=TIMEOUT))["username"] == \
        "alice"


def test_form_login_without_csrf_token_is_refused(srv, alice):
    browser = requests.Session()
    token = _csrf_token(browser.get(f"{srv.url}/bokeh/login", timeout=TIMEOUT).text)
    form = {"username": "alice", "password": "alice-pw-1"}
    for data in (form, {**form, "csrf_token": token + "x"}, {**form, "csrf_token": ""}):
        response = browser.post(f"{srv.url}/bokeh/login", data=data, headers={"Origin": srv.url},
                                allow_redirects=False, timeout=TIMEOUT)
        _status(response, 403)
        assert "plotdesk_session" not in response.headers.get("Set-Cookie", "")
    # The right token without the cookie it belongs to is refused too.
    with requests.Session() as other:
        _status(other.post(f"{srv.url}/bokeh/login", data={**form, "csrf_token": token},
                           headers={"Origin": srv.url}, allow_redirects=False,
                           timeout=TIMEOUT), 403)
    _status(browser.get(f"{srv.url}/bokeh/userinfo/", timeout=TIMEOUT), 401)


def test_cookie_writes_need_the_same_origin(srv, alice):
    alice.use_doc("api doc")
    pc = ok_json(alice.pull())[0]["id"]
    before = ok_json(alice.pull())
    browser = _browser_login(srv, "alice", "alice-pw-1")
    bulk = f"{srv.url}/bokeh/bb/{alice.docid}/bulkupsert"
    specs = json.dumps(list(plot_graph(pc).values()))

    # A foreign origin, none at all, and a foreign origin hiding behind a made-up doc key.
    for origin in ({"Origin": EVIL}, {}, {"Origin": EVIL, "BOKEH-API-KEY": "made-up"}):
        _status(browser.post(f"{srv.url}/bokeh/doc/", data=json.dumps({"title": "csrf"}),
                             headers={**JSON, **origin}, timeout=TIMEOUT), 403)
        _status(browser.post(bulk, data=specs, headers={**JSON, **origin}, timeout=TIMEOUT),
                403)
        _status(browser.post(f"{srv.url}/bokeh/{alice.docid}/publish",
                             headers={**JSON, **origin}, timeout=TIMEOUT), 403)
    assert [d["title"] for d in ok_json(alice.userinfo())["docs"]] == ["api doc"]
    assert ok_json(alice.pull()) == before
    assert srv.ctx.store.get_doc(alice.docid)["published"] is False

    same = {**JSON, "Origin": srv.url}
    made = ok_json(browser.post(f"{srv.url}/bokeh/doc/", data=json.dumps({"title": "ok"}),
                                headers=same, timeout=TIMEOUT))
    assert [d["title"] for d in made["docs"]] == ["api doc", "ok"]
    assert ok_json(browser.post(bulk, data=specs, headers=same, timeout=TIMEOUT))[
        "msgtype"] == "modelpush"
    assert len(ok_json(alice.pull())) == len(json.loads(specs))


def test_foreign_origin_may_write_with_a_document_key_and_no_cookie(srv, alice, alice_doc):
    docid = alice_doc["docid"]
    plot = alice_doc["graph"]["plot"]
    url = f"{srv.url}/bokeh/bb/{docid}/Plot/{plot['id']}/"
    body = json.dumps({"title": "from another page"})
    with requests.Session() as page:
        _status(page.patch(url, data=body, timeout=TIMEOUT,
                           headers={**JSON, "Origin": EVIL, "BOKEH-API-KEY": alice_doc["ro"]}),
                403)
        assert ok_json(page.patch(url, data=body, timeout=TIMEOUT, headers={
            **JSON, "Origin": EVIL, "BOKEH-API-KEY": alice_doc["rw"]})) == {"noop": True}
    assert ok_json(alice.pull("Plot", plot["id"]))["title"] == "from another page"


def test_loginfromapikey_sets_a_cookie_and_logout_drops_it(srv, alice):
    url = f"{srv.url}/bokeh/loginfromapikey"
    with requests.Session() as refused:
        response = refused.get(url, params={"username": "alice", "userapikey": "wrong"},
                               allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code == 302 and "/bokeh/login" in response.headers["Location"]
        assert not refused.cookies.get("plotdesk_session")
        _status(refused.get(f"{srv.url}/bokeh/userinfo/", timeout=TIMEOUT), 401)

    browser = requests.Session()
    response = browser.get(url, params={"username": "alice", "userapikey": alice.userapikey},
                           allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302 and response.headers["Location"].endswith("/bokeh/")
    sid = browser.cookies.get("plotdesk_session")
    assert sid
    assert ok_json(browser.get(f"{srv.url}/bokeh/userinfo/", timeout=TIMEOUT))["username"] == \
        "alice"

    response = browser.get(f"{srv.url}/bokeh/logout", allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    assert not browser.cookies.get("plotdesk_session")
    _status(browser.get(f"{srv.url}/bokeh/userinfo/", timeout=TIMEOUT), 401)
    # The old session id is dead on the server too, not only forgotten by the browser.
    _status(requests.get(f"{srv.url}/bokeh/userinfo/", cookies={"plotdesk_session": sid},
                         timeout=TIMEOUT), 401)


# -- single-user mode -----------------------------------------------------------------------------


def test_single_user_register_is_403_json(server):
    s = ClassicSession(server.url, "defaultuser", server.headers()["BOKEHUSER-API-KEY"])
    _status(s.register("mallory", "pw"), 403)
    _status(requests.get(f"{server.url}/bokeh/register", timeout=TIMEOUT), 403)
    assert server.ctx.store.get_user("mallory") is None


def test_single_user_login_with_the_api_key(server):
    key = server.headers()["BOKEHUSER-API-KEY"]
    s = ClassicSession(server.url)
    assert ok_json(s.login("defaultuser", key)) == {"status": True, "userapikey": key}
    assert ok_json(s.userinfo())["username"] == "defaultuser"
    wrong = ClassicSession(server.url)
    assert ok_json(wrong.login("defaultuser", key[:-1] + "x"))["status"] is False
    assert ok_json(wrong.login("defaultuser", "nokey"))["status"] is False
    _status(wrong.userinfo(), 401)


def test_single_user_browser_login_form(server):
    key = server.headers()["BOKEHUSER-API-KEY"]
    browser = _browser_login(server, "defaultuser", key)
    assert ok_json(browser.get(f"{server.url}/bokeh/userinfo/", timeout=TIMEOUT))[
        "username"] == "defaultuser"
    with requests.Session() as other:
        token = _csrf_token(other.get(f"{server.url}/bokeh/login", timeout=TIMEOUT).text)
        response = other.post(f"{server.url}/bokeh/login", allow_redirects=False,
                              headers={"Origin": server.url}, timeout=TIMEOUT,
                              data={"username": "defaultuser", "password": "wrong",
                                    "csrf_token": token})
        assert response.status_code == 302 and "/bokeh/login" in response.headers["Location"]
        assert not other.cookies.get("plotdesk_session")
