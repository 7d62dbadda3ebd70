"""Keys, passwords, binding, CORS, header credentials, settings (DESIGN §3.5-3.6, spec §16)."""

from __future__ import annotations

import argparse
import base64
import dataclasses
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from desktop_app import credentials
from desktop_app import settings as settings_mod
from desktop_app.runtime import read_runtime
from desktop_app.server import context_of
from desktop_app.service import Instance
from desktop_app.settings import Settings
from tests.conftest import ROOT, user_headers
from tests.error_shape import assert_error
from tests.wsgi_client import WSGIClient

MIN_KEY_BYTES = 16  # 128 bits


def key_bytes(key: str) -> int:
    """Random bytes behind a URL-safe base64 key (what ``secrets.token_urlsafe`` makes)."""
    assert re.fullmatch(r"[A-Za-z0-9_-]+", key), key
    return len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))


# -- keys ------------------------------------------------------------------------------------------

def test_generated_user_key_has_at_least_128_bits(app: Any) -> None:
    key = context_of(app).store.get_user("defaultuser")["apikey"]
    assert key_bytes(key) >= MIN_KEY_BYTES


def test_document_keys_and_ids_have_at_least_128_bits(client: WSGIClient, new_doc: Any,
                                                      app: Any) -> None:
    info = new_doc("keys")
    doc = context_of(app).store.get_doc(info["docid"])
    user_key = context_of(app).store.get_user("defaultuser")["apikey"]
    assert key_bytes(doc["apikey"]) >= MIN_KEY_BYTES
    assert key_bytes(doc["readonlyapikey"]) >= MIN_KEY_BYTES
    assert len({doc["apikey"], doc["readonlyapikey"], user_key}) == 3
    for identifier in (doc["docid"], doc["plot_context_ref"]["id"]):
        assert re.fullmatch(r"[0-9a-f]{32}", identifier), identifier  # 128 bits of hex


def test_new_keys_are_unique_and_spread_over_the_alphabet() -> None:
    keys = [credentials.new_key() for _ in range(2000)]
    assert len(set(keys)) == len(keys)
    assert all(key_bytes(k) >= MIN_KEY_BYTES for k in keys)
    used = set("".join(keys))
    assert len(used) == 64  # every base64url symbol turns up: no obviously biased source
    ids = [credentials.new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids) and set("".join(ids)) == set("0123456789abcdef")


def test_session_cookie_is_random_httponly_and_samesite_strict(app: Any) -> None:
    browser = WSGIClient(app)
    key = user_headers(app)["BOKEHUSER-API-KEY"]
    reply = browser.get("/bokeh/loginfromapikey",
                        query={"username": "defaultuser", "userapikey": key})
    assert reply.status in (302, 303)
    session = next(c for c in reply.set_cookies if c.startswith("plotdesk_session="))
    sid = session.split(";", 1)[0].split("=", 1)[1]
    assert key_bytes(sid) >= MIN_KEY_BYTES
    assert key not in session  # the API key never travels in the cookie
    flags = session.lower()
    assert "httponly" in flags and "samesite=strict" in flags


# -- constant-time comparison ----------------------------------------------------------------------

@pytest.mark.parametrize("given, expected, result", [
    ("secret-key", "secret-key", True),
    ("secret-key", "secret-kez", False),
    ("secret", "secret-key", False),
    ("", "", False),
    ("", "secret-key", False),
    ("secret-key", "", False),
    ("secret-key", None, False),
    (None, "secret-key", False),
    (12345, "12345", False),
    (b"secret-key", "secret-key", False),
    ("clé", "clé", True),
])
def test_keys_equal(given: object, expected: str | None, result: bool) -> None:
    assert credentials.keys_equal(given, expected) is result


def test_keys_equal_uses_hmac_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = credentials.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(credentials.hmac, "compare_digest", spy)
    assert credentials.keys_equal("abc", "abc")
    assert not credentials.keys_equal("abc", "abd")
    assert calls == [(b"abc", b"abc"), (b"abc", b"abd")]


