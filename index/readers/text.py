"""Bytes to text: :func:`decode`.

A byte-order mark is unambiguous, so it wins (UTF-32 before UTF-16: its mark begins with
UTF-16's). Otherwise UTF-8; a file that is UTF-8 apart from a few stray bytes (a Latin-1 "é"
pasted into it) stays UTF-8, each stray byte read as Windows-1252; a file with no UTF-8 at all is
read as Windows-1252 whole (Latin-1 for the five bytes it leaves undefined). NUL bytes outside
UTF-16 and UTF-32 mean a binary file.

The UTF-8 mark is kept as the text's first character (U+FEFF), so offsets count as Python's
``open(path).read()`` does; the sentence splitter never makes it part of a sentence.
"""

from __future__ import annotations

import codecs
import logging
import re

from index.errors import UnreadableDocumentError

logger = logging.getLogger(__name__)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _western(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return _cp1252(error.object[error.start : error.end]), error.end


codecs.register_error("qa-western", _western)


def _cp1252(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode(data: bytes, name: str, declared: str | None = None) -> str:
    """A document's bytes as text (see the module's rules); ``declared`` is an HTML page's own charset.

    Raises:
        UnreadableDocumentError: Binary content, or broken UTF-16 or UTF-32.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise UnreadableDocumentError(f"{name}: broken {encoding} text (byte {exc.start})") from None
    if b"\x00" in data:  # anywhere: a text file with a NUL after 8 KB is still not text
        raise UnreadableDocumentError(
            f"{name}: looks like a binary file; pass a .txt, .md, .html, .pdf or .docx document"
        )
    if declared and declared != "utf-8":
        try:
            return data.decode(declared)
        except UnicodeDecodeError:
            logger.warning("%s says it is %s but is not; reading it as UTF-8", name, declared)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    # Mostly UTF-8 (more valid multi-byte sequences than stray bytes): a stray byte is one character.
    valid = len(_UTF8_SEQUENCE.findall(data))
    stray = len(data.decode("utf-8", errors="replace")) - len(data.decode("utf-8", errors="ignore"))
    if valid > stray:
        logger.warning(
            "%s is UTF-8 with %d stray byte(s), the first at %d; read as Windows-1252", name, stray, first_bad
        )
        return data.decode("utf-8", errors="qa-western")
    logger.warning("%s is not UTF-8; reading it as Windows-1252 (Western European)", name)
    return _cp1252(data)


def normalise(text: str) -> str:
    """Line endings as ``\\n``, once, here, so every offset refers to the same text (as ``open()`` reads it)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
