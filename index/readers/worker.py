"""The reading box's worker process (see :mod:`index.readers.box`): ``python -m index.readers.worker CPU MEMORY``.

It imports the readers first, then limits itself: the memory limit is its own address space
now plus ``MEMORY`` MiB; the CPU limit is set before each request to the CPU used so far plus
``CPU`` seconds (the kernel ends the process with SIGXCPU past it). Requests and replies are
length-prefixed JSON headers with a byte blob, on standard input and output.
"""

from __future__ import annotations

import json
import logging
import math
import os
import resource
import sys
from typing import Any, BinaryIO


def _read(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError
    return data


def _receive(stream: BinaryIO) -> tuple[dict[str, Any], bytes]:
    header = json.loads(_read(stream, int.from_bytes(_read(stream, 8), "big")))
    return header, _read(stream, int.from_bytes(_read(stream, 8), "big"))


def _reply(stream: BinaryIO, header: dict[str, Any], blob: bytes = b"") -> None:
    head = json.dumps(header).encode("ascii")  # ASCII: a lone surrogate in a text survives as \\udxxx
    stream.write(len(head).to_bytes(8, "big") + head + len(blob).to_bytes(8, "big") + blob)
    stream.flush()


def _address_space() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _handle(header: dict[str, Any], blob: bytes) -> tuple[Any, bytes]:
    if header["op"] == "extract":
        from index.readers.extract import extract

        found = extract(blob, header["name"], header["suffix"])
        return {"text": found.text, "markdown": found.markdown, "pages": list(found.pages)}, b""
    if header["op"] == "page":
        from index.readers.page_image import highlighted_page

        spans = [(int(a), int(b)) for a, b in header["spans"]]
        made = highlighted_page(header["path"], header["sha256"], spans, width=int(header["width"]))
        return (None, b"") if made is None else ({"page": made[0]}, made[1])
    raise ValueError(f"unknown request {header['op']!r}")


class _Collect(logging.Handler):
    """The warnings of one request, sent back with its reply and logged there by the caller's loggers."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[list[Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append([record.name, record.levelno, record.getMessage()[:2000]])


def main(argv: list[str]) -> int:
    cpu, memory_mib = float(argv[0]), int(argv[1])
    requests, replies = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to standard error, never into a reply
    from index.errors import DocumentError
    from index.readers import docx, extract, html, page_image, pdf  # noqa: F401 - imported before the limits

    collect = _Collect()
    logging.getLogger().addHandler(collect)
    logging.getLogger().setLevel(logging.WARNING)
    if sys.platform.startswith("linux"):
        limit = _address_space() + memory_mib * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        try:
            header, blob = _receive(requests)
        except EOFError:
            return 0
        usage = resource.getrusage(resource.RUSAGE_SELF)
        resource.setrlimit(
            resource.RLIMIT_CPU, (math.ceil(usage.ru_utime + usage.ru_stime + cpu), resource.RLIM_INFINITY)
        )
        collect.records = []
        try:
            result, out = _handle(header, blob)
        except DocumentError as exc:
            _reply(replies, {"error": {"kind": type(exc).__name__, "message": str(exc)}})
        except MemoryError:
            _reply(replies, {"error": {"kind": "memory", "message": ""}})
            return 1  # a process that ran out of memory may hold half-made state: the next file gets a new one
        except RecursionError:
            _reply(replies, {"error": {"kind": "recursion", "message": ""}})
            return 1
        except Exception as exc:  # a reader's own failure on a damaged file: a refusal, not a crash
            name = header.get("name") or header.get("path")
            message = f"{name}: cannot be read ({type(exc).__name__}: {exc}); the file may be damaged"
            _reply(replies, {"error": {"kind": "UnreadableDocumentError", "message": message[:500]}})
        else:
            _reply(replies, {"ok": result, "logs": collect.records}, out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
