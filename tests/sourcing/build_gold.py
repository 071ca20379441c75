"""Turn annotated articles (annotated/NAME.ann) into the scorer's NAME.txt + NAME.gold.json pairs.

Annotating inline keeps every offset right by construction: nobody counts characters by hand, and a
changed sentence moves every span after it. The mark syntax is in GUIDELINES.md.
Run from anywhere: ``python tests/sourcing/build_gold.py [--check]``.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARK = re.compile(r"\{(/?)([qfw])(?:\|([^{}]*))?\}")
KINDS = {"direct", "indirect", "mixed"}
TYPES = {"named", "anonymous", "institutional", "collective"}
CODES = {"unattributed-quote", "conflicting-attribution", "unsourced-figure"}


class AnnotationError(ValueError):
    pass


def _none(value: str) -> str | None:
    value = value.strip()
    return None if value in {"", "-"} else value


def parse(source: str, name: str = "<ann>") -> tuple[str, dict]:
    """Return (plain text, gold dict) for one annotated article."""
    out: list[str] = []
    length = 0
    stack: list[tuple[str, list[str], int, int]] = []
    gold: dict = {"quotes": [], "figures": [], "warnings": []}
    pos = 0
    for match in MARK.finditer(source):
        chunk = source[pos:match.start()]
        if "{" in chunk or "}" in chunk or ("|" in chunk and stack == []):
            raise AnnotationError(f"{name}: stray brace or bar near {chunk[-40:]!r}")
        out.append(chunk)
        length += len(chunk)
        pos = match.end()
        closing, tag, args = match.group(1), match.group(2), match.group(3)
        line = source.count("\n", 0, match.start()) + 1
        if not closing:
            stack.append((tag, (args or "").split("|"), length, line))
            continue
        if not stack or stack[-1][0] != tag:
            raise AnnotationError(f"{name}:{line}: {{/{tag}}} closes nothing open")
        _, fields, start, open_line = stack.pop()
        text = "".join(out)[start:length]
        where = f"{name}:{open_line}"
        if tag == "q":
            if len(fields) != 4:
                raise AnnotationError(f"{where}: quote needs KIND|SPEAKER|TYPE|CUE")
            kind, speaker, stype, cue = (_none(f) for f in fields)
            if kind not in KINDS or (stype is not None and stype not in TYPES):
                raise AnnotationError(f"{where}: bad kind {kind!r} or type {stype!r}")
            if (speaker is None) != (stype is None):
                raise AnnotationError(f"{where}: speaker and type must both be given or both '-'")
            gold["quotes"].append({"text": text, "span": [start, length], "kind": kind,
                                   "speaker": speaker, "speaker_type": stype, "cue": cue})
        elif tag == "f":
            if len(fields) != 2:
                raise AnnotationError(f"{where}: figure needs VALUE|SOURCE")
            value = _none(fields[0])
            gold["figures"].append({"text": text, "span": [start, length],
                                    "value": float(value) if value is not None else None,
                                    "source": _none(fields[1])})
        else:
            code = _none(fields[0]) if fields else None
            if code not in CODES:
                raise AnnotationError(f"{where}: unknown warning code {code!r}")
            gold["warnings"].append({"code": code, "near": text, "span": [start, length],
                                     "why": _none(fields[1]) if len(fields) > 1 else None})
    tail = source[pos:]
    if "{" in tail or "}" in tail:
        raise AnnotationError(f"{name}: stray brace near {tail[:40]!r}")
    if stack:
        raise AnnotationError(f"{name}:{stack[-1][3]}: {{{stack[-1][0]}}} never closed")
    out.append(tail)
    for key in gold:
        gold[key].sort(key=lambda item: item["span"][0])
    return "".join(out), gold


def build(check: bool = False, src: Path = HERE / "annotated", dest: Path = HERE / "dev") -> int:
    """Write (or with check, compare) every pair; return the number of stale or failing files."""
    problems = 0
    dest.mkdir(exist_ok=True)
    for ann in sorted(src.glob("*.ann")):
        try:
            text, gold = parse(ann.read_text(encoding="utf-8"), ann.name)
        except AnnotationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            problems += 1
            continue
        gold = {"document": f"{ann.stem}.txt", **gold}
        pairs = {dest / f"{ann.stem}.txt": text,
                 dest / f"{ann.stem}.gold.json": json.dumps(gold, ensure_ascii=False, indent=1) + "\n"}
        for path, content in pairs.items():
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == content:
                continue
            if check:
                print(f"stale: {path.name} (run build_gold.py)", file=sys.stderr)
                problems += 1
            else:
                path.write_text(content, encoding="utf-8")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a generated file is stale")
    parser.add_argument("--src", type=Path, default=HERE / "annotated")
    parser.add_argument("--dest", type=Path, default=HERE / "dev")
    args = parser.parse_args()
    sys.exit(1 if build(args.check, args.src, args.dest) else 0)


if __name__ == "__main__":
    main()
