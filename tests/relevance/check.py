#!/usr/bin/env python3
"""Validate Selah's retrieval relevance set (standard library only).

Checks tests/relevance/questions.json against tests/relevance/corpus/:
  * questions.json is a JSON array of objects with exactly the string fields
    id, question, doc and answer; ids are unique; at least 50 questions;
  * every doc exists in the corpus;
  * every answer is an exact substring of its doc, found exactly once,
    40-300 characters long, and does not span a blank line (one paragraph);
  * the questions cover at least 40 distinct documents.
It also checks the corpus itself: at least 220 .txt/.md files, each 1-40 KB
of valid UTF-8 without control characters (other than newline), and each
listed in SOURCES.md.

Usage: python3 tests/relevance/check.py   (exit status 0 when everything holds)
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
QUESTIONS = os.path.join(HERE, "questions.json")
SOURCES = os.path.join(HERE, "SOURCES.md")

MIN_QUESTIONS = 50
MIN_DISTINCT_DOCS = 40
MIN_CORPUS_FILES = 220
ANSWER_MIN, ANSWER_MAX = 40, 300
FILE_MIN, FILE_MAX = 1024, 40 * 1024
BLANK_LINE = re.compile(r"\n[ \t]*\n")
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
FIELDS = {"id", "question", "doc", "answer"}


def main():
    errors = []

    # --- corpus
    names = sorted(
        n for n in os.listdir(CORPUS)
        if os.path.isfile(os.path.join(CORPUS, n)) and n.endswith((".txt", ".md"))
    )
    others = sorted(set(os.listdir(CORPUS)) - set(names))
    if others:
        errors.append(f"corpus: unexpected files {others}")
    if len(names) < MIN_CORPUS_FILES:
        errors.append(f"corpus: {len(names)} files, need at least {MIN_CORPUS_FILES}")
    try:
        with open(SOURCES, encoding="utf-8") as f:
            sources = f.read()
    except OSError as e:
        sources = ""
        errors.append(f"SOURCES.md: {e}")
    texts = {}
    total = 0
    for name in names:
        path = os.path.join(CORPUS, name)
        with open(path, "rb") as f:
            raw = f.read()
        total += len(raw)
        if not FILE_MIN <= len(raw) <= FILE_MAX:
            errors.append(f"corpus/{name}: {len(raw)} bytes, outside {FILE_MIN}..{FILE_MAX}")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            errors.append(f"corpus/{name}: not UTF-8 ({e})")
            continue
        if CONTROL.search(text):
            errors.append(f"corpus/{name}: contains control characters")
        if f"`{name}`" not in sources:
            errors.append(f"corpus/{name}: not listed in SOURCES.md")
        texts[name] = text

    # --- questions
    try:
        with open(QUESTIONS, encoding="utf-8") as f:
            questions = json.load(f)
    except (OSError, ValueError) as e:
        errors.append(f"questions.json: {e}")
        questions = []
    if not isinstance(questions, list):
        errors.append("questions.json: not a JSON array")
        questions = []
    if len(questions) < MIN_QUESTIONS:
        errors.append(f"questions.json: {len(questions)} questions, need at least {MIN_QUESTIONS}")

    seen_ids = set()
    docs = set()
    for n, q in enumerate(questions):
        where = f"questions.json[{n}]"
        if not isinstance(q, dict) or set(q) != FIELDS:
            errors.append(f"{where}: must be an object with exactly the fields {sorted(FIELDS)}")
            continue
        if not all(isinstance(q[k], str) and q[k].strip() for k in FIELDS):
            errors.append(f"{where}: every field must be a non-empty string")
            continue
        qid, doc, answer = q["id"], q["doc"], q["answer"]
        where = f"{qid} ({doc})"
        if qid in seen_ids:
            errors.append(f"{where}: duplicate id")
        seen_ids.add(qid)
        docs.add(doc)
        if doc not in texts:
            errors.append(f"{where}: document not in the corpus")
            continue
        if not ANSWER_MIN <= len(answer) <= ANSWER_MAX:
            errors.append(f"{where}: answer is {len(answer)} characters, outside {ANSWER_MIN}..{ANSWER_MAX}")
        if BLANK_LINE.search(answer):
            errors.append(f"{where}: answer spans a blank line")
        count = texts[doc].count(answer)
        if count != 1:
            errors.append(f"{where}: answer found {count} times in the document, need exactly once")
    if len(docs) < MIN_DISTINCT_DOCS:
        errors.append(f"questions.json: {len(docs)} distinct documents, need at least {MIN_DISTINCT_DOCS}")

    for e in errors:
        print(f"FAIL {e}")
    print(
        f"relevance set: {len(questions)} questions over {len(docs)} documents; "
        f"corpus {len(names)} files, {total} bytes: {'FAILED' if errors else 'OK'}"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
