"""The Gradio chat: ask about the indexed documents, see the cited sentence in context.

:class:`ChatApp` holds the state and plain handler methods (``respond``,
``add_documents``, ``api_answer``) that tests call directly; :func:`build_ui`
wires them into a ``gr.Blocks``; :func:`serve` launches it with hardened
settings.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import shutil
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.documents import load_document, read_sources
from qa.assistant import Assistant
from qa.config import Settings, bundled_documents
from qa.errors import QAError
from qa.questions.followup import resolve_followup
from qa.selection import select
from ui.render import answer_html, documents_markdown, escape
from ui.security import SameOriginMiddleware

if TYPE_CHECKING:
    import gradio as gr

logger = logging.getLogger(__name__)

EXAMPLES = ("What did Rouhani say?", "Where did Khamenei speak?", "How many missiles did Iran fire?")
UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # an article, not a book; keeps indexing interactive
MAX_UPLOAD_FILES = 10
MAX_UPLOADED_DOCUMENTS = 50  # per chat process, all sessions together: each is indexed with the rest
MAX_SESSION_UPLOADS = 20  # per browser session, so one visitor cannot use up the chat's share
# A session's uploads go when its page closes (gradio's heartbeat stops). A session that never
# opened the page (a script posting uploads) sends no heartbeat, so it is ended after this long
# without a request; an open page is ended after the longer one without any, as a backstop.
PAGELESS_IDLE_SECONDS = 600.0
PAGE_IDLE_SECONDS = 12 * 3600.0
ANSWER_CONCURRENCY = 2  # two cores; encode() is serialised anyway
Message = dict[str, Any]


@dataclass(frozen=True)
class Turn:
    """What the chat remembers of the previous turn for follow-ups."""

    searched: str
    answer: str | None


class Uploads:
    """One set of uploaded documents, and the assistant over the served documents plus them.

    Every upload re-indexes into the same index folder, reusing the vectors of what was indexed
    before (the served documents' to begin with), so only the new files are embedded.
    """

    def __init__(self, base: Assistant, base_paths: Sequence[Path], upload_dir: Path, index_dir: Path) -> None:
        self.assistant = base
        self.base_paths = list(base_paths)
        self.upload_dir = upload_dir
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        self.index_dir = index_dir
        self.lock = threading.Lock()  # one re-index at a time; answers read the current assistant

    @property
    def files(self) -> list[Path]:
        return sorted(p for p in self.upload_dir.iterdir() if p.is_file())

    def add(self, staged: Sequence[tuple[Path, str, str]]) -> None:
        """Copy checked files in under names of their own and re-index; on any failure, none stays.

        Raises:
            QAError: Indexing failed; the message names each file as the user did, not by its copy here.
        """
        with self.lock:
            added: list[Path] = []
            shown_as: dict[str, str] = {}
            try:
                for path, shown, suffix in staged:
                    data = path.read_bytes()
                    # A new name per content: never overwrites anything. The suffix is the checked one,
                    # apart from the name, so no cleaning or shortening of a name can change a file's type.
                    digest = hashlib.sha256(data).hexdigest()[:8]
                    target = self.upload_dir / f"{_safe_stem(path.name)}-{digest}{suffix}"
                    if any(p.name.endswith(f"-{digest}{suffix}") for p in self.upload_dir.iterdir()):
                        continue  # the same content again, under this name or another: listed once
                    target.write_bytes(data)  # the checked bytes under the checked suffix: read as checked
                    added.append(target)
                    shown_as[str(target)] = shown
                if self.assistant.store is not None:
                    # Added beside what the store holds (other servers' documents stay), in one transaction.
                    self.assistant.store.sync(
                        read_sources(self.files, limits=self.assistant.settings.read_limits),
                        self.assistant.embedder,
                        self.assistant.settings.passages,
                        remove_others=False,
                    )
                else:
                    self.assistant = Assistant.from_paths(
                        [*self.base_paths, *self.files],
                        index_dir=self.index_dir,
                        settings=self.assistant.settings,
                        embedder=self.assistant.embedder,
                        reader=self.assistant.reader,
                        previous=self.assistant.index,
                    )
            except BaseException as exc:
                for target in added:  # a failed upload fails alone and frees its slots
                    target.unlink(missing_ok=True)
                if not isinstance(exc, QAError):
                    raise
                # The check before read the file where the user's browser put it; this reading (a limit
                # crossed only now, near its edge) read the copy, whose path is the server's business.
                message = str(exc)
                for target_path, shown in shown_as.items():
                    message = message.replace(target_path, shown)
                raise type(exc)(message) from None


class ChatApp:
    """State and handlers of the chat.

    The served documents (``assistant``, ``base_paths``) are shared by every visitor. Uploads
    belong to the browser session that made them (``session``: gradio's session hash): another
    session neither lists them nor is answered from them, and neither is the ``answer`` API.
    With ``shared_uploads`` every session and the API share one set of uploads instead, as do
    callers that pass no session (Python code, tests).

    Folders it makes itself (a fresh temporary workspace) it removes in :meth:`close`, which
    ``qa serve`` calls on shutdown; a session's folder goes when its page is closed.

    Args:
        assistant: The assistant over the served documents.
        base_paths: Those documents' paths (uploads are indexed beside them).
        upload_dir: Where the shared uploads are copied; in a fresh workspace when omitted.
        index_dir: Where the index with the shared uploads lives; in the same workspace when omitted.
        shared_uploads: Every session sees every upload (``qa serve --shared-uploads``).
    """

    def __init__(
        self,
        assistant: Assistant,
        *,
        base_paths: Sequence[str | Path],
        upload_dir: Path | None = None,
        index_dir: Path | None = None,
        shared_uploads: bool = False,
    ) -> None:
        self.base = assistant
        self.base_paths = [Path(p).resolve() for p in base_paths]
        self.shared_uploads = shared_uploads
        self._workspace = Path(tempfile.mkdtemp(prefix="qa-chat-"))
        upload_dir, index_dir = upload_dir or self._workspace / "uploads", index_dir or self._workspace / "index"
        self._shared = Uploads(assistant, self.base_paths, upload_dir, index_dir)
        self._sessions: dict[str, Uploads] = {}
        self._sessions_lock = threading.Lock()
        self._last_seen: dict[str, float] = {}  # session -> monotonic time of its last request
        self._pages: set[str] = set()  # sessions whose page loaded (they send heartbeats)

    # The shared uploads: what Python callers, --shared-uploads and sessionless requests use.
    @property
    def assistant(self) -> Assistant:
        return self._shared.assistant

    @property
    def uploads(self) -> list[Path]:
        return self._shared.files

    @property
    def upload_dir(self) -> Path:
        return self._shared.upload_dir

    @property
    def index_dir(self) -> Path:
        return self._shared.index_dir

    def _uploads(self, session: str | None, *, create: bool = False) -> Uploads | None:
        if session is None or self.shared_uploads:
            return self._shared
        with self._sessions_lock:
            found = self._sessions.get(session)
            if found is None and create:
                root = self._workspace / "sessions" / hashlib.sha256(session.encode()).hexdigest()[:16]
                found = Uploads(self.base, self.base_paths, root / "uploads", root / "index")
                self._sessions[session] = found
            return found

    @property
    def active_sessions(self) -> tuple[Uploads, ...]:
        """The uploads of the browser sessions that have added any and are still open."""
        with self._sessions_lock:
            return tuple(self._sessions.values())

    def assistant_for(self, session: str | None) -> Assistant:
        """The assistant a session asks: the served documents and that session's uploads."""
        found = self._uploads(session)
        return found.assistant if found is not None else self.base

    def end_session(self, session: str | None) -> None:
        """Forget a closed page's uploads and remove its folder."""
        if session is None or self.shared_uploads:
            return
        with self._sessions_lock:
            gone = self._sessions.pop(session, None)
            self._last_seen.pop(session, None)
            self._pages.discard(session)
        if gone is not None:
            shutil.rmtree(gone.upload_dir.parent, ignore_errors=True)

    def seen(self, session: str | None, *, page: bool = False, now: float | None = None) -> None:
        """Note a request from ``session`` (``page``: its page loaded) and end sessions idle too long.

        A session whose page never loaded is ended after ``PAGELESS_IDLE_SECONDS`` without a
        request, one with a page after ``PAGE_IDLE_SECONDS``: nothing else would ever free the
        upload slots of a session that sends no heartbeat.
        """
        now = time.monotonic() if now is None else now
        with self._sessions_lock:
            if session is not None:
                self._last_seen[session] = now
                if page:
                    self._pages.add(session)
            idle = [
                s
                for s, last in self._last_seen.items()
                if now - last > (PAGE_IDLE_SECONDS if s in self._pages else PAGELESS_IDLE_SECONDS)
            ]
        for stale in idle:
            self.end_session(stale)

    def close(self) -> None:
        """Remove the workspace this app made (sessions' uploads and indexes); given folders stay."""
        shutil.rmtree(self._workspace, ignore_errors=True)

    # -- handlers ---------------------------------------------------------------

    def respond(
        self,
        message: str,
        history: list[Message] | None,
        previous: Turn | None = None,
        session: str | None = None,
        documents: Sequence[str] | None = None,
    ) -> tuple[list[Message], Turn | None, str]:
        """Answer one chat message; ``documents``: ask only within these (names as the chat shows them,
        or patterns such as ``*.pdf``).

        Returns the new history, the turn to remember, and "" to clear the textbox.
        """
        history = list(history or [])
        self.seen(session)
        assistant = self.assistant_for(session)  # one consistent snapshot, even if an upload swaps it
        try:
            question = assistant.check_question(message)
            chosen = self.chosen_paths(assistant, documents)
        except QAError as exc:
            import gradio as gr

            raise gr.Error(str(exc)) from None
        searched = resolve_followup(
            question, previous.searched if previous else None, previous.answer if previous else None
        )
        trace = assistant.trace(searched, chosen)  # its documents come from the snapshot it was answered from
        result = trace.answer
        reply = answer_html(result, trace.cited_documents(), asked=question, limits=self.base.settings.read_limits)
        # The question is shown as typed, never rendered: Markdown in it (an image link) would
        # make the browser fetch an address.
        history += [{"role": "user", "content": escape(question)}, {"role": "assistant", "content": reply}]
        return history, Turn(searched=searched, answer=result.text), ""

    def api_answer(self, question: str, documents: list[str] | None = None) -> dict[str, Any]:
        """The ``answer`` API endpoint: the JSON of ``qa ask --json``, documents named as served.

        It answers from the served documents (and the shared uploads with ``shared_uploads``),
        never from a session's uploads, and never shows a server path. ``documents``: ask only
        within these (names as served, or patterns such as ``*.pdf``).
        """
        assistant = self.assistant if self.shared_uploads else self.base
        try:
            data = assistant.answer(question, self.chosen_paths(assistant, documents)).to_dict()
        except QAError as exc:
            import gradio as gr

            raise gr.Error(str(exc)) from None
        for citation in [*data["citations"], *([data["closest"]] if data.get("closest") else [])]:
            citation["document"] = self.public_name(citation["document"])
        return data

    def document_choices(self, session: str | None = None, limit: int = 1000) -> list[str]:
        """The documents a session may ask within, named as served (the first ``limit``)."""
        summaries, _ = self.assistant_for(session).summaries(limit)
        return sorted({self.public_name(s.path) for s in summaries})

    def chosen_paths(self, assistant: Assistant, documents: Sequence[str] | str | None) -> list[str] | None:
        """The indexed paths that names as served (or patterns) choose; ``None`` for no choice.

        Raises:
            NoMatchingDocumentError: A name or pattern names no document this assistant holds.
        """
        if documents is None or isinstance(documents, str):
            documents = [documents] if documents else []
        wanted = [d for d in documents if isinstance(d, str) and d.strip()]
        if not wanted:
            return None
        paths = assistant.document_paths()
        by_name: dict[str, list[str]] = {}
        for path in paths:
            by_name.setdefault(self.public_name(path), []).append(path)
        chosen: set[str] = set()
        for name in wanted:
            # A name as the chat shows it is that document; anything else is a pattern, matched as qa ask does.
            chosen.update(by_name.get(name) or select([name], paths) or ())
        return sorted(chosen)

    def public_name(self, path: str) -> str:
        """A document's name as served: relative to the served folder, or the file or upload's name."""
        resolved = Path(path)
        for base in self.base_paths:
            if resolved == base:
                return base.name
            if base.is_dir() and resolved.is_relative_to(base):
                return str(Path(base.name) / resolved.relative_to(base))
        return resolved.name

    def documents_panel(self, session: str | None = None) -> str:
        return documents_markdown(*self.assistant_for(session).summaries())

    def add_documents(
        self, files: Sequence[str] | None, progress: Callable[..., Any] | None = None, session: str | None = None
    ) -> str:
        """Validate uploaded files, copy them beside the corpus and re-index.

        Returns a status line. Raises ``gr.Error`` with a clear message for a file of the wrong
        type (by its extension and its content), too large, binary, undecodable or empty, and for
        a session or chat over its upload limit; nothing is added then.
        """
        import gradio as gr

        if not files:
            raise gr.Error("Choose one or more .txt, .md, .html, .pdf or .docx files first.")
        if len(files) > MAX_UPLOAD_FILES:
            raise gr.Error(f"Upload at most {MAX_UPLOAD_FILES} files at a time.")
        if self.base.store is not None and not self.shared_uploads:
            raise gr.Error(
                "Uploads would go into the shared PostgreSQL store, where every visitor sees them; "
                "start the chat with `qa serve --shared-uploads` to allow that."
            )
        self.seen(session)
        uploads = self._uploads(session, create=True)
        assert uploads is not None
        mine = len(uploads.files)
        limit = MAX_UPLOADED_DOCUMENTS if (session is None or self.shared_uploads) else MAX_SESSION_UPLOADS
        if mine + len(files) > limit:
            raise gr.Error(
                f"This chat holds at most {limit} uploaded documents ({mine} so far); "
                "start a new chat (reload the page) or index a folder with `qa index`."
            )
        if self._all_uploads() + len(files) > MAX_UPLOADED_DOCUMENTS:
            raise gr.Error("The chat holds as many uploads as it takes; try again later, or index with `qa index`.")
        staged: list[tuple[Path, str, str]] = []
        for raw in files:
            path = Path(raw)
            shown = _shown_name(path.name)
            suffix = path.suffix.lower()
            if suffix not in UPLOAD_SUFFIXES:
                raise gr.Error(f"{shown}: only {', '.join(UPLOAD_SUFFIXES)} files can be added.")
            size = path.stat().st_size
            if size > MAX_UPLOAD_BYTES:
                limit_mb = MAX_UPLOAD_BYTES // (1024 * 1024)
                raise gr.Error(f"{shown}: {size / 1e6:.1f} MB is over the {limit_mb} MB limit.")
            try:
                _check_content(path, suffix)
                # Encoding and emptiness, checked on the content itself, in the reading box.
                load_document(path, limits=self.base.settings.read_limits)
            except QAError as exc:
                raise gr.Error(str(exc).replace(str(path), shown)) from None
            staged.append((path, shown, suffix))
        if progress:
            progress(0.3, desc="Indexing")
        try:
            uploads.add(staged)
        except QAError as exc:
            raise gr.Error(f"Nothing was added: {exc}") from None
        names = ", ".join(shown for _, shown, _ in staged)
        return f"Added {names}. {uploads.assistant.summaries(0)[1]} document(s) are searchable."

    def _all_uploads(self) -> int:
        with self._sessions_lock:
            sessions = list(self._sessions.values())
        return len(self._shared.files) + sum(len(s.files) for s in sessions)


class UploadTypeError(QAError):
    """An upload whose content is not what its extension says."""


def _check_content(path: Path, suffix: str) -> None:
    """The content must be what the extension says: a PDF, a Word (zip) file, or text that is neither."""
    with path.open("rb") as handle:
        head = handle.read(1024)
    is_pdf, is_zip = b"%PDF-" in head, head.startswith(b"PK\x03\x04")
    if suffix == ".pdf" and not is_pdf:
        raise UploadTypeError(f"{path.name}: this is not a PDF (no %PDF header); save it as a PDF again")
    if suffix == ".docx" and not is_zip:
        raise UploadTypeError(f"{path.name}: this is not a Word .docx file; save it as .docx again")
    if suffix not in (".pdf", ".docx") and (head.startswith(b"%PDF-") or is_zip):
        kind = "a PDF" if head.startswith(b"%PDF-") else "a zip or Word file"
        raise UploadTypeError(f"{path.name}: this is {kind}, not {suffix} text; give it its real extension")


def _safe_stem(name: str) -> str:
    """A file stem of letters (any script), digits, '-' and '_', never empty, at most 60 characters.

    Uploads are never addressed by the given name, and the type never comes from it: the checked
    suffix is added apart.
    """
    stem = unicodedata.normalize("NFC", Path(name).stem)
    cleaned = re.sub(r"_+", "_", re.sub(r"[^\w-]+", "_", stem)).strip("_-")
    return cleaned[:60] or "document"


def _shown_name(name: str) -> str:
    """The given name for messages: printable, at most 100 characters."""
    printable = "".join(c if c.isprintable() else "?" for c in Path(name).name)
    return printable if len(printable) <= 100 else printable[:60] + "…" + printable[-30:]


CSS = """
.qa-cited { background: #fff3a3; color: inherit; padding: 0 2px; }
.qa-citation { border-left: 4px solid #e0b000; margin: 0.5em 0; padding-left: 0.75em; }
.qa-closest { border-left: 4px dashed #999; margin: 0.5em 0; padding-left: 0.75em; opacity: 0.85; }
.qa-closest-label { opacity: 0.75; font-size: 0.9em; margin-bottom: 0; }
.qa-searched, .qa-confidence, .qa-location { opacity: 0.75; font-size: 0.9em; }
.qa-page-context { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.qa-page { max-width: 100%; width: 420px; border: 1px solid #ccc; }
.qa-page-text { flex: 1; min-width: 16em; }
"""


def _discard_uploaded(files: Sequence[str] | None) -> None:
    """Remove uploaded files from gradio's upload folder (and their folders, once empty).

    The chat keeps its own copy of an accepted file in the session's folder; gradio's would
    otherwise stay servable at ``/gradio_api/file=`` after the session ends. Only paths inside
    gradio's upload folder are touched, never a file a caller passed from elsewhere.
    """
    from gradio.utils import get_upload_folder

    root = Path(get_upload_folder()).resolve()
    for raw in files or []:
        path = Path(raw).resolve()
        if root not in path.parents:
            continue
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the folder gradio made for it, when nothing else is in it
            path.parent.rmdir()


def _session(request: gr.Request | None) -> str | None:
    """The browser session a request comes from (gradio's session hash, one per page load)."""
    return getattr(request, "session_hash", None) or None


def build_ui(app: ChatApp) -> gr.Blocks:
    """Wire the handlers into a Gradio page."""
    import gradio as gr

    with gr.Blocks(title="Ask the article", delete_cache=(3600, 3600)) as demo:
        gr.Markdown("## Ask the article\nAnswers are taken word for word from the document, with the sentence cited.")
        turn = gr.State(None)
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat",
                    height=520,
                    sanitize_html=True,
                    render_markdown=True,
                    elem_id="chat",
                    buttons=["copy"],
                )
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="Ask a question about the document, e.g. What did Rouhani say?",
                        show_label=False,
                        scale=5,
                        elem_id="question",
                        max_lines=3,
                    )
                    send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
                with gr.Row():
                    example_buttons = [gr.Button(q, size="sm") for q in EXAMPLES]
                    clear = gr.Button("Clear chat", size="sm", elem_id="clear")
            with gr.Column(scale=2):
                gr.Markdown("### Documents")
                docs = gr.Markdown(documents_markdown(*app.base.summaries()), elem_id="documents")
                within = gr.Dropdown(
                    choices=app.document_choices(),
                    value=[],
                    multiselect=True,
                    allow_custom_value=True,
                    label="Ask within (every document when empty; names, or a pattern such as *.pdf)",
                    elem_id="within",
                )
                upload = gr.File(
                    label="Add documents (.txt, .md, .html, .pdf, .docx; 2 MB each)",
                    file_count="multiple",
                    file_types=list(UPLOAD_SUFFIXES),
                    elem_id="upload",
                )
                add = gr.Button("Index uploaded files", elem_id="add")
                status = gr.Markdown("", elem_id="upload-status")

        def takes_request(fn: Callable[..., Any]) -> Callable[..., Any]:
            # gradio passes the request to a parameter whose resolved type hint is gr.Request; this
            # module's hints are strings it cannot resolve (gradio is imported here, lazily).
            fn.__annotations__ = {"request": gr.Request}
            return fn

        @takes_request
        def ask(  # type: ignore[no-untyped-def]
            message: str, history: list[Message], previous: Turn | None, chosen: list[str] | None, request: gr.Request
        ):
            return app.respond(message, history, previous, session=_session(request), documents=chosen)

        def ask_example(question: str):  # type: ignore[no-untyped-def]
            @takes_request
            def ask_it(history: list[Message], previous: Turn | None, chosen: list[str] | None, request: gr.Request):  # type: ignore[no-untyped-def]
                return app.respond(question, history, previous, session=_session(request), documents=chosen)

            return ask_it

        for trigger in (box.submit, send.click):
            trigger(
                ask,
                [box, chatbot, turn, within],
                [chatbot, turn, box],
                api_visibility="private",
                concurrency_id="answer",
                concurrency_limit=ANSWER_CONCURRENCY,
            )
        for button, question in zip(example_buttons, EXAMPLES, strict=True):
            button.click(
                ask_example(question),
                [chatbot, turn, within],
                [chatbot, turn, box],
                api_visibility="private",
                concurrency_id="answer",
                concurrency_limit=ANSWER_CONCURRENCY,
            )
        clear.click(lambda: ([], None, ""), None, [chatbot, turn, box], api_visibility="private")

        @takes_request
        def add_files(
            files: list[str] | None,
            request: gr.Request,
            progress: gr.Progress = gr.Progress(),  # noqa: B008 - gradio injects progress via this default
        ) -> tuple[str, str, None, Any]:
            progress(0.05, desc="Checking files")
            session = _session(request)
            try:
                message = app.add_documents(files, progress, session=session)
            finally:
                _discard_uploaded(files)  # copied into the session's folder, or refused: gradio's copy goes
            return message, app.documents_panel(session), None, gr.update(choices=app.document_choices(session))

        @takes_request
        def panel(request: gr.Request) -> tuple[str, Any]:
            session = _session(request)
            app.seen(session, page=True)
            return app.documents_panel(session), gr.update(choices=app.document_choices(session))

        @takes_request
        def forget(request: gr.Request) -> None:
            app.end_session(_session(request))

        add.click(add_files, [upload], [status, docs, upload, within], api_visibility="private", concurrency_limit=1)
        # A new page shows what this session can ask: the served documents (and shared uploads).
        demo.load(panel, None, [docs, within], api_visibility="private")
        demo.unload(forget)  # a closed page's uploads and their index go
        gr.api(app.api_answer, api_name="answer", concurrency_id="answer", concurrency_limit=ANSWER_CONCURRENCY)
    return demo


