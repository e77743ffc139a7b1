"""One proxied connection of the fault proxy, and the few byte-level tricks it needs.

The proxy stays a TCP proxy: it reads just enough HTTP (the status line, the end of the header
block) to say what it broke and to cut a response inside its body rather than its headers.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Mode = Literal["pass", "delay", "drop", "timeout", "reset", "cut"]
Listener = Callable[[str, str], None]  # (mode, what the proxy did); called on the proxy thread
HEADER_END = b"\r\n\r\n"


@dataclass(frozen=True)
class Fault:
    mode: Mode = "pass"
    delay_ms: int = 0
    cut_bytes: int = 0
    times: int = 1  # connections it applies to, then the proxy passes again; -1: every one


async def serve(fault: Fault, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                upstream: tuple[str, int], listener: Listener, hold_s: float) -> None:
    """Carry one client connection to `upstream`, applying `fault`; always closes both ends."""
    up_writer = None
    try:
        request = await reader.read(65536)  # wait for the request: a fault needs one to spoil
        if not request:
            return
        if fault.mode == "reset":
            listener("reset", "reset the connection (RST): the request never reached the API")
            abort(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*upstream)
        except OSError:
            listener("down", "the API refused the connection: reset the client's")
            abort(writer)
            return
        up_writer.write(request)
        pump = asyncio.create_task(copy(reader, up_writer))
        respond = asyncio.create_task(_respond(fault, up_reader, writer, pump, listener, hold_s))
        await asyncio.wait({pump, respond}, return_when=asyncio.FIRST_COMPLETED)
        for task in (pump, respond):
            task.cancel()
    except OSError:
        pass  # a peer vanished mid-copy: that is the client's or the server's story to tell
    finally:
        for w in (writer, up_writer):
            if w is not None and not w.is_closing():
                w.close()  # close() flushes what was written; only abort() discards it


async def _respond(fault: Fault, up: asyncio.StreamReader, client: asyncio.StreamWriter,
                   pump: asyncio.Task[None], listener: Listener, hold_s: float) -> None:
    first = await up.read(65536)  # the response has started, so the handler has finished
    if not first:
        return
    status = status_of(first)
    if fault.mode == "drop":
        listener("drop", f"swallowed the response ({status}) and closed the connection")
        return
    if fault.mode == "timeout":
        listener("timeout", f"swallowed the response ({status}); the client hears nothing")
        await asyncio.wait({pump}, timeout=hold_s)  # silent until the client gives up
        return
    if fault.mode == "cut":
        head, body = await head_and_body(first, up, body_over=fault.cut_bytes)
        client.write(head + body[: fault.cut_bytes])
        await client.drain()
        listener("cut", f"cut the response ({status}) after "
                        f"{min(len(body), fault.cut_bytes)} body bytes")
        return
    if fault.mode == "delay":
        listener("delay", f"holding the response ({status}) for {fault.delay_ms} ms")
        await asyncio.sleep(fault.delay_ms / 1000)
    client.write(first)
    await client.drain()
    await copy(up, client)


async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    """Forward bytes until `src` ends (its sender closed)."""
    while data := await src.read(65536):
        dst.write(data)
        await dst.drain()


def abort(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST, not a FIN: SO_LINGER with a zero timeout makes the kernel drop
    unsent data and reset, which the peer sees as 'connection reset by peer'."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def status_of(chunk: bytes) -> str:
    """'HTTP 201' from the first bytes of a response, else 'non-HTTP bytes'."""
    line = chunk.split(b"\r\n", 1)[0].split()
    if len(line) >= 2 and line[0].startswith(b"HTTP/"):
        return f"HTTP {line[1].decode(errors='replace')}"
    return "non-HTTP bytes"


async def head_and_body(first: bytes, src: asyncio.StreamReader, body_over: int = 0,
                        limit: int = 64 * 1024) -> tuple[bytes, bytes]:
    """Split a response into its header block and its body so far, reading until the block has
    ended and more than `body_over` body bytes came (or the stream ends, or `limit` bytes)."""
    buffer = first
    while len(buffer) < limit:
        _, sep, body = buffer.partition(HEADER_END)
        if sep and len(body) > body_over:
            break
        more = await src.read(65536)
        if not more:
            break
        buffer += more
    head, sep, body = buffer.partition(HEADER_END)
    return (head + sep, body) if sep else (b"", buffer)
