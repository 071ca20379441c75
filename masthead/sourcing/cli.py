"""`masthead sources FILE... [--json]`: the sourcing analysis of article files.

It runs without Django (the `masthead` entry point dispatches here before setting Django up), so it
starts fast enough to run once per file in scripts and the scorer. Exit status: 0 when every file
was analysed, 1 when any could not be read (each gets one `error: FILE: reason` line on stderr,
and the other files are still analysed).
"""

from __future__ import annotations

import argparse
import json
import sys

from masthead.sourcing.analyser import analyse
from masthead.sourcing.inputs import InputError, read_article
from masthead.sourcing.report import render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="masthead sources",
        description="Who is quoted in an article, on whose word, and what an editor should check.")
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="article as the seed's text form, plain text (UTF-8) or a saved HTML page")
    parser.add_argument("--json", action="store_true",
                        help="print the analysis as JSON (one document per line for several files)")
    parser.add_argument("--language", default="en", help="language of the rules (default: en)")
    args = parser.parse_args(argv)
    failed = 0
    for index, path in enumerate(args.files):
        try:
            article = read_article(path)
            result = analyse(article.text, args.language)
        except (InputError, ValueError) as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        if args.json:
            result = {**result, "input": {"path": path, "form": article.form}}
            if article.form == "html":
                result["input"]["text"] = article.text
            indent = None if len(args.files) > 1 else 1
            print(json.dumps(result, ensure_ascii=False, indent=indent))
        else:
            print(("\n" if index else "") + render(path, article.text, result), end="")
    return 1 if failed else 0