def create_app(
    paths: Sequence[str | Path] | None = None,
    *,
    settings: Settings | None = None,
    upload_dir: Path | None = None,
    show_progress: bool = True,
    store: str | None = None,
    shared_uploads: bool = False,
) -> ChatApp:
    """Load or build the index (with progress on the terminal) before any question.

    With ``store`` (a ``postgresql://`` URL) the chat answers from that store: made to hold
    ``paths`` when given, else as it is; uploads are added to it.
    """
    if store and not paths:
        assistant = Assistant.from_store(store, settings=settings)
        return ChatApp(assistant, base_paths=[], upload_dir=upload_dir, shared_uploads=shared_uploads)
    base = [Path(p) for p in paths] if paths else bundled_documents()
    assistant = Assistant.from_paths(base, store=store, settings=settings, show_progress=show_progress)
    return ChatApp(assistant, base_paths=base, upload_dir=upload_dir, shared_uploads=shared_uploads)


def launch(  # type: ignore[no-untyped-def]
    app: ChatApp,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    block: bool = True,
    allowed_hosts: Sequence[str] = (),
):
    """Launch with the hardening from RELIABILITY.md; returns the Blocks when not blocking.

    ``allowed_hosts``: names besides IP addresses and localhost that the chat answers under
    (a request with any other ``Host`` is refused: DNS rebinding). ``host`` counts when it is a name.
    """
    from starlette.middleware import Middleware

    demo = build_ui(app)
    demo.queue(max_size=64, default_concurrency_limit=1)
    home = app.assistant.settings.home
    # Block the files and folders we serve from, never a parent such as /tmp: gradio keeps its own
    # upload cache there, and blocking it made every upload fail with a bare "Error".
    blocked = [str(home / "indexes"), str(app.upload_dir), str(app.index_dir), *(str(p) for p in app.base_paths)]
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        prevent_thread_lock=not block,
        max_file_size=MAX_UPLOAD_BYTES,
        strict_cors=True,
        allowed_paths=[],
        blocked_paths=blocked,
        # Refuses state-changing requests from other origins before any route runs (uploads included).
        app_kwargs={"middleware": [Middleware(SameOriginMiddleware, allowed_hosts=[host, *allowed_hosts])]},
        enable_monitoring=False,
        ssr_mode=False,
        mcp_server=False,
        show_error=False,
        quiet=False,
        css=CSS,
        footer_links=["api"],
    )
    return demo
