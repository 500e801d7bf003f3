"""Score citations and abstention on a JSONL test set (a small stand-in for `qa eval`).

Usage: python scripts/seed_check.py [tests/data/seed_questions.jsonl] [-v]
"""

from __future__ import annotations

import json
import re
import string
import sys
from pathlib import Path


def normalize(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def main() -> None:
    from qa import Assistant

    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    verbose = "-v" in sys.argv
    path = Path(args[0] if args else "tests/data/seed_questions.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assistant = Assistant.from_paths()
    cited_ok = answerable = abstained_ok = unanswerable = false_abstain = 0
    for row in rows:
        r = assistant.answer(row["question"])
        if row["answers"]:
            answerable += 1
            ok = r.citation is not None and any(
                normalize(s) in normalize(r.citation.sentence) for s in row["supporting"]
            )
            cited_ok += ok
            false_abstain += r.abstained
        else:
            unanswerable += 1
            ok = r.abstained
            abstained_ok += ok
        if verbose or not ok:
            mark = "ok " if ok else "BAD"
            print(f"{mark} {row['id']} {r.confidence:.2f} {row['question']!r} -> {r.text!r}")
            if r.citation and not ok:
                print(f"      cited: {r.citation.sentence[:110]!r}")
    print(f"citation accuracy (answerable): {cited_ok}/{answerable} = {cited_ok / max(1, answerable):.3f}")
    print(f"false abstentions (answerable): {false_abstain}")
    print(f"abstained (unanswerable):       {abstained_ok}/{unanswerable} = {abstained_ok / max(1, unanswerable):.3f}")


if __name__ == "__main__":
    main()
