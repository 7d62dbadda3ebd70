"""The one entry point: ``plotdesk [serve|info] [options]``."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from desktop_app import __version__
from desktop_app import settings as settings_mod


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plotdesk", description="Plotdesk: a local plot server for Bokeh figures.")
    parser.add_argument("--version", action="version", version=f"plotdesk {__version__}")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the server headless (for scripts, browsers, CI)")
    settings_mod.add_arguments(serve)
    info = sub.add_parser("info", help="show the data directory, URL, user and API key")
    settings_mod.add_arguments(info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "info":
        return cmd_info(settings_mod.load(args))
    if args.command is None:
        # The desktop window is not built yet: the default runs the server headless.
        args = parser.parse_args(["serve", *(argv or sys.argv[1:])])
    return cmd_serve(settings_mod.load(args))


def cmd_serve(settings: settings_mod.Settings) -> int:
    from desktop_app.runtime import DataDirBusy
    from desktop_app.service import Instance, setup_logging

    setup_logging(settings.data_path)
    instance = Instance(settings)
    try:
        server = instance.start()
    except DataDirBusy as exc:
        print(f"plotdesk: {exc}", file=sys.stderr)
        return 2

    def _stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print(f"Plotdesk serving {server.url}  (data: {settings.data_path}; Ctrl-C to stop)",
          flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        instance.stop()
    return 0


def cmd_info(settings: settings_mod.Settings) -> int:
    from desktop_app.runtime import pid_alive, read_runtime
    from desktop_app.store import Store

    data_dir = settings.data_path
    print(f"data directory: {data_dir}")
    info = read_runtime(data_dir)
    if info and pid_alive(info.get("pid")):
        print(f"running at:     {info['url']} (pid {info['pid']})")
        username, key = info.get("username"), info.get("userapikey")
    else:
        print("running at:     not running")
        username, key = None, None
        if not settings.multi_user and (data_dir / "store" / "plotdesk.json").exists():
            user = Store(data_dir / "store").get_user("defaultuser")
            username, key = (user["username"], user["apikey"]) if user else (None, None)
    if username:
        print(f"user:           {username}")
        print(f"API key:        {key}")
    elif settings.multi_user:
        print("mode:           multi-user (register at /bokeh/register)")
    return 0
