"""PDF downloads rendered after the request's database work is done.

Laying out a PDF takes far longer than reading the data for it. A route gathers what it needs
inside its transaction and returns ``pdf_response`` with a function that does the layout; the
layout runs while the response is sent, after the transaction has ended and its database slot
is free, in a worker thread, at most ``PDF_CONCURRENCY`` at a time. So a burst of downloads
queues behind itself instead of behind, or in front of, everyone else's requests.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable

from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

PDF_CONCURRENCY = 2
"""PDFs laid out at once per worker process: each is CPU-bound, and a worker has one core's
worth of time to share with every other request."""

_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _pdf_slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(PDF_CONCURRENCY)
    return slots


def pdf_response(render: Callable[[], bytes], filename: str) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        async with _pdf_slots():
            yield await run_in_threadpool(render)

    return StreamingResponse(
        body(),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
