"""The one entry point: ``plotdesk [serve|info|open|selfcheck] [options]``.

With no subcommand it opens the desktop app (window); ``serve`` runs headless.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from desktop_app import __version__
from desktop_app import settings as settings_mod

_TOP_LEVEL_FLAGS = ("-h", "--help", "--version", "--selfcheck")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plotdesk", description="Plotdesk: a local plot server and window for Bokeh "
        "figures. Without a command it opens the desktop app.")
    parser.add_argument("--version", action="version", version=f"plotdesk {__version__}")
    parser.add_argument("--selfcheck", action="store_true",
                        help="start headless on a free port, check the API, a page and BokehJS, "
                        "print a report and exit 0 (all good) or 1")
    sub = parser.add_subparsers(dest="command")
    desktop = sub.add_parser("desktop", help="open the desktop app (the default)")
    settings_mod.add_arguments(desktop)
    serve = sub.add_parser("serve", help="run the server headless (for scripts, browsers, CI)")
    settings_mod.add_arguments(serve)
    info = sub.add_parser("info", help="show the data directory, URL, user and API key")
    settings_mod.add_arguments(info)
    opener = sub.add_parser("open", help="hand a data file to the running Plotdesk")
    opener.add_argument("file", help="a data file (CSV, JSON lines, .npy/.npz, Parquet)")
    settings_mod.add_arguments(opener)
    sub.add_parser("selfcheck", help="same as --selfcheck")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # No command: the desktop app (flags such as --data-dir still apply to it).
    if not argv or (argv[0].startswith("-") and argv[0] not in _TOP_LEVEL_FLAGS):
        argv = ["desktop", *argv]
    args = build_parser().parse_args(argv)
    if args.selfcheck or args.command == "selfcheck":
        from desktop_app.selfcheck import run_selfcheck

        return run_selfcheck()
    settings = settings_mod.load(args)
    if args.command == "info":
        return cmd_info(settings)
    if args.command == "serve":
        return cmd_serve(settings)
    if args.command == "open":
        return cmd_open(settings, args.file)
    from desktop_app.shell import run_desktop

    return run_desktop(settings)


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


def cmd_open(settings: settings_mod.Settings, file: str) -> int:
    """Copy a data file into the running app's uploads and bring its window forward."""
    import shutil
    from pathlib import Path

    from desktop_app.runtime import pid_alive, read_runtime
    from desktop_app.shell.handoff import hand_off

    source = Path(file)
    if not source.is_file():
        print(f"plotdesk: no such file: {file}", file=sys.stderr)
        return 2
    info = read_runtime(settings.data_path)
    if not info or not pid_alive(info.get("pid")):
        print("plotdesk: Plotdesk is not running; start it with `plotdesk` first",
              file=sys.stderr)
        return 2
    folder = settings.data_path / "uploads" / (info.get("username") or "shared")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, folder / source.name)
    hand_off(settings.data_path)
    print(f"added {source.name} to {folder}")
    return 0
