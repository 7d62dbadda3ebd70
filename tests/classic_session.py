"""Speak HTTP exactly as bokeh 0.10's ``bokeh.session.Session`` does, plus a small plot graph.

``ClassicSession`` mirrors the request of each classic call (URL form built with the classic
``urljoin``, form posts with ``api=true``, ``content-type: application/json`` on every JSON call,
``BOKEHUSER`` / ``BOKEHUSER-API-KEY`` on every request) but returns the ``requests`` response, so
tests can look at status codes instead of the classic client's exceptions.
"""

from __future__ import annotations

import copy
import json
import uuid
from functools import reduce
from typing import Any
from urllib.parse import urljoin as _urljoin

import requests

TIMEOUT = 10


def urljoin(*parts: str) -> str:
    """``bokeh.util.serialization.urljoin``: the stdlib urljoin folded over the parts."""
    return reduce(_urljoin, parts)


def ok_json(response: requests.Response, status: int = 200) -> Any:
    """The JSON body of a response that must have ``status``."""
    assert response.status_code == status, (
        f"{response.request.method} {response.url} → {response.status_code}: {response.text}")
    return response.json()


class ClassicSession:
    """One classic client session (defaults as in 0.10: ``defaultuser`` / ``nokey``)."""

    def __init__(self, root_url: str, username: str = "defaultuser",
                 userapikey: str = "nokey") -> None:
        self.root_url = root_url if root_url.endswith("/") else root_url + "/"
        self.http = requests.Session()
        self.http.headers.update({"BOKEHUSER": username, "BOKEHUSER-API-KEY": userapikey})
        self.docid: str | None = None
        self.apikey: str | None = None

    @property
    def username(self) -> str:
        return self.http.headers["BOKEHUSER"]  # type: ignore[return-value]

    @property
    def userapikey(self) -> str:
        return self.http.headers["BOKEHUSER-API-KEY"]  # type: ignore[return-value]

    @property
    def base_url(self) -> str:
        return urljoin(self.root_url, "bokeh/bb/")

    def close(self) -> None:
        self.http.close()

    # -- transport, as Session.execute / execute_json --------------------------------------

    def execute(self, method: str, url: str, headers: dict[str, str] | None = None,
                **kwargs: Any) -> requests.Response:
        return getattr(self.http, method)(url, headers=headers, timeout=TIMEOUT, **kwargs)

    def execute_json(self, method: str, url: str, headers: dict[str, str] | None = None,
                     **kwargs: Any) -> requests.Response:
        headers = dict(headers or {})
        headers["content-type"] = "application/json"
        return self.execute(method, url, headers=headers, **kwargs)

    def get_json(self, url: str, **kwargs: Any) -> requests.Response:
        return self.execute_json("get", url, **kwargs)

    def post_json(self, url: str, **kwargs: Any) -> requests.Response:
        return self.execute_json("post", url, **kwargs)

    # -- users ------------------------------------------------------------------------------

    def _form_login(self, page: str, username: str, password: str) -> requests.Response:
        response = self.execute("post", urljoin(self.root_url, page), data={
            "username": username, "password": password, "api": "true"})
        if response.status_code == 200 and response.json().get("status"):
            self.http.headers.update({"BOKEHUSER": username,
                                      "BOKEHUSER-API-KEY": response.json()["userapikey"]})
        return response

    def register(self, username: str, password: str) -> requests.Response:
        return self._form_login("bokeh/register", username, password)

    def login(self, username: str, password: str) -> requests.Response:
        return self._form_login("bokeh/login", username, password)

    def userinfo(self) -> requests.Response:
        return self.get_json(urljoin(self.root_url, "bokeh/userinfo/"))

    # -- documents --------------------------------------------------------------------------

    def make_doc(self, title: str) -> requests.Response:
        return self.post_json(urljoin(self.root_url, "bokeh/doc/"),
                              data=json.dumps({"title": title}))

    def find_doc(self, name: str) -> str:
        docs = ok_json(self.userinfo())["docs"]
        matching = [d for d in docs if d.get("title") == name]
        if not matching:
            ok_json(self.make_doc(name))
            return self.find_doc(name)
        return matching[0]["docid"]

    def get_api_key(self, docid: str) -> requests.Response:
        return self.get_json(urljoin(self.root_url, f"bokeh/getdocapikey/{docid}"))

    def use_doc(self, name: str | None = None, docid: str | None = None) -> str:
        self.docid = docid or self.find_doc(name or "")
        keys = ok_json(self.get_api_key(self.docid))
        self.apikey = keys["apikey"] if "apikey" in keys else keys["readonlyapikey"]
        return self.docid

    def publish(self) -> requests.Response:
        # The leading slash is the classic client's: it drops any path part of root_url.
        return self.post_json(urljoin(self.root_url, f"/bokeh/{self.docid}/publish"))

    # -- models -----------------------------------------------------------------------------

    def pull(self, typename: str | None = None, objid: str | None = None) -> requests.Response:
        assert self.docid is not None
        if typename is None and objid is None:
            return self.get_json(urljoin(self.base_url, self.docid + "/"))
        assert typename is not None and objid is not None
        return self.get_json(urljoin(self.base_url, f"{self.docid}/{typename}/{objid}/"))

    def push(self, *specs: dict[str, Any]) -> requests.Response:
        assert self.docid is not None
        return self.post_json(urljoin(self.base_url, self.docid + "/", "bulkupsert"),
                              data=json.dumps(list(specs)))

    def gc(self) -> requests.Response:
        assert self.docid is not None
        return self.post_json(urljoin(self.base_url, self.docid + "/", "gc"))

    # -- Backbone-style single-model calls (what BokehJS sends through Backbone.sync) -------

    def model_url(self, typename: str, objid: str | None = None) -> str:
        assert self.docid is not None
        tail = f"{self.docid}/{typename}/" + (f"{objid}/" if objid is not None else "")
        return urljoin(self.base_url, tail)

    def patch(self, typename: str, objid: str, attributes: dict[str, Any]) -> requests.Response:
        return self.execute_json("patch", self.model_url(typename, objid),
                                 data=json.dumps(attributes))


