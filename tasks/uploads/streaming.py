"""A sync file as an async iterator, for `StreamingHttpResponse` under ASGI.

Each chunk is read in a worker thread (`asyncio.to_thread`), so the event loop never blocks on
disk or on a storage backend's network read, and only one chunk is held at a time: the ASGI
server awaits each `send` (uvicorn waits for the socket to drain), which paces the reads.
`close()` is what Django calls when the response is done (it collects an iterator's `close`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import IO

CHUNK_SIZE = 64 * 1024


class AsyncFileStream:
    def __init__(self, handle: IO[bytes], chunk_size: int = CHUNK_SIZE) -> None:
        self.handle = handle
        self.chunk_size = chunk_size

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        try:
            while chunk := await asyncio.to_thread(self.handle.read, self.chunk_size):
                yield chunk
        finally:
            await asyncio.to_thread(self.handle.close)

    def close(self) -> None:
        self.handle.close()
