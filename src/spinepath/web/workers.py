"""The app factory of `spinepath serve`'s worker processes: each worker ends with its parent.

uvicorn's workers share the parent's listening socket. If the parent is killed outright
(SIGKILL, the out-of-memory killer), nothing tells the workers: they would go on serving the
port, and a new `serve` would fail with "address already in use". So each worker asks the kernel
for SIGTERM when its parent dies (``prctl(PR_SET_PDEATHSIG)``), which uvicorn already answers with
a graceful shutdown. That is a few lines, needs no new dependency and no polling, and acts at
once; a supervisor such as gunicorn would do the same job at the price of a second server stack.
Where prctl does not exist (not Linux), a thread watches for the parent to change instead.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time

from fastapi import FastAPI

from spinepath.web.app import create_app

PR_SET_PDEATHSIG = 1
"""From <linux/prctl.h>."""

PARENT_POLL_SECONDS = 1.0


def create_worker_app() -> FastAPI:
    """The app factory `serve` hands uvicorn: the app, in a process that ends with its parent."""
    parent = multiprocessing.parent_process()
    # Only uvicorn's worker processes have a multiprocessing parent; a single-process `serve`
    # is the parent itself and must outlive the shell that started it.
    if parent is not None and parent.pid is not None:
        end_with_parent(parent.pid)
    return create_app()


def end_with_parent(parent_pid: int) -> None:
    """Sends this process SIGTERM when the process ``parent_pid`` (its parent) ends."""
    if sys.platform == "linux":
        # The kernel watches the thread that started this process; uvicorn starts and restarts
        # its workers from its main thread, which lives as long as the process.
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        # The parent may have died before the request was made: then nothing would be sent.
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)
        return
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)
