"""Varint-length-prefixed protobuf frames with a size cap checked before the body is read.

Every wire message goes through `read_frame`/`write_frame`, so a peer cannot make us allocate
more than `max_bytes`, and a frame that does not finish within `timeout` (slowloris) ends the
stream instead of pinning a task forever.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

import trio
from google.protobuf.message import DecodeError, Message

from secondme.network.errors import FrameError

MAX_VARINT_BYTES = 10
M = TypeVar("M", bound=Message)


class ByteStream(Protocol):
    async def read(self, n: int | None = None) -> bytes: ...

    async def write(self, data: bytes) -> None: ...


def encode_varint(value: int) -> bytes:
    if value < 0:
        raise ValueError("varint must be non-negative")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class _Reader:
    """Buffers what `read` returned beyond the current frame, so no byte is lost."""

    def __init__(self, stream: ByteStream) -> None:
        self.stream = stream
        self.buffer = bytearray()

    async def _fill(self) -> None:
        try:
            chunk = await self.stream.read(65536)
        except Exception as exc:  # libp2p raises StreamEOF / StreamReset / StreamError
            if type(exc).__name__ == "StreamEOF":
                chunk = b""
            else:
                raise FrameError(f"stream failed while reading a frame: {type(exc).__name__}") from exc
        if not chunk:
            raise EOFError
        self.buffer += chunk

    async def read_frame(self, max_bytes: int) -> bytes:
        length = 0
        shift = 0
        index = 0
        while True:
            while index >= len(self.buffer):
                try:
                    await self._fill()
                except EOFError:
                    if index == 0:
                        raise
                    raise FrameError("the peer closed the stream in the middle of a length prefix") from None
            byte = self.buffer[index]
            index += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
            if index >= MAX_VARINT_BYTES:
                raise FrameError("length prefix longer than 10 bytes")
        if length > max_bytes:
            raise FrameError(f"frame of {length} bytes exceeds the {max_bytes}-byte limit")
        del self.buffer[:index]
        while len(self.buffer) < length:
            try:
                await self._fill()
            except EOFError:
                raise FrameError(
                    f"the peer closed the stream after {len(self.buffer)} of {length} frame bytes"
                ) from None
        body = bytes(self.buffer[:length])
        del self.buffer[:length]
        return body


class FramedStream:
    """A stream speaking length-prefixed protobuf messages with a cap and timeouts."""

    def __init__(self, stream: ByteStream, max_bytes: int, read_timeout: float) -> None:
        self._reader = _Reader(stream)
        self.stream = stream
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout

    async def read(self, message_type: type[M], wait: float | None = None) -> M:
        """Read one message; `wait` bounds the time until the frame *starts* (idle), then
        `read_timeout` bounds the whole frame. EOFError means a clean close between frames."""
        deadline = self.read_timeout if wait is None else wait + self.read_timeout
        try:
            with trio.fail_after(deadline):
                body = await self._reader.read_frame(self.max_bytes)
        except trio.TooSlowError:
            raise FrameError(f"no complete frame within {deadline:g} s") from None
        message = message_type()
        try:
            message.ParseFromString(body)
        except DecodeError as exc:
            raise FrameError(f"not a valid {message_type.__name__} message: {exc}") from exc
        return message

    async def write(self, message: Message) -> None:
        body = message.SerializeToString()
        if len(body) > self.max_bytes:
            raise FrameError(f"refusing to send a {len(body)}-byte frame (limit {self.max_bytes})")
        with trio.fail_after(self.read_timeout):
            await self.stream.write(encode_varint(len(body)) + body)
