"""Arrow IPC streams read as they arrive, for ``queries.stream_arrow`` (sync and async).

An HTTP body arrives in chunks of any size. :class:`ArrowStreamDecoder` cuts the bytes into
whole IPC messages using the stream's framing (continuation marker, metadata length, and the
``bodyLength`` of the message's flatbuffer header) and hands each complete record batch to
pyarrow, so decoding (dictionaries included) is pyarrow's; this module only decides when a
whole message is there. Only one message is buffered beyond what has been decoded, so memory
stays bounded by the largest batch whatever the size of the result.

Framing, from the Arrow columnar format's IPC section: each message is ``0xFFFFFFFF``, an int32
metadata length, the metadata (a flatbuffer ``Message`` table, padded) and a body of
``bodyLength`` bytes; a metadata length of 0 ends the stream.
"""

from __future__ import annotations

import collections
import importlib
import io
import struct
from typing import Any

__all__ = ["ArrowStreamDecoder"]

_CONTINUATION = 0xFFFFFFFF
# MessageHeader union members (Message.fbs).
_SCHEMA, _DICTIONARY_BATCH, _RECORD_BATCH = 1, 2, 3
# Field slots of the Message table: version, header_type, header, bodyLength, custom_metadata.
_HEADER_TYPE_SLOT, _BODY_LENGTH_SLOT = 1, 3


def _field_offset(meta: bytes, table: int, vtable: int, slot: int) -> int:
    """Where a field of the flatbuffer table starts (0 when absent: the default applies)."""
    vtable_size = struct.unpack_from("<H", meta, vtable)[0]
    entry = 4 + 2 * slot
    if entry >= vtable_size:
        return 0
    offset: int = struct.unpack_from("<H", meta, vtable + entry)[0]
    return table + offset if offset else 0


def _frame(data: bytes | bytearray) -> tuple[int, int] | None:
    """(size in bytes, header type) of the first message in ``data``; None until it is all
    there. Header type 0 with size 8 is the end of the stream."""
    if len(data) < 8:
        return None
    continuation, meta_length = struct.unpack_from("<Ii", data, 0)
    if continuation != _CONTINUATION or meta_length < 0:
        raise ValueError("not an Arrow IPC stream (missing continuation marker)")
    if meta_length == 0:
        return 8, 0
    if len(data) < 8 + meta_length:
        return None
    meta = bytes(data[8 : 8 + meta_length])
    try:
        table = struct.unpack_from("<I", meta, 0)[0]
        vtable = table - struct.unpack_from("<i", meta, table)[0]
        header_at = _field_offset(meta, table, vtable, _HEADER_TYPE_SLOT)
        header_type = meta[header_at] if header_at else 0
        body_at = _field_offset(meta, table, vtable, _BODY_LENGTH_SLOT)
        body_length = struct.unpack_from("<q", meta, body_at)[0] if body_at else 0
    except (struct.error, IndexError) as exc:
        raise ValueError(f"malformed Arrow IPC message header: {exc}") from exc
    if body_length < 0:
        raise ValueError("malformed Arrow IPC message header: negative body length")
    size = 8 + meta_length + body_length
    return (size, header_type) if len(data) >= size else None


class _Messages(io.RawIOBase):
    """Whole messages not yet read by pyarrow's stream reader, as a file (reads never block)."""

    def __init__(self) -> None:
        self._chunks: collections.deque[memoryview] = collections.deque()

    def append(self, message: bytearray) -> None:
        self._chunks.append(memoryview(message))

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        if not self._chunks:
            return 0
        first = self._chunks[0]
        n = min(len(target), len(first))
        target[:n] = first[:n]
        if n == len(first):
            self._chunks.popleft()
        else:
            self._chunks[0] = first[n:]
        return n


class ArrowStreamDecoder:
    """Feed it the bytes of an Arrow IPC stream in any pieces; get record batches back as soon
    as each is complete. ``schema`` is set once the schema message has arrived; ``done`` once
    the end-of-stream marker has.

    Each message is copied once, into the buffer that collects its pieces; record batches are
    then read from that buffer without another copy. A stream with dictionary-encoded columns
    goes through pyarrow's stream reader instead, which keeps the dictionaries between batches.
    """

    def __init__(self) -> None:
        self._pa = importlib.import_module("pyarrow")
        self._ipc = importlib.import_module("pyarrow.ipc")
        self._pending = bytearray()
        self._messages: _Messages | None = None
        self._reader: Any = None
        self.schema: Any = None
        self.done = False

    def _take(self, size: int) -> bytearray:
        message = self._pending
        if size == len(message):
            self._pending = bytearray()
        else:
            self._pending = message[size:]
            del message[size:]
        return message

    def feed(self, data: bytes) -> list[Any]:
        if self.done:
            if data:
                raise ValueError("data after the end of the Arrow stream")
            return []
        self._pending += data
        batches = []
        while (found := _frame(self._pending)) is not None:
            size, header_type = found
            message = self._take(size)
            if size == 8 and header_type == 0:
                self.done = True
                break
            if header_type == _SCHEMA:
                self.schema = self._ipc.read_schema(self._read_message(message))
                if any(self._has_dictionary(field.type) for field in self.schema):
                    self._messages = _Messages()
                    self._messages.append(message)
                    self._reader = self._ipc.open_stream(self._messages)
            elif self.schema is None:
                raise ValueError("Arrow stream: a message before the schema")
            elif self._messages is not None:  # pyarrow's reader, for the dictionaries
                self._messages.append(message)
                if header_type == _RECORD_BATCH:
                    batches.append(self._reader.read_next_batch())
            elif header_type == _RECORD_BATCH:
                batch_message = self._read_message(message)
                batches.append(self._ipc.read_record_batch(batch_message, self.schema))
            else:
                raise ValueError(f"Arrow stream: unexpected message type {header_type}")
        return batches

    def _has_dictionary(self, arrow_type: Any) -> bool:
        if self._pa.types.is_dictionary(arrow_type):
            return True
        return any(
            self._has_dictionary(arrow_type.field(i).type) for i in range(arrow_type.num_fields)
        )

    def _read_message(self, message: bytearray) -> Any:
        return self._ipc.read_message(self._pa.py_buffer(message))

    def close(self) -> None:
        """Check that the stream ended properly (a cut-off body raises here)."""
        if not self.done:
            raise ValueError("the Arrow stream ended before its end-of-stream marker")
