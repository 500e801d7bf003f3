"""The reading box: untrusted files are read in a worker process with CPU, memory and time limits.

A document is whatever a user drops in, and the readers under it (PDFium, lexbor, libxml2, zlib)
are large native libraries: a file nobody thought of (a PDF form that draws itself twice over, a
stream that inflates to gigabytes) could take the whole machine, or crash the server with everyone
in it. So no document is parsed in the process that answers. :class:`Box` hands the bytes to a
worker (``python -m index.readers.worker``) that runs under ``RLIMIT_CPU`` and ``RLIMIT_AS`` and is
killed at a wall-clock limit; a file past a limit costs at most those limits and a one-line
:class:`~index.errors.DocumentTooCostlyError`, and the next file gets a fresh worker.

Workers are kept and reused (starting one imports the readers: about half a second), one per
concurrent caller, so a slow upload never holds up another user's page image.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.errors import ConfigError, DocumentError, DocumentTooCostlyError, QAError
from index.readers.extract import Extracted

_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding the index package


@dataclass(frozen=True)
class ReadLimits:
    """What reading one file may cost: CPU seconds, memory beyond the worker's own, wall-clock seconds.

    The defaults are some ten times what the largest accepted documents take here (a 1,500,000
    character PDF: about 9 s of CPU and 450 MB; a 20 MiB text file: 2 s).
    """

    cpu_seconds: float = 60.0
    memory_mib: int = 2048
    wall_seconds: float = 120.0

    def __post_init__(self) -> None:
        for name in ("cpu_seconds", "memory_mib", "wall_seconds"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise ConfigError(f"ReadLimits.{name} must be a positive number, got {value!r}")


class BoxError(QAError):
    """The reading box's worker could not be started (a broken installation)."""


def _errors() -> dict[str, type[DocumentError]]:
    """The document errors a worker may report, by name: only these are raised from its replies."""
    from index import errors
    from index.readers.docx import DocxError
    from index.readers.pdf import PdfError

    found = {c.__name__: c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, DocumentError)}
    return {**found, "PdfError": PdfError, "DocxError": DocxError}


def _send(stream: Any, header: dict[str, Any], blob: bytes = b"") -> None:
    head = json.dumps(header).encode("ascii")
    stream.write(len(head).to_bytes(8, "big") + head + len(blob).to_bytes(8, "big"))
    stream.write(blob)
    stream.flush()


class _Worker:
    def __init__(self, limits: ReadLimits) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")]))}
        try:
            # Its own session: a Ctrl-C in the terminal is the parent's to handle; the worker ends
            # when its input closes (the parent is gone) or it is told to.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "index.readers.worker", str(limits.cpu_seconds), str(limits.memory_mib)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            raise BoxError(f"cannot start the document reader ({exc}); reinstall the package") from None

    def call(self, header: dict[str, Any], blob: bytes, deadline: float) -> tuple[dict[str, Any], bytes]:
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            _send(self.process.stdin, header, blob)
        except BrokenPipeError:
            raise EOFError from None
        fd = self.process.stdout.fileno()
        head = json.loads(self._read(fd, int.from_bytes(self._read(fd, 8, deadline), "big"), deadline))
        return head, self._read(fd, int.from_bytes(self._read(fd, 8, deadline), "big"), deadline)

    @staticmethod
    def _read(fd: int, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        while size:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(size, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> int:
        """End the worker now; its exit status (negative: the signal that ended it)."""
        if self.process.poll() is None:
            self.process.kill()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        return self.process.wait()


class Box:
    """Reads documents in worker processes under :class:`ReadLimits` (see the module's notes)."""

    def __init__(self, limits: ReadLimits | None = None) -> None:
        self.limits = limits or ReadLimits()
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def extract(self, data: bytes, name: str, suffix: str) -> Extracted:
        """:func:`index.readers.extract.extract` of the bytes, in a worker.

        Raises:
            DocumentError: The file cannot be read, as the reader says.
            DocumentTooCostlyError: Reading it went past a limit.
        """
        reply, _ = self._call({"op": "extract", "name": name, "suffix": suffix}, data, name)
        return Extracted(reply["text"], bool(reply["markdown"]), tuple(reply["pages"]))

    def page_image(
        self, path: str, text_sha256: str, spans: Sequence[tuple[int, int]], width: int
    ) -> tuple[int, bytes] | None:
        """:func:`index.readers.page_image.highlighted_page` in a worker (None where that gives None)."""
        header = {"op": "page", "path": path, "sha256": text_sha256, "spans": [list(s) for s in spans], "width": width}
        reply, png = self._call(header, b"", Path(path).name)
        return None if reply is None else (int(reply["page"]), png)

    def _call(self, header: dict[str, Any], blob: bytes, name: str) -> tuple[Any, bytes]:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None or worker.process.poll() is not None:
            worker = _Worker(self.limits)
        deadline = time.monotonic() + self.limits.wall_seconds
        try:
            reply, out = worker.call(header, blob, deadline)
        except TimeoutError:
            worker.kill()
            raise DocumentTooCostlyError(self._refusal(name, "wall")) from None
        except (EOFError, OSError, ValueError):
            raise DocumentTooCostlyError(self._refusal(name, self._cause(worker.kill()))) from None
        if "error" in reply:
            error = reply["error"]
            if error["kind"] in ("memory", "recursion"):
                worker.kill()
                raise DocumentTooCostlyError(self._refusal(name, error["kind"]))
            self._keep(worker)
            raise _errors().get(error["kind"], DocumentError)(error["message"])
        self._keep(worker)
        for logger_name, level, message in reply.get("logs", []):
            logging.getLogger(str(logger_name)).log(int(level), "%s", message)
        return reply["ok"], out

    def _keep(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    @staticmethod
    def _cause(status: int) -> str:
        if status == -signal.SIGXCPU:
            return "cpu"
        if status in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS, -signal.SIGKILL):
            return "memory"  # an allocation past RLIMIT_AS aborts native code; the kernel's OOM killer kills
        return f"signal {-status}" if status < 0 else f"exit {status}"

    def _refusal(self, name: str, cause: str) -> str:
        limits = self.limits
        if cause == "cpu":
            return (
                f"{name}: reading it took over {limits.cpu_seconds:g} s of CPU, the limit for one file (a hostile "
                "or broken file?); if it is a real document, raise the limit with --read-cpu SECONDS"
            )
        if cause == "wall":
            return (
                f"{name}: reading it took over {limits.wall_seconds:g} s, the limit for one file; "
                "if it is a real document, raise the limit with --read-timeout SECONDS"
            )
        if cause in ("memory", "recursion"):
            return (
                f"{name}: reading it needed over {limits.memory_mib:,} MiB of memory, the limit for one file (or "
                "crashed the reader); if it is a real document, raise the limit with --read-memory MIB"
            )
        return f"{name}: the document reader stopped on this file ({cause}); the file is damaged or hostile"

    def close(self) -> None:
        """End the idle workers (a worker in use ends when its caller is done with it)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


_boxes: dict[ReadLimits, Box] = {}
_boxes_lock = threading.Lock()


def box_for(limits: ReadLimits | None = None) -> Box:
    """The process's box for these limits (the defaults when None), made on first use and kept."""
    key = limits or ReadLimits()
    with _boxes_lock:
        if key not in _boxes:
            _boxes[key] = Box(key)
        return _boxes[key]


@atexit.register
def _close_all() -> None:
    with _boxes_lock:
        boxes = list(_boxes.values())
    for box in boxes:
        box.close()