def ref(spec: dict[str, Any]) -> dict[str, str]:
    """The classic reference to a spec: ``{"type", "id"}`` (+ ``subtype``)."""
    out = {"type": spec["type"], "id": spec["id"]}
    if "subtype" in spec:
        out["subtype"] = spec["subtype"]
    return out


def model(type_: str, subtype: str | None = None, **attributes: Any) -> dict[str, Any]:
    """A classic model spec with a fresh uuid id; ``doc`` is the client's own (discarded)."""
    model_id = attributes.pop("id", None) or str(uuid.uuid4())
    spec: dict[str, Any] = {"type": type_, "id": model_id,
                            "attributes": {"id": model_id, "doc": "client-side-doc",
                                           **attributes}}
    if subtype:
        spec["subtype"] = subtype
    return spec


def plot_graph(plot_context_id: str, title: str = "sin(x)") -> dict[str, dict[str, Any]]:
    """A small classic plot graph, PlotContext → Plot → GlyphRenderer → Line / data source.

    Returned by role: ``context``, ``plot``, ``renderer``, ``glyph``, ``source``, ``x_range``,
    ``y_range``. The PlotContext spec lists the plot as its only child.
    """
    source = model("ColumnDataSource", column_names=["x", "y"],
                   data={"x": [0, 1, 2, 3], "y": [0.0, 0.841, 0.909, 0.141]},
                   selected={"1d": {"indices": []}}, tags=[])
    glyph = model("Line", x={"field": "x"}, y={"field": "y"}, line_color={"value": "navy"},
                  line_width={"value": 2}, tags=[])
    renderer = model("GlyphRenderer", glyph=ref(glyph), data_source=ref(source),
                     selection_glyph=None, tags=[])
    x_range = model("Range1d", start=0, end=3, tags=[])
    y_range = model("Range1d", start=-1, end=1, tags=[])
    plot = model("Plot", "Figure", title=title, renderers=[ref(renderer)], x_range=ref(x_range),
                 y_range=ref(y_range), tools=[], extra_x_ranges={}, tags=[])
    context = model("PlotContext", id=plot_context_id, children=[ref(plot)], tags=[])
    return {"context": context, "plot": plot, "renderer": renderer, "glyph": glyph,
            "source": source, "x_range": x_range, "y_range": y_range}


def as_stored(spec: dict[str, Any], docid: str) -> dict[str, Any]:
    """What a read returns for a pushed spec: same type/subtype/id, ``doc`` set to ``docid``."""
    out = copy.deepcopy(spec)
    out["attributes"]["doc"] = docid
    out["attributes"]["id"] = spec["id"]
    return out


def by_id(specs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {spec["id"]: spec for spec in specs}
