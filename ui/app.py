"""The Gradio chat: ask about the indexed documents, see the cited sentence in context.

:class:`ChatApp` holds the state and plain handler methods (``respond``,
``add_documents``, ``api_answer``) that tests call directly; :func:`build_ui`
wires them into a ``gr.Blocks``; :func:`serve` launches it with hardened
settings.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.documents import load_document, read_sources
from qa.assistant import Assistant
from qa.config import Settings, bundled_documents
from qa.errors import QAError
from qa.questions.followup import resolve_followup
from ui.render import answer_html, documents_markdown, escape
from ui.security import SameOriginMiddleware

if TYPE_CHECKING:
    import gradio as gr

logger = logging.getLogger(__name__)

EXAMPLES = ("What did Rouhani say?", "Where did Khamenei speak?", "How many missiles did Iran fire?")
UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # an article, not a book; keeps indexing interactive
MAX_UPLOAD_FILES = 10
MAX_UPLOADED_DOCUMENTS = 50  # per chat process: each one is re-indexed with the rest on every upload
ANSWER_CONCURRENCY = 2  # two cores; encode() is serialised anyway
Message = dict[str, Any]


@dataclass(frozen=True)
class Turn:
    """What the chat remembers of the previous turn for follow-ups."""

    searched: str
    answer: str | None


class ChatApp:
    """State and handlers of the chat.

    Uploads and the index that holds them live in one workspace: given
    folders are used as they are; folders it makes itself (a fresh temporary
    workspace) it removes in :meth:`close`, which ``qa serve`` calls on
    shutdown. Every upload re-indexes into the same index folder, so a session
    leaves one index behind at most, not one per set of uploads.

    Args:
        assistant: The assistant over the starting documents.
        base_paths: Those documents' paths (uploads are indexed beside them).
        upload_dir: Where uploaded documents are copied; in a fresh workspace when omitted.
        index_dir: Where the index with uploads lives; in the same workspace when omitted.
    """

    def __init__(
        self,
        assistant: Assistant,
        *,
        base_paths: Sequence[str | Path],
        upload_dir: Path | None = None,
        index_dir: Path | None = None,
    ) -> None:
        self.assistant = assistant
        self.base_paths = [Path(p).resolve() for p in base_paths]
        self._workspace = None if upload_dir and index_dir else Path(tempfile.mkdtemp(prefix="qa-chat-"))
        self.upload_dir = upload_dir or self._own("uploads")
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        self.index_dir = index_dir or self._own("index")
        self._swap_lock = threading.Lock()  # one re-index at a time; answers read the current assistant

    def _own(self, name: str) -> Path:
        assert self._workspace is not None
        return self._workspace / name

    def close(self) -> None:
        """Remove the workspace this app made (uploads and their index); given folders are left alone."""
        if self._workspace is not None:
            shutil.rmtree(self._workspace, ignore_errors=True)
            self._workspace = None

    @property
    def uploads(self) -> list[Path]:
        return sorted(p for p in self.upload_dir.iterdir() if p.is_file())

    # -- handlers ---------------------------------------------------------------

    def respond(
        self, message: str, history: list[Message] | None, previous: Turn | None = None
    ) -> tuple[list[Message], Turn | None, str]:
        """Answer one chat message.

        Returns the new history, the turn to remember, and "" to clear the textbox.
        """
        history = list(history or [])
        assistant = self.assistant  # one consistent snapshot, even if an upload swaps it
        try:
            question = assistant.check_question(message)
        except QAError as exc:
            import gradio as gr

            raise gr.Error(str(exc)) from None
        searched = resolve_followup(
            question, previous.searched if previous else None, previous.answer if previous else None
        )
        trace = assistant.trace(searched)  # its documents come from the snapshot it was answered from
        result = trace.answer
        reply = answer_html(result, trace.cited_documents(), asked=question)
        # The question is shown as typed, never rendered: Markdown in it (an image link) would
        # make the browser fetch an address.
        history += [{"role": "user", "content": escape(question)}, {"role": "assistant", "content": reply}]
        return history, Turn(searched=searched, answer=result.text), ""

    def api_answer(self, question: str) -> dict[str, Any]:
        """The ``answer`` API endpoint: the JSON of ``qa ask --json``."""
        try:
            return self.assistant.answer(question).to_dict()
        except QAError as exc:
            import gradio as gr

            raise gr.Error(str(exc)) from None

    def documents_panel(self) -> str:
        return documents_markdown(*self.assistant.summaries())

    def add_documents(self, files: Sequence[str] | None, progress: Callable[..., Any] | None = None) -> str:
        """Validate uploaded files, copy them beside the corpus and re-index.

        Returns a status line. Raises ``gr.Error`` with a clear message for a
        file of the wrong type, too large, binary, undecodable or empty; nothing
        is added then.
        """
        import gradio as gr

        if not files:
            raise gr.Error("Choose one or more .txt, .md, .html, .pdf or .docx files first.")
        if len(files) > MAX_UPLOAD_FILES:
            raise gr.Error(f"Upload at most {MAX_UPLOAD_FILES} files at a time.")
        if len(self.uploads) + len(files) > MAX_UPLOADED_DOCUMENTS:
            raise gr.Error(
                f"This chat holds at most {MAX_UPLOADED_DOCUMENTS} uploaded documents "
                f"({len(self.uploads)} so far); restart `qa serve` to start over, or index a folder with `qa index`."
            )
        staged: list[tuple[Path, str]] = []
        for raw in files:
            path = Path(raw)
            name = _safe_name(path.name)
            if path.suffix.lower() not in UPLOAD_SUFFIXES:
                raise gr.Error(f"{name}: only {', '.join(UPLOAD_SUFFIXES)} files can be added.")
            size = path.stat().st_size
            if size > MAX_UPLOAD_BYTES:
                raise gr.Error(f"{name}: {size / 1e6:.1f} MB is over the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB limit.")
            try:
                load_document(path)  # type, encoding and emptiness, checked on the content itself
            except QAError as exc:
                raise gr.Error(str(exc).replace(str(path), name)) from None
            staged.append((path, name))

        with self._swap_lock:
            for path, name in staged:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
                target = self.upload_dir / f"{Path(name).stem}-{digest}{Path(name).suffix.lower()}"
                shutil.copyfile(path, target)  # a new name per content: never overwrites anything
            if progress:
                progress(0.3, desc="Indexing")
            if self.assistant.store is not None:
                # Added beside what the store holds (other servers' documents stay), in one transaction.
                self.assistant.store.sync(
                    read_sources(self.uploads),
                    self.assistant.embedder,
                    self.assistant.settings.passages,
                    remove_others=False,
                )
            else:
                self.assistant = Assistant.from_paths(
                    [*self.base_paths, *self.uploads],
                    index_dir=self.index_dir,
                    settings=self.assistant.settings,
                    embedder=self.assistant.embedder,
                    reader=self.assistant.reader,
                )
        names = ", ".join(name for _, name in staged)
        return f"Added {names}. {self.assistant.summaries(0)[1]} document(s) are searchable."


def _safe_name(name: str) -> str:
    """A file name with only safe characters (uploads are never addressed by the given name)."""
    cleaned = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name)).strip("._") or "document"
    return cleaned[:80]


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
                docs = gr.Markdown(app.documents_panel(), elem_id="documents")
                upload = gr.File(
                    label="Add documents (.txt, .md, .html, .pdf, .docx; 2 MB each)",
                    file_count="multiple",
                    file_types=list(UPLOAD_SUFFIXES),
                    elem_id="upload",
                )
                add = gr.Button("Index uploaded files", elem_id="add")
                status = gr.Markdown("", elem_id="upload-status")

        box.submit(
            app.respond,
            [box, chatbot, turn],
            [chatbot, turn, box],
            api_visibility="private",
            concurrency_id="answer",
            concurrency_limit=ANSWER_CONCURRENCY,
        )
        send.click(
            app.respond,
            [box, chatbot, turn],
            [chatbot, turn, box],
            api_visibility="private",
            concurrency_id="answer",
            concurrency_limit=ANSWER_CONCURRENCY,
        )
        for button, question in zip(example_buttons, EXAMPLES, strict=True):
            button.click(
                lambda h, t, q=question: app.respond(q, h, t),
                [chatbot, turn],
                [chatbot, turn, box],
                api_visibility="private",
                concurrency_id="answer",
                concurrency_limit=ANSWER_CONCURRENCY,
            )
        clear.click(lambda: ([], None, ""), None, [chatbot, turn, box], api_visibility="private")

        def add_files(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[str, str, None]:  # noqa: B008 - gradio injects progress via this default
            progress(0.05, desc="Checking files")
            message = app.add_documents(files, progress)
            return message, app.documents_panel(), None

        add.click(add_files, [upload], [status, docs, upload], api_visibility="private", concurrency_limit=1)
        # A reload or a new browser session shows what the index holds now, uploads included.
        demo.load(app.documents_panel, None, docs, api_visibility="private")
        gr.api(app.api_answer, api_name="answer", concurrency_id="answer", concurrency_limit=ANSWER_CONCURRENCY)
    return demo


def create_app(
    paths: Sequence[str | Path] | None = None,
    *,
    settings: Settings | None = None,
    upload_dir: Path | None = None,
    show_progress: bool = True,
    store: str | None = None,
) -> ChatApp:
    """Load or build the index (with progress on the terminal) before any question.

    With ``store`` (a ``postgresql://`` URL) the chat answers from that store: made to hold
    ``paths`` when given, else as it is; uploads are added to it.
    """
    if store and not paths:
        return ChatApp(Assistant.from_store(store, settings=settings), base_paths=[], upload_dir=upload_dir)
    base = [Path(p) for p in paths] if paths else bundled_documents()
    assistant = Assistant.from_paths(base, store=store, settings=settings, show_progress=show_progress)
    return ChatApp(assistant, base_paths=base, upload_dir=upload_dir)


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
