"""Print the questions a `qa eval --out DIR` run got wrong: python scripts/failures.py DIR"""

import json
import sys

for line in open(f"{sys.argv[1]}/results.jsonl", encoding="utf-8"):
    r = json.loads(line)
    wrong_citation = r["gold_answers"] and not r["raw_citation_correct"]
    wrong_answer = not r["gold_answers"] and r["prediction"] is not None
    if wrong_citation or wrong_answer:
        cited = r["citation"]["sentence"][:90] if r["citation"] else None
        print(r["id"], f"{r['confidence']:.2f}", r["question"], "->", repr(r["raw_prediction"])[:60], "|", cited)
