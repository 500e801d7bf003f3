"""docs/cli.md's command reference, rendered from the parser itself so it cannot drift.

``cog -r docs/cli.md`` rewrites the reference; ``tests/test_docs.py`` fails when the page and
the parser disagree. The tables come from argparse's actions, not from its help text, so the
page does not change with Python's help formatter or the terminal's width.
"""

from __future__ import annotations

import argparse
import os

from qa.cli import SHORT_USAGE, build_parser


def _parser_without_environment() -> argparse.ArgumentParser:
    """The parser as a user without QA_* variables sees it (--store's default comes from QA_STORE)."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("QA_")}
    try:
        return build_parser()
    finally:
        os.environ.update(saved)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "\\<").replace(">", "\\>").replace("\n", " ")


def _name(action: argparse.Action) -> str:
    if not action.option_strings:
        name = action.metavar or action.dest.upper()
        return f"`{name}...`" if action.nargs in ("+", "*") else f"`{name}`"
    option = max(action.option_strings, key=len)
    if action.nargs == 0:
        return f"`{option}`"
    metavar = action.metavar or (action.dest.upper() if not action.choices else "{" + ",".join(action.choices) + "}")
    if action.nargs in ("+", "*"):
        return f"`{option} {metavar}...`"
    return f"`{option} {metavar}`"


def _default(action: argparse.Action) -> str:
    if action.nargs == 0 or action.default in (None, [], argparse.SUPPRESS) or action.required:
        return ""
    return f"`{action.default}`"


def _table(parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| argument | meaning | default |", "|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        meaning = action.help or ""
        if action.required and action.option_strings:
            meaning = f"required; {meaning}" if meaning else "required"
        rows.append(f"| {_name(action)} | {_cell(meaning)} | {_default(action)} |")
    return rows


def markdown() -> str:
    """Every command and option of ``qa``, as Markdown."""
    parser = _parser_without_environment()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in subparsers._choices_actions}
    lines = ["`qa` with no arguments prints:", "", "```text", SHORT_USAGE.rstrip("\n"), "```", ""]
    lines += ["Options of `qa` itself: `--help`, `--version`.", ""]
    for name, sub in subparsers.choices.items():
        summary = (helps.get(name) or "").strip()
        lines += [f"### qa {name}", "", summary[:1].upper() + summary[1:] + ".", ""]
        if sub.description:
            lines += [sub.description, ""]
        lines += _table(sub)
        lines.append("")
    return "\n".join(lines)
