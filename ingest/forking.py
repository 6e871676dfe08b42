"""The fork server that every child process of ``aduan run`` starts from.

Children are never forked from ``aduan run`` itself: it runs threads (channels, prefetch,
logging), and a fork could copy a lock one of them holds into a child that then waits on it
forever. The fork server is a clean single-threaded process instead; each child is a fork of
it. Whatever the fork server has imported, every child has for free: so it imports the modules
the normalizer workers and the store consumer need (about a second of imports, which each of
them otherwise paid on its first message, while the pipeline waited for it).
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterable
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.config import AppConfig

#: what the store consumer and the normalizer workers import on their first message; the main
#: module first, as the fork server does by default
PRELOAD = (
    "__main__",
    "ingest.normalizing",
    "ingest.classifier",
    "ingest.storeproc",
    "normalizers.enrich",
    "normalizers.extract.classify",
    "normalizers.extract.sla",
    "sinks.store",
    "sinks.db",
)


def forkserver_context(normalizers: Iterable[str] = ()) -> ForkServerContext:
    """The fork-server context, preloading ``PRELOAD`` and the given normalizer modules.

    The preload list is read once, when the fork server starts (with the first child), so call
    this for every child; a module that fails to import there is skipped, and the child imports
    it itself as before.
    """
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(list(dict.fromkeys((*PRELOAD, *normalizers))))
    return ctx


def normalizer_modules(cfg: AppConfig) -> list[str]:
    """The modules of the enabled channels' normalizers (and their plugins)."""
    names: list[str] = []
    for channel in cfg.enabled_channels:
        plugin = cfg.plugin(channel)
        for obj in (plugin.normalize, plugin.adapter):
            module = getattr(obj, "__module__", None)
            if isinstance(module, str):
                names.append(module)
    return list(dict.fromkeys(names))


def start_forkserver(cfg: AppConfig) -> None:
    """Start the fork server now, without waiting for it.

    It imports its preload (about a second) while this process goes on with its own start-up
    (its imports, migrations, the model); the first child started later then waits for the
    rest only, instead of for all of it.
    """
    from multiprocessing import forkserver

    forkserver_context(normalizer_modules(cfg))
    forkserver.ensure_running()


def die_with_parent(lifeline: Connection) -> None:
    """In a child: exit as soon as the process holding ``lifeline``'s other end is gone.

    The pool's initializer. A normalizer worker otherwise blocks on its task queue forever when
    ``aduan run`` is killed (SIGKILL, the OOM killer): it holds that queue's write end itself,
    so it never reads EOF. Nothing is ever sent on the lifeline; its EOF is the signal.
    """

    def watch() -> None:
        try:
            lifeline.recv()
        except (EOFError, OSError):
            os._exit(1)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()
    freeze_heap()


def freeze_heap() -> None:
    """Leave what a child process has loaded so far (modules, the normalizers' tables) out of
    the cyclic garbage collector's scans: it lives as long as the process, yet every full
    collection walked it again, about a third of the collector's time in a normalizer worker
    (~20 µs a message) and the store process. Objects made later are collected as before.

    No collection first: over the preloaded modules it cost about 0.4 s of start-up, for the
    little garbage an import leaves, which then stays (frozen) for the process's life."""
    gc.freeze()
