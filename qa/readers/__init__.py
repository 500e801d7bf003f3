"""Readers: what turns a question and retrieved passages into candidate spans.

``base`` holds the protocol every reader meets (``Reader``, ``Candidate``, ``Reading``)
and the sentence-only baseline; ``extractive`` the trained ONNX reader (and any
Hugging Face QA model through torch); ``decoding`` the best-span search they share.
"""

from qa.readers.base import Candidate, Reader, Reading, SentenceOnlyReader

__all__ = ["Candidate", "Reader", "Reading", "SentenceOnlyReader"]
