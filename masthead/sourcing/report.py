"""The readable report `masthead sources` prints: warnings first, then who is quoted and figures.

Each line carries the line number in the file, so an editor can go straight to the words.
"""

from __future__ import annotations


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _clip(words: str, width: int = 90) -> str:
    words = " ".join(words.split())
    return words if len(words) <= width else words[: width - 1] + "…"


def render(path: str, text: str, result: dict) -> str:
    quotes, sources, figures, warnings = (result[k] for k in ("quotes", "sources", "figures", "warnings"))
    out = [f"{path}: {len(quotes)} quotes from {len(sources)} sources, {len(figures)} figures, "
           f"{len(warnings)} warnings"]
    if warnings:
        out.append("\nWarnings")
        for w in warnings:
            out.append(f"  line {_line(text, w['start'])}: {w['code']}: {w['message']}")
            out.append(f"      {_clip(text[w['start']:w['end']])}")
    if sources:
        out.append("\nSources")
        for s in sorted(sources, key=lambda s: (-s["quotes"], s["name"].lower())):
            role = f", {s['role']}" if s.get("role") else ""
            out.append(f"  {s['name']} ({s['type']}{role}): {s['quotes']} quote{'s' * (s['quotes'] != 1)}")
    if quotes:
        out.append("\nQuotes")
        for q in quotes:
            who = q["speaker"] or "NO SPEAKER"
            cue = f" [{q['cue']}]" if q["cue"] else ""
            out.append(f"  line {_line(text, q['start'])}: {who}{cue}, {q['kind']}: {_clip(q['text'], 70)}")
    if figures:
        out.append("\nFigures")
        for f in figures:
            out.append(f"  line {_line(text, f['start'])}: {_clip(f['text'], 50)} (source: {f['source'] or 'NONE'})")
    return "\n".join(out) + "\n"