def test_request_keys_are_checked_with_keys_equal(app: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Header credentials go through the constant-time helper, not ``==``."""
    import desktop_app.server.auth as auth

    seen: list[object] = []
    real = auth.keys_equal

    def spy(given: object, expected: str | None) -> bool:
        seen.append(given)
        return real(given, expected)

    monkeypatch.setattr(auth, "keys_equal", spy)
    headers = user_headers(app)
    assert WSGIClient(app, headers=headers).get("/bokeh/userinfo/").status == 200
    assert headers["BOKEHUSER-API-KEY"] in seen


# -- passwords -------------------------------------------------------------------------------------

def test_scrypt_hash_verifies_and_rejects() -> None:
    stored = credentials.hash_password("correct horse")
    scheme, n, r, p, salt, digest = stored.split("$")
    assert scheme == "scrypt" and int(n) >= 2**14 and int(r) >= 8 and int(p) >= 1
    assert len(base64.b64decode(salt)) >= 16 and len(base64.b64decode(digest)) >= 32
    assert "correct horse" not in stored
    assert credentials.verify_password("correct horse", stored)
    assert not credentials.verify_password("correct horsE", stored)
    assert not credentials.verify_password("", stored)
    assert credentials.hash_password("correct horse") != stored  # a fresh salt every time


@pytest.mark.parametrize("stored", [
    None, "", "plain-text-password", "scrypt$16384$8$1$bm90LWJhc2U2NA", "scrypt$x$8$1$AA==$AA==",
    "bcrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "scrypt$16384$8$1$!!!$???",
])
def test_verify_password_rejects_malformed_hashes(stored: str | None) -> None:
    assert credentials.verify_password("anything", stored) is False


def test_registered_password_is_stored_only_as_scrypt(make_app: Callable[..., Any],
                                                      data_dir: Path) -> None:
    app = make_app(multi_user=True)
    reply = WSGIClient(app).post("/bokeh/register", data={
        "username": "alice", "password": "s3cret-pass-phrase", "api": "true"})
    assert reply.status == 200 and reply.json()["status"] is True, reply.text
    user = context_of(app).store.get_user("alice")
    assert user["passhash"].startswith("scrypt$")
    assert credentials.verify_password("s3cret-pass-phrase", user["passhash"])
    on_disk = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    assert b"s3cret-pass-phrase" not in on_disk


# -- binding ---------------------------------------------------------------------------------------

def test_default_bind_is_loopback() -> None:
    assert Settings().host == "127.0.0.1"
    assert settings_mod.load(None, {}).host == "127.0.0.1"


def test_started_server_is_on_loopback_and_says_so_in_the_runtime_file(data_dir: Path) -> None:
    instance = Instance(Settings(data_dir=data_dir, port=0))
    handle = instance.start()
    try:
        assert handle.host == "127.0.0.1"
        info = read_runtime(data_dir)
        assert info is not None
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", info["url"]), info["url"]
        assert info["port"] == handle.port != 0
        runtime = data_dir / "runtime" / "server.json"
        if os.name == "posix":
            assert stat.S_IMODE(runtime.stat().st_mode) == 0o600
    finally:
        instance.stop()


# -- CORS ------------------------------------------------------------------------------------------

SAMPLE_ARGS = {"docid": None, "title": "cors", "objid": "p1", "typename": "Plot",
               "model_id": "p1", "path": "js/bokeh.min.js", "elementid": "e1"}


def _concrete(rule: str, docid: str) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return docid if name == "docid" else SAMPLE_ARGS.get(name) or "x"

    return re.sub(r"<([A-Za-z_]+)(?::[^>]*)?>", fill, rule)


def _cors_rules(app: Any) -> dict[str, tuple[str, set[str]]]:
    """rule → (the configured Allow-Methods, every method routed on that rule)."""
    methods: dict[str, set[str]] = {}
    for route in app.routes:
        methods.setdefault(route.rule, set()).add(route.method)
    return {route.rule: (route.config["cors"], methods[route.rule])
            for route in app.routes if route.config.get("cors") and route.method != "OPTIONS"}


EXPECTED_CORS = {
    "/bokeh/userinfo/": "GET, OPTIONS",
    "/bokeh/doc/": "GET, OPTIONS",
    "/bokeh/bokehinfo/{docid}/": "GET, OPTIONS",
    "/bokeh/doc/{docid}/": "GET, OPTIONS",
    "/bokeh/objinfo/{docid}/p1": "GET, OPTIONS",
    "/bokeh/bb/{docid}/": "GET, OPTIONS",
    "/bokeh/bb/{docid}/Plot/": "GET, OPTIONS",
    "/bokeh/bb/{docid}/Plot/p1/": "GET, PUT, PATCH, DELETE, OPTIONS",
    "/bokeh/wsurl/": "GET, OPTIONS",
    "/bokeh/sub": "GET, OPTIONS",
}
PREFLIGHT = {"Origin": "http://elsewhere.example", "Access-Control-Request-Method": "GET",
             "Access-Control-Request-Headers": "BOKEHUSER, BOKEHUSER-API-KEY, Content-Type"}


def _assert_cors(headers: Callable[[str], str | None], methods: str | None = None) -> None:
    assert headers("Access-Control-Allow-Origin") == "*"
    assert headers("Access-Control-Allow-Credentials") is None
    allowed = headers("Access-Control-Allow-Methods")
    assert allowed and "None" not in allowed
    if methods is not None:
        assert allowed == methods
    allowed_headers = {h.strip().lower()
                       for h in (headers("Access-Control-Allow-Headers") or "").split(",")}
    assert {"bokehuser", "bokehuser-api-key", "bokeh-api-key", "content-type"} <= allowed_headers


@pytest.mark.parametrize("path, methods", EXPECTED_CORS.items())
def test_preflight_answers_exact_methods_without_credentials(anon: WSGIClient, new_doc: Any,
                                                             path: str, methods: str) -> None:
    docid = new_doc("cors")["docid"]
    reply = anon.request("OPTIONS", path.replace("{docid}", docid), headers=PREFLIGHT)
    assert reply.status == 200, reply.text
    _assert_cors(reply.header, methods)
    assert not reply.set_cookies


def test_every_cors_route_preflights_with_methods_it_really_routes(app: Any, anon: WSGIClient,
                                                                   new_doc: Any) -> None:
    docid = new_doc("cors")["docid"]
    rules = _cors_rules(app)
    assert len(rules) >= len(EXPECTED_CORS)
    for rule, (configured, routed) in rules.items():
        reply = anon.request("OPTIONS", _concrete(rule, docid), headers=PREFLIGHT)
        assert reply.status == 200, (rule, reply.text)
        _assert_cors(reply.header, configured)
        listed = {m.strip() for m in configured.split(",")}
        assert "OPTIONS" in listed and listed <= routed | {"OPTIONS"}, (rule, listed, routed)


def test_cors_read_and_its_errors_carry_cors_headers(client: WSGIClient, new_doc: Any) -> None:
    docid = new_doc("cors")["docid"]
    origin = {"Origin": "http://elsewhere.example"}
    ok = client.get(f"/bokeh/bb/{docid}/", headers=origin)
    assert ok.status == 200
    _assert_cors(ok.header, "GET, OPTIONS")
    missing = client.get("/bokeh/bb/nope/", headers=origin)
    assert_error(missing, 404)
    _assert_cors(missing.header, "GET, OPTIONS")  # a page on another origin can read the reason


# -- header credentials ----------------------------------------------------------------------------

@pytest.mark.parametrize("user", [None, ""])
@pytest.mark.parametrize("method, path, body", [
    ("GET", "/bokeh/userinfo/", None),
    ("GET", "/bokeh/bb/{docid}/", None),
    ("POST", "/bokeh/bb/{docid}/bulkupsert", b"[]"),
    ("POST", "/bokeh/doc/", b'{"title": "sneaky"}'),
])
def test_api_key_without_user_is_401(anon: WSGIClient, new_doc: Any, user: str | None,
                                     method: str, path: str, body: bytes | None) -> None:
    """spec §16.14: the original answered 500."""
    docid = new_doc("target")["docid"]
    headers = {"BOKEHUSER-API-KEY": "some-key", "Content-Type": "application/json"}
    if user is not None:
        headers["BOKEHUSER"] = user
    reply = anon.request(method, path.replace("{docid}", docid), body=body, headers=headers)
    assert_error(reply, 401, "BOKEHUSER")


@pytest.mark.parametrize("user, key", [("defaultuser", "wrong"), ("nobody", "wrong"),
                                       ("defaultuser", "")])
def test_refused_header_credentials_are_401(anon: WSGIClient, user: str, key: str) -> None:
    reply = anon.get("/bokeh/userinfo/", headers={"BOKEHUSER": user, "BOKEHUSER-API-KEY": key})
    assert_error(reply, 401)


# -- settings --------------------------------------------------------------------------------------

# kind → (env text, its value, CLI text, its value)
SAMPLES: dict[type, tuple[str, Any, str, Any]] = {
    int: ("4242", 4242, "4343", 4343),
    str: ("env-value", "env-value", "cli-value", "cli-value"),
    tuple: ("a.local, b.local", ("a.local", "b.local"), "c.local", ("c.local",)),
    Path: ("/tmp/plotdesk-env", Path("/tmp/plotdesk-env"), "/tmp/plotdesk-cli",
           Path("/tmp/plotdesk-cli")),
}


def _fields() -> list[dataclasses.Field]:
    return list(dataclasses.fields(Settings))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    settings_mod.add_arguments(parser)
    return parser


def _env_name(name: str) -> str:
    return "PLOTDESK_" + name.upper()


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


@pytest.mark.parametrize("field", _fields(), ids=lambda f: f.name)
def test_setting_precedence_cli_over_env_over_default(field: dataclasses.Field) -> None:
    kind = field.metadata["kind"]
    parser = _parser()
    env: dict[str, str]
    if kind is bool:
        env = {_env_name(field.name): "1"}
        cli = [_flag(field.name)]
        from_env, from_cli = True, True
        assert settings_mod.load(parser.parse_args([]), {_env_name(field.name): "0"}) == Settings()
    else:
        env_raw, from_env, cli_raw, from_cli = SAMPLES[kind]
        env = {_env_name(field.name): env_raw}
        cli = [_flag(field.name), cli_raw]
    default = getattr(Settings(), field.name)
    assert getattr(settings_mod.load(parser.parse_args([]), {}), field.name) == default
    assert getattr(settings_mod.load(parser.parse_args([]), env), field.name) == from_env
    assert getattr(settings_mod.load(parser.parse_args(cli), env), field.name) == from_cli
    assert getattr(settings_mod.load(parser.parse_args(cli), {}), field.name) == from_cli


def test_setting_values_are_converted_to_their_types() -> None:
    loaded = settings_mod.load(_parser().parse_args(["--port", "7001", "--max-body", "1000"]), {
        "PLOTDESK_ALLOWED_HOSTS": " a.local , b.local,, ", "PLOTDESK_MULTI_USER": "yes",
        "PLOTDESK_THREADS": "", "PLOTDESK_DATA_DIR": "/tmp/plotdesk-x"})
    assert loaded.port == 7001 and loaded.max_body == 1000
    assert loaded.allowed_hosts == ("a.local", "b.local")
    assert loaded.multi_user is True
    assert loaded.threads == Settings().threads  # an empty variable counts as unset
    assert loaded.data_dir == Path("/tmp/plotdesk-x")


@pytest.mark.parametrize("command", ["serve", "info"])
def test_cli_help_lists_every_setting(command: str) -> None:
    env = {**os.environ, "COLUMNS": "100"}
    out = subprocess.run([sys.executable, "-m", "desktop_app", command, "--help"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60, check=True).stdout
    squeezed = "".join(out.split())
    described = settings_mod.describe()
    assert len(described) == len(_fields())
    for flag, env_var, help_text in described:
        assert flag in out and env_var in out, (flag, env_var)
        assert "".join(help_text.split()) in squeezed, help_text
