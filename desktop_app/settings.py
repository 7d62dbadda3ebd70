"""One frozen Settings object. Precedence: CLI flag > PLOTDESK_* environment variable > default."""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def default_data_dir() -> Path:
    # Imported lazily: platformdirs is cheap, but only the default needs it.
    import platformdirs

    return Path(platformdirs.user_data_dir("Plotdesk", appauthor=False))


def _setting(default: Any, help: str, *, kind: type = str) -> Any:
    return field(default=default, metadata={"help": help, "kind": kind})


@dataclass(frozen=True)
class Settings:
    """Everything that can be configured. Each field maps to ``--flag`` and ``PLOTDESK_<NAME>``."""

    data_dir: Path | None = _setting(
        None, "Folder holding the store, uploads, logs and the runtime file "
        "(default: the user data directory of 'Plotdesk').", kind=Path)
    host: str = _setting(
        "127.0.0.1", "Address to bind. Anything but loopback must be asked for explicitly.")
    port: int = _setting(
        5006, "Preferred port (the classic default); a free port is used when it is taken. "
        "0 always picks a free port.", kind=int)
    multi_user: bool = _setting(
        False, "Multi-user mode: register/login, documents owned by users.", kind=bool)
    max_body: int = _setting(
        256 * 1024 * 1024, "Largest accepted request body in bytes (larger ones get 413).",
        kind=int)
    allowed_hosts: tuple[str, ...] = _setting(
        (), "Extra host names accepted in the Host header (comma separated); "
        "127.0.0.1, localhost and [::1] are always accepted.", kind=tuple)
    threads: int = _setting(
        48, "Worker threads of the HTTP server (each open event stream holds one).", kind=int)
    url_prefix: str = _setting("", "Path prefix under which every route is mounted.")

    @property
    def data_path(self) -> Path:
        """The data directory, resolved (default applied)."""
        return Path(self.data_dir) if self.data_dir is not None else default_data_dir()

    @property
    def max_streams(self) -> int:
        """Open event streams allowed at once; the rest of the pool keeps serving requests."""
        return max(1, self.threads - 8)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _convert(kind: type, raw: str) -> Any:
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind is tuple:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return kind(raw)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one ``--flag`` per setting; help text comes from the declaration."""
    for f in dataclasses.fields(Settings):
        kind = f.metadata["kind"]
        flag = "--" + f.name.replace("_", "-")
        env = "PLOTDESK_" + f.name.upper()
        help_text = f"{f.metadata['help']} [env {env}]"
        if kind is bool:
            parser.add_argument(flag, dest=f.name, action="store_const", const=True,
                                default=None, help=help_text)
        else:
            parser.add_argument(flag, dest=f.name, default=None, metavar=f.name.upper(),
                                help=help_text)


def load(args: argparse.Namespace | None = None,
         environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from parsed CLI args, then the environment, then defaults."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        kind = f.metadata["kind"]
        cli_value = getattr(args, f.name, None) if args is not None else None
        env_value = environ.get("PLOTDESK_" + f.name.upper())
        if cli_value is not None:
            values[f.name] = cli_value if kind is bool else _convert(kind, cli_value)
        elif env_value is not None and env_value != "":
            values[f.name] = _convert(kind, env_value)
    return Settings(**values)


def describe() -> Sequence[tuple[str, str, str]]:
    """(flag, env var, help) for every setting, for docs and tests."""
    return [("--" + f.name.replace("_", "-"), "PLOTDESK_" + f.name.upper(), f.metadata["help"])
            for f in dataclasses.fields(Settings)]
