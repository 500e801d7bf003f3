"""The exceptions of both packages (index/ and qa/), as one small tree; qa.errors re-exports them.

    QAError                      base of everything below; catch this at the edge
    ├── QuestionError            the question cannot be asked
    │   ├── EmptyQuestionError
    │   └── QuestionTooLongError
    ├── DocumentError            a document cannot be read or has no text
    │   ├── DocumentNotFoundError
    │   ├── UnreadableDocumentError   binary, or broken UTF-16
    │   ├── DocumentTooLargeError     over the size limit for one document
    │   ├── EmptyDocumentError
    │   └── NoDocumentsError          a directory without readable documents
    ├── IndexStoreError          the index on disk cannot be used
    │   ├── IndexNotFoundError
    │   ├── IndexCorruptError
    │   ├── ModelMismatchError        built with another embedding model
    │   └── StoreUnavailableError     a database store unreachable, without pgvector, other schema
    ├── ModelLoadError           the embedding or reader model cannot be loaded
    ├── ConfigError              a setting is out of range
    └── TestSetError             an evaluation file is malformed

Every message says what to do next; the CLI prints it as one line and the
chat shows it as an error toast.
"""

from __future__ import annotations


class QAError(Exception):
    """Base class of every error this package raises on purpose."""


class QuestionError(QAError, ValueError):
    """The question cannot be asked as given."""


class EmptyQuestionError(QuestionError):
    """The question is empty or only whitespace."""


class QuestionTooLongError(QuestionError):
    """The question is longer than the configured limit."""


class DocumentError(QAError):
    """A document cannot be used."""


class DocumentNotFoundError(DocumentError, FileNotFoundError):
    """A path given as a document does not exist."""


class UnreadableDocumentError(DocumentError):
    """A document is binary, or broken UTF-16."""


class DocumentTooLargeError(DocumentError):
    """The document is over the size limit for one document."""


class DocumentTooCostlyError(UnreadableDocumentError):
    """Reading a document went past a limit of the reading box (:class:`index.readers.box.ReadLimits`)."""


class EmptyDocumentError(DocumentError):
    """A document has no text left after boilerplate removal."""


class NoDocumentsError(DocumentError):
    """A directory holds no readable documents."""


class NoMatchingDocumentError(QAError, ValueError):
    """A document filter (``--document``, ``documents=``) matches none of the indexed documents."""


class IndexStoreError(QAError):
    """The index directory cannot be used."""


class IndexNotFoundError(IndexStoreError):
    """No index exists at the given directory."""


class IndexCorruptError(IndexStoreError):
    """An index file is missing, truncated or fails its checksum."""


class ModelMismatchError(IndexStoreError):
    """The index was built with another embedding model than the one asked for."""


class StoreUnavailableError(IndexStoreError):
    """A database store cannot be reached, lacks the pgvector extension, or holds another schema."""


class ModelLoadError(QAError):
    """The embedding model cannot be loaded."""


class ConfigError(QAError, ValueError):
    """A setting is out of range."""


class TestSetError(QAError):
    """An evaluation file cannot be read or contradicts its corpus."""

    __test__ = False  # not a pytest test class, despite the name
