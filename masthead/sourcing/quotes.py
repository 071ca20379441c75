"""Find what was said (direct, indirect and mixed quotes) and attribute it to a speaker.

The rules read the text the way a copy editor does: find an attribution verb, take the noun phrase
that governs it as the speaker, and take as content either the quotation next to it or the clause it
reports. Quoted passages are masked while the frame sentence is read, so punctuation inside a
quotation never confuses the frame.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from operator import attrgetter
from typing import Iterator

from masthead.sourcing.lexicon import Lexicon
from masthead.sourcing.speakers import Register, Speaker, classify
from masthead.sourcing.text import MASK, Segment

TOKEN = re.compile(r"\d[\d,.]*\d|[\w'’&-]+(?:\.[\w'’&-]+)*\.?(?<!\.)|" + MASK + r"+|[^\w\s]")
PASSIVE = {"was", "were", "been", "being", "is", "are", "be", "get", "got"}
NOUN_MARKERS = {"a", "an", "the", "its", "his", "her", "their", "our", "this", "that", "these",
                "those", "no", "any", "every", "each", "some", "of", "to", "for", "phone", "conference"}
BOUNDARY_WORDS = {"after", "before", "as", "when", "while", "because", "since", "although", "though",
                  "but", "if", "so", "what", "where", "whom", "than", "whether", "that", "and", "until",
                  "once", "unless", "comes", "came", "where", "which", "how", "why", "though", "even"}
TELL_VERBS = {"told", "tells", "tell", "assured", "assures",
              "reminded"}
TIME_WORDS = {"on", "in", "at", "last", "this", "next", "earlier", "later", "yesterday", "today",
              "tonight", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
              "week", "month", "year", "morning", "afternoon", "evening", "night", "a", "an", "the",
              "statement", "interview", "call", "with", "reporters", "journalists", "briefing", "news",
              "conference", "press", "release", "post", "posted", "online", "social", "media", "speech",
              "also", "again", "previously", "separately", "recently", "publicly", "privately",
              "repeatedly", "then", "now", "too", "further", "meeting", "letter", "email", "report",
              "to", "of", "during", "by", "for", "his", "her", "their", "its", "radio", "television",
              "tv", "podcast", "hearing", "court", "parliament", "video", "message"}
LEADING_SKIP = {"the", "but", "and", "meanwhile", "however", "yet"}
RESUMED = re.compile(r"[^" + MASK + r".;:]{0,60},\s*" + MASK)
ONLY_QUOTED = re.compile(r"[" + MASK + r"\s,.;:]*")
ADVERBIAL_START = {"on", "in", "at", "during", "to", "last", "this", "earlier", "later", "yesterday", "today",
                   "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "again",
                   "also", "repeatedly", "privately", "publicly", "before", "after", "after", "when", "while",
                   "recently", "separately", "afterwards", "outside", "inside", "from", "via", "by"}
ACCORDING = re.compile(r"\baccording to\b", re.I)
APPOSITIVE_CUT = re.compile(r",\s+(?:an?|the)\s+\w+(?:\s+\w+)?\s+(?:that|which|who)\b")
LABEL_VERBS = {"describes", "described", "describe", "calls", "called", "call", "dubbed", "dubs", "branded",
               "dismissed", "dismisses", "hailed", "hails", "praised",
               "brands", "labelled", "labeled", "termed", "terms"}


@dataclass
class Quote:
    start: int
    end: int
    kind: str
    speaker: Speaker | None
    cue: str | None
    cue_start: int | None = None
    speaker_span: tuple[int, int] | None = None


class Tok:
    """One word, mark or masked quotation of a sentence, with its lowercase form computed once."""

    __slots__ = ("text", "start", "end", "low", "masked")

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text, self.start, self.end = text, start, end
        low = text.lower()
        self.low = low.replace("’", "'") if "’" in low else low
        self.masked = text[0] == MASK


def _tokens(masked: str, start: int, end: int) -> list[Tok]:
    return [Tok(masked[a:b], a, b) for a, b in map(_SPAN, TOKEN.finditer(masked, start, end))]


_SPAN = re.Match.span


def _starts(pattern: re.Pattern, text: str) -> list[int]:
    """Every index where ``pattern`` can match a span of ``text``, overlapping matches included.

    A final word boundary is left out: a span may end inside a word ("who|se"), where `\\b`
    holds at the span's end though not in the whole text. Without it the pattern matches at
    least wherever the real one can, and `_matches` tries the real one at each of those."""
    source = pattern.pattern.removesuffix(r"\b")
    return [m.start() for m in re.finditer(f"(?=(?:{source}))", text, pattern.flags)]


_start = attrgetter("start")


COORDINATOR = re.compile(r",?\s+(?:but|and|while)\s+")
LONG_SPAN = 1000
NINE_WORDS = re.compile(r"\s*(?:\S+\s+){8}\S")
REST_TRIM = frozenset(" ,:;.—–")
STOP = re.compile(r"[" + MASK + r":.;]")
SPACE_BEFORE_QUOTE = re.compile(r"\s*(?=" + MASK + ")")
THREE_WORDS = re.compile(r"\s*\S+\s+\S+\s+\S")  # at least three words, read no further
WORDS = re.compile(r"[a-z]+|According")


class Attributor:
    """Reads one article's sentences and produces its quotes in text order."""

    def __init__(self, text: str, masked: str, segments: list[Segment], sentence_spans: list[tuple[int, int]],
                 register: Register, lex: Lexicon) -> None:
        self.text, self.masked, self.lex, self.register = text, masked, lex, register
        self.segments = segments
        self.seg_at = {s.start: s for s in segments}
        self.sentences = sentence_spans
        self.quotes: list[Quote] = []
        self.claimed: set[int] = set()  # starts of segments already attributed
        self.figure_sentences: set[tuple[int, int]] = set()
        self.last_speaker: tuple | None = None
        self.last_institution: Speaker | None = None
        self.content_end = 0
        self.cue_words = lex.cue_verbs | LABEL_VERBS | {"according", "According"}
        self.quote_starts: set[int] = set()
        self._starts: dict[re.Pattern, list[int]] = {}

    # -- public -----------------------------------------------------------------------------------
    def run(self, figure_spans: list[tuple[int, int]]) -> list[Quote]:
        self.figure_spans = figure_spans
        for s, e in self.sentences:
            self._sentence(s, e)
        self._standalone_segments()
        self.quotes.sort(key=lambda q: q.start)
        return self.quotes

    # -- one sentence -------------------------------------------------------------------------------
    def _sentence(self, s: int, e: int) -> None:
        if self.cue_words.isdisjoint(WORDS.findall(self.masked, s, e)):
            return  # no attribution verb: nothing to attribute here (most sentences of a story)
        toks = _tokens(self.masked, s, e)
        self.current_sentence = s
        if not toks:
            return
        handled_until = s
        for m in ACCORDING.finditer(self.masked, s, e):
            self._according(toks, s, e, m)
            handled_until = e
        i = 0
        while i < len(toks):
            tok = toks[i]
            if tok.start < handled_until or not self._is_cue(toks, i):
                i += 1
                continue
            used = self._attribute(toks, i, s, e)
            i = used if used > i else i + 1

    def _is_cue(self, toks: list[Tok], i: int) -> bool:
        tok = toks[i]
        if (tok.low not in self.lex.cue_verbs and tok.low not in LABEL_VERBS) or not tok.text[0].islower():
            return False
        prev = toks[i - 1].low if i > 0 else ""
        if prev in PASSIVE or prev in NOUN_MARKERS:
            return False
        if prev in {"who", "which"} and (i < 2 or toks[i - 2].low not in {",", "and"}):  # "residents who responded"
            return False
        nxt = toks[i + 1].low if i + 1 < len(toks) else ""
        if tok.low in LABEL_VERBS and MASK not in self.masked[tok.end:tok.end + 16]:
            return False
        if nxt == "to" and tok.low in {"agreed", "agree", "agrees", "promised", "pledged", "vowed", "asked",
                                        "urged", "demanded", "threatened"}:
            return False
        return True

    def _attribute(self, toks: list[Tok], i: int, s: int, e: int) -> int:
        """Try the cue toks[i]; record the quotes it governs; return the index to continue from."""
        verb = toks[i]
        aux_start = i
        while aux_start > 0 and toks[aux_start - 1].low in self.lex.auxiliaries:
            aux_start -= 1
        before = self._last_char(s, toks[aux_start].start)  # "" when the cue opens the sentence
        walked = self._phrase_before(toks, aux_start)[0] if before == "," else []
        inverted = (before in {",", MASK, ""} and not walked
                    and not self._coordinated(toks, aux_start) and self._looks_inverted(toks, i))
        lead_end: int | None
        if inverted:  # "“…,” said the mayor" / "Clause, said Jane Doe, the mayor."
            sp_toks, after_idx = self._phrase_after(toks, i + 1)
            if not sp_toks:
                return i + 1
            speaker_span = (sp_toks[0].start, sp_toks[-1].end)
            speaker = self._speaker(speaker_span, after_verb=True)
            cue, lead_end = verb.text, verb.start
        else:
            sp_toks = walked or self._phrase_before(toks, aux_start)[0]
            cue_end_idx, after_idx = self._cue_object(toks, i)
            cue = self.text[toks[aux_start].start:toks[cue_end_idx].end]
            if sp_toks:
                speaker_span = (sp_toks[0].start, sp_toks[-1].end)
                speaker = self._speaker(speaker_span)
                longer = self._past_boundary(toks, sp_toks) if speaker is None else None
                if longer:  # "Visitors queuing before the doors opened said"
                    speaker_span = (longer[0].start, sp_toks[-1].end)
                    speaker = self._speaker(speaker_span)
                    sp_toks = longer + sp_toks
                lead_end = sp_toks[0].start
            elif self._coordinated(toks, aux_start):  # "…, but admitted …": the same subject
                _, speaker, speaker_span = self.last_speaker
                lead_end = None
            else:
                return i + 1
        if speaker is None:
            return i + 1
        self.last_speaker = (s, speaker, speaker_span)
        rest_start = toks[after_idx].start if after_idx < len(toks) else e
        colon = self._colon_before_quote(rest_start, e)
        if colon:  # "told reporters at an event on Thursday: “…”"
            rest_start = colon.end()
        elif ":" in self.masked[verb.end:rest_start]:  # "said: “…”"
            colon = True
        # What follows the cue, as a span of the masked text: the sentence's rest is read only
        # as far as each test needs, since a run-on sentence can hold a thousand cues.
        rest = self._stripped(rest_start, e)
        if rest and not NINE_WORDS.match(self.masked, *rest) and self._mentions_anonymity(rest):
            rest = None  # "said on condition of anonymity": nothing is reported after the cue
        resumed = rest and RESUMED.match(self.masked, *rest)  # "“…,” he told reporters at the ground, “and …”"
        if resumed:
            rest_start = self.masked.index(MASK, rest_start)
            rest = self._stripped(rest_start, e)
        elif "," in self.masked[toks[i].end:rest_start] and not (rest and self.masked[rest[0]] == MASK) and lead_end is not None:
            rest = None  # "…, aid officials said, the third failed attempt": an aside, not what was said
        if self._last_char(rest_start, e) == ":":
            rest = None  # "told reporters in the capital:" introduces the next paragraph's quotation
        resumes = bool(rest) and self.masked[rest[0]] == MASK
        found = False
        if lead_end is not None:  # content before the speaker: "“…,” she said", "Clause, officials said"
            lead_end = self._before_role(s, lead_end)
            raw = self.masked[s:lead_end]
            lead = raw.rstrip(" ,—–")
            joined = raw.rstrip()[-1:] in {",", MASK, "—", "–"}
            quoted = lead.endswith(MASK)
            if lead and not lead.isspace() and joined and (quoted or (not walked and not colon and (not rest or resumes))):
                found |= self._content(s, s + len(lead), speaker, cue, speaker_span, label=False)
        if rest and (not found or resumes):
            label = verb.low in LABEL_VERBS and MASK in self.masked[verb.end:verb.end + 16]
            found |= self._content(rest_start, e, speaker, cue, speaker_span, label=label, after=True)
        if not found and not rest and self._ends_paragraph_with_colon(e):
            self._next_paragraph_quote(e, speaker, cue, speaker_span)
        if not found:
            return i + 1
        return bisect_left(toks, self.content_end, key=_start)  # the first token after the content

    def _last_char(self, s: int, e: int) -> str:
        """The last character of masked[s:e] that is not white space, or ""."""
        while e > s and self.masked[e - 1].isspace():
            e -= 1
        return self.masked[e - 1] if e > s else ""

    def _stripped(self, s: int, e: int) -> tuple[int, int] | None:
        """masked[s:e] without leading and trailing " ,:;.—–", as a span; None if nothing is left."""
        while s < e and self.masked[s] in REST_TRIM:
            s += 1
        while e > s and self.masked[e - 1] in REST_TRIM:
            e -= 1
        return (s, e) if s < e else None

    def _mentions_anonymity(self, span: tuple[int, int]) -> bool:
        low = self.masked[span[0]:span[1]].lower()
        return any(a in low for a in self.lex.anonymity)

    def _colon_before_quote(self, s: int, e: int) -> re.Match | None:
        """ "told reporters on Thursday: “…”": the whitespace after the colon that is the first
        stop after ``s``, when a quotation follows it."""
        stop = next(self._matches(STOP, s, e), None)
        if stop is None or stop.group() != ":":
            return None
        return SPACE_BEFORE_QUOTE.match(self.masked, stop.end(), e)

    def _before_role(self, s: int, lead_end: int) -> int:
        """“…,” Harrowgate’s managing director, Stefan Aukland, said: the role before the name
        belongs to the speaker, not to what was said."""
        raw = self.masked[s:lead_end].rstrip(" ,")
        cut = max(raw.rfind(","), raw.rfind(MASK))
        chunk = raw[cut + 1:]
        if cut >= 0 and raw[cut] == MASK and any(w.lower() in self.lex.role_nouns for w in re.findall(r"[\w-]+", chunk)):
            return s + cut + 1
        return lead_end

    def _speaker(self, span: tuple[int, int], after_verb: bool = False) -> Speaker | None:
        phrase = self.text[span[0]:span[1]]
        if phrase.lower() == "it":  # "It said …": the organisation that spoke last
            return self.last_institution
        speaker = classify(phrase, span[0], self.register, self.lex, after_verb=after_verb)
        if speaker is not None and speaker.type == "institutional":
            self.last_institution = speaker
        if speaker is not None and speaker.type in {"anonymous", "collective"}:
            self.register.note_anonymous(span[0], speaker)
        return speaker

    def _coordinated(self, toks: list[Tok], aux_start: int) -> bool:
        """A cue right after "and"/"but" shares the subject of the sentence's previous cue."""
        return (aux_start > 0 and toks[aux_start - 1].low in {"and", "but"} and self.last_speaker is not None
                and self.last_speaker[0] == self.current_sentence)

    def _looks_inverted(self, toks: list[Tok], i: int) -> bool:
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        return nxt is not None and not nxt.masked and nxt.text not in ".,;:!?" and nxt.low != "that"

    def _phrase_before(self, toks: list[Tok], end_idx: int) -> tuple[list[Tok], bool]:
        """The speaker phrase ending just before toks[end_idx], and whether it lies before a comma.

        Walks back over a relative clause, an age or a role between commas ("Carla Brandt, who led
        the investigation, told reporters"; "Jane Doe, the mayor, said") to the name before it, and
        takes a name set off by commas ("the opposition group, Ravi Sandhu, argued").
        """
        j = end_idx - 1
        if j >= 1 and toks[j].low in {"who", "which"} and toks[j - 1].text == ",":  # "Providers, who had warned"
            j -= 1
        elif j >= 1 and toks[j].low in {"who", "which"} and toks[j - 1].low == "and":
            # "Lumora, whose app … and which says": back to the relative clause's comma
            j = next((k for k in range(j - 2, 0, -1) if toks[k].text == ","
                      and toks[k + 1].low in {"who", "which", "whose"}), j)
        if j >= 0 and toks[j].text == ",":
            visited: list[list[Tok]] = []
            for _ in range(3):
                chunk, k = self._comma_chunk(toks, j - 1)
                if not chunk:
                    return self._org_in(visited), True
                if self._names_person(chunk):
                    return self._name_part(chunk), True
                if self._parenthetical(chunk) and k >= 0 and toks[k].text == ",":
                    visited.append(chunk)
                    j = k
                    continue
                if chunk[0].text[0].isupper() and self._names_group(chunk, toks, j):
                    return self._name_part(chunk), True
                return self._org_in(visited + [chunk]), True
            return [], False
            return [], False
        out, _ = self._chunk_before(toks, j)
        return out, False

    def _past_boundary(self, toks: list[Tok], phrase: list[Tok]) -> list[Tok]:
        k = toks.index(phrase[0]) - 1
        if k < 0 or toks[k].low not in {"before", "after", "until", "when", "while", "as"}:
            return []
        more, _ = self._chunk_before(toks, k - 1)
        return (more + [toks[k]]) if more and more[0].start == self.current_sentence else []

    def _comma_chunk(self, toks: list[Tok], j: int) -> tuple[list[Tok], int]:
        out: list[Tok] = []
        while j >= 0 and not toks[j].masked and toks[j].text not in ",;:.!?—–(":
            out.insert(0, toks[j])
            j -= 1
            if len(out) > 20:
                return [], j
        return out, j

    def _name_part(self, chunk: list[Tok]) -> list[Tok]:
        """The capitalised name at the end of a chunk ("retired teacher Maureen Okafor-Bell")."""
        k = len(chunk)
        while k > 0 and (chunk[k - 1].text[0].isupper() or chunk[k - 1].text == "."):
            k -= 1
        return chunk[k:] or chunk

    def _chunk_before(self, toks: list[Tok], j: int) -> tuple[list[Tok], int]:
        out: list[Tok] = []
        while j >= 0:
            t = toks[j]
            if t.masked or (len(t.text) == 1 and not t.text.isalnum()) or t.low in BOUNDARY_WORDS:
                break
            if t.low in self.lex.cue_verbs and t.text[0].islower() and out and not (j > 0 and toks[j - 1].low == "who"):
                break
            out.insert(0, t)
            j -= 1
            if len(out) > 20:
                return [], j
        return out, j

    def _parenthetical(self, chunk: list[Tok]) -> bool:
        first = chunk[0]
        return first.text[0].islower() or first.text[0].isdigit() or first.low.endswith("'s") \
            or any(t.low in self.lex.role_nouns for t in chunk[:3])

    def _org_in(self, chunks: list[list[Tok]]) -> list[Tok]:
        """An organisation named inside an appositive ("the pension fund Eastgate Capital")."""
        for chunk in chunks:
            name = self._name_part(chunk)
            if name and name is not chunk and any(t.low in self.lex.institutions for t in name):
                return name
        return []

    def _names_group(self, chunk: list[Tok], toks: list[Tok], comma: int) -> bool:
        """An organisation or group before a parenthetical: "Trackways, which owns the track, said"."""
        words = [t for t in chunk if t.text != "."]
        if not words:
            return False
        head = next((t.low for t in words if t.low not in {"a", "an", "the", "some", "one", "two", "several"}), "")
        if chunk[0].start == self.current_sentence and (head in self.lex.source_nouns or head in self.lex.role_nouns
                                                        or words[0].low in {"a", "an", "one", "two", "several"}):
            return True  # "Supporters of the hospice, several of whom …, said"; "A midwife who …, said"
        name = " ".join(t.text for t in words)
        if name in self.register.orgs or any(t.low in self.lex.institutions for t in words):
            return True
        after = toks[comma + 1].low if comma + 1 < len(toks) else ""
        starts_sentence = chunk[0].start == self.current_sentence
        plural_head = words[-1].low.endswith("s") or words[-1].low.endswith("men")
        return (starts_sentence and words[-1].text[0].isupper() and after in {"which", "whose", "the", "a", "an", "its"}) \
            or (starts_sentence and plural_head and after == "who")

    def _names_person(self, chunk: list[Tok]) -> bool:
        name = self._name_part(chunk)
        words = [t.text for t in name if t.text != "."]
        if not words or not words[-1][0].isupper() or chunk[0].low in {"who", "whose", "which"}:
            return False
        lead = chunk[: len(chunk) - len(name)]
        if lead and lead[-1].low in {"at", "of", "for", "with", "from", "in", "on", "by", "to"}:
            return False  # "a fund manager at Ashgrove Investors": the name is the employer
        return self.register.person_named(" ".join(words)) is not None

    def _phrase_after(self, toks: list[Tok], start_idx: int) -> tuple[list[Tok], int]:
        out: list[Tok] = []
        j = start_idx
        while j < len(toks):
            t = toks[j]
            if t.masked or t.text in ",.;:!?—–" or t.low in {"which", "that", "during", "after", "before", "while", "when", "as"}:
                break
            if t.low == "who":
                end = self._anonymity_end(t.start)
                if end is None:
                    break
                while j < len(toks) and toks[j].end <= end:
                    out.append(toks[j])
                    j += 1
                break
            out.append(t)
            j += 1
        # skip an appositive ("said Jane Doe, the mayor, on Monday") up to the sentence's next part
        k = j
        if k < len(toks) and toks[k].text == ",":
            depth = k + 1
            while depth < len(toks) and not toks[depth].masked and toks[depth].text not in ".;:!?":
                if toks[depth].text == "," and depth + 1 < len(toks) and toks[depth + 1].masked:
                    break
                depth += 1
            k = depth
        while k < len(toks) and not toks[k].masked and toks[k].text not in ",:":
            k += 1
        return out, k

    def _anonymity_end(self, pos: int) -> int | None:
        """End of "who asked not to be named" (and the like) starting at ``pos``, if there is one."""
        window = re.split(r"[,.;:]", self.text[pos:pos + 90].lower())[0]
        ends = [window.find(p) + len(p) for p in self.lex.anonymity if p in window]
        for word in ("named", "identified"):
            if word in window:
                ends.append(window.find(word) + len(word))
        return pos + min(ends) if ends else None

    def _cue_object(self, toks: list[Tok], i: int) -> tuple[int, int]:
        """(index of the cue's last token, index where the reported content starts)."""
        verb = toks[i]
        j = i + 1
        end = i
        limit = min(len(toks), i + 14)
        that_at = next((k for k in range(j, limit) if toks[k].low == "that"
                        and all(not toks[m].masked and toks[m].text not in ",;:" for m in range(j, k))), None)
        between = toks[j:that_at] if that_at is not None else []
        adverbial = not between or between[0].low in ADVERBIAL_START or all(t.low in TIME_WORDS for t in between)
        if that_at is not None and (adverbial or (verb.low in TELL_VERBS and len(between) <= 5)):
            if verb.low in TELL_VERBS:
                end = that_at - 1 if that_at > j else i
            return end, that_at + 1
        if verb.low in TELL_VERBS:
            k = j
            while k < len(toks) and k < j + 5 and not toks[k].masked and toks[k].text not in ",.:;" \
                    and (toks[k].low in TIME_WORDS or toks[k].text[0].isupper() or toks[k].low in {"reporters", "journalists", "lawmakers", "mps"} or k == j):
                k += 1
                if toks[k - 1].low in {"reporters", "journalists", "lawmakers", "mps"} or toks[k - 1].text[0].isupper() and (k >= len(toks) or not toks[k].text[0].isupper()):
                    break
            end = k - 1 if k > j else i
            j = k
        while j < len(toks) and (toks[j].low in TIME_WORDS or (toks[j].text[0].isupper() and toks[j - 1].low in {"on", "in", "with", "to"})) \
                and not toks[j].masked and self._time_run_ends_clean(toks, j):
            j += 1
        while j < len(toks) and toks[j].text in ",:":
            j += 1
        if j < len(toks) and toks[j].low in {"on", "that"}:
            j += 1
        return end, j

    def _time_run_ends_clean(self, toks: list[Tok], j: int) -> bool:
        """Skip adverbials only if they lead to punctuation, a quotation or 'that'."""
        k = j
        while k < len(toks) and (toks[k].low in TIME_WORDS or toks[k].text[0].isupper()) and not toks[k].masked:
            k += 1
        return k >= len(toks) or toks[k].masked or toks[k].text in ",:." or toks[k].low == "that"

    # -- content ------------------------------------------------------------------------------------
    def _content(self, start: int, end: int, speaker: Speaker, cue: str, speaker_span: tuple[int, int],
                 label: bool, after: bool = False) -> bool:
        """Record the quote(s) in [start, end) of the masked text; True if any."""
        chunk = self.masked[start:end]
        stripped = chunk.strip(" ,:;.—–")
        if not stripped:
            return False
        lead = len(chunk) - len(chunk.lstrip(" ,:;.—–"))
        s = start + lead
        e = s + len(stripped)
        segs = [g for g in self.segments if g.start < e and g.end > s]  # may begin paragraphs earlier
        if segs and ONLY_QUOTED.fullmatch(self.masked, s, e):
            for g in segs:
                self._add(g.start, g.end, "direct", speaker, cue, speaker_span)
            return True
        if label and segs:
            g = segs[0]
            self._add(g.start, g.end, "mixed", speaker, cue, speaker_span)
            return True
        if after and segs and self.masked[s] == MASK:
            g = segs[0]
            self._add(g.start, g.end, "direct", speaker, cue, speaker_span)
            return True
        # A reported clause: cut at a trailing appositive and the final stop.
        cut = next(self._matches(APPOSITIVE_CUT, s, e), None)
        if cut and cut.start() > s:
            e = cut.start()
        e = self._coordinated_cut(s, e)
        while e > s and self.text[e - 1] in " .,;:":
            e -= 1
        if not THREE_WORDS.match(self.text, s, e) or self._is_figure_clause(s, e, cue):
            return False
        kind = "mixed" if any(g.start >= s and g.end <= e + 1 for g in self.segments) else "indirect"
        for g in self.segments:
            if g.start >= s and g.end <= e + 1:
                self.claimed.add(g.start)
        self._add(s, e, kind, speaker, cue, speaker_span)  # "said A and that B" is one statement
        return True

    def _coordinated_cut(self, s: int, e: int) -> int:
        """End a reported clause before "…, but admitted …" / "and Harbourton said …": a second
        cue within four words of "and"/"but" starts a statement of its own."""
        for m in self._matches(COORDINATOR, s, e):
            if m.start() > s and not self.cue_words.isdisjoint(WORDS.findall(self.masked, m.end(), min(e, m.end() + 60))[:5]):
                return m.start()
        return e

    def _matches(self, pattern: re.Pattern, s: int, e: int) -> Iterator[re.Match]:
        """What `pattern.finditer(masked, s, e)` yields.

        A run-on sentence can hold a thousand clauses, each searched to the sentence's end: past
        LONG_SPAN characters, only the places where the pattern matches anywhere in the text
        (found once, overlapping ones included) are tried, as within [s, e) a match can start
        nowhere else. Shorter spans are searched directly, which costs less than finding them."""
        if e - s <= LONG_SPAN:
            yield from pattern.finditer(self.masked, s, e)
            return
        starts = self._starts.get(pattern)
        if starts is None:
            starts = self._starts[pattern] = _starts(pattern, self.masked)
        i, after = bisect_left(starts, s), s
        while i < len(starts) and starts[i] < e:
            if starts[i] >= after and (m := pattern.match(self.masked, starts[i], e)):
                yield m
                after = m.end()
            i += 1

    def _is_figure_clause(self, s: int, e: int, cue: str) -> bool:
        return cue == "according to" and any(s <= fs < e for fs, _ in self.figure_spans)

    def _add(self, start, end, kind, speaker, cue, speaker_span) -> None:
        self.content_end = max(self.content_end, end)
        if kind == "direct":
            self.claimed.add(start)
        if start in self.quote_starts:
            return
        self.quote_starts.add(start)
        self.quotes.append(Quote(start, end, kind, speaker, cue, speaker_span=speaker_span))
        if speaker is not None and speaker.type == "named":
            person = self.register.person_named(speaker.name)
            if person is not None:
                self.register.note_speaker(start, person)

    # -- "according to" -------------------------------------------------------------------------------
    def _according(self, toks: list[Tok], s: int, e: int, m: re.Match) -> None:
        after = m.end()
        np_end = _source_phrase_end(self.masked, after, e)
        if np_end is None:
            return
        phrase = self.text[after:np_end].strip()
        if not phrase:
            return
        speaker = classify(phrase, after, self.register, self.lex)
        if speaker is None:
            speaker = Speaker(phrase, "institutional")
        span = (after + len(self.text[after:np_end]) - len(self.text[after:np_end].lstrip()), np_end)
        before = self.masked[s:m.start()].rstrip(" ,—–")
        if before.strip():
            self._content(s, s + len(before), speaker, "according to", span, label=False)
        else:
            self._content(np_end, e, speaker, "according to", span, label=False, after=True)

    # -- quotations no cue claimed ----------------------------------------------------------------------
    def _ends_paragraph_with_colon(self, e: int) -> bool:
        tail = self.text[e - 1:e + 2]
        return tail.startswith(":") and ("\n" in self.text[e:e + 3] or e >= len(self.text) - 1)

    def _next_paragraph_quote(self, e: int, speaker, cue, speaker_span) -> None:
        nxt = next((g for g in self.segments if g.start >= e), None)
        if nxt is not None and self.text[e:nxt.start].strip() == "":
            self._add(nxt.start, nxt.end, "direct", speaker, cue, speaker_span)

    def _standalone_segments(self) -> None:
        """A quotation standing as a sentence with no cue continues the quote before it in the same
        paragraph ("“…,” she said. “…”"); with none before, it is a quote with no speaker."""
        for g in self.segments:
            if g.start in self.claimed:
                continue
            previous = max((q for q in self.quotes if q.end <= g.start and q.kind == "direct"),
                           key=lambda q: q.end, default=None)
            if previous is not None and previous.speaker is not None and "\n" not in self.text[previous.end:g.start] \
                    and self._at_sentence_start(g.start) and len(self.text[g.start:g.end].split()) >= 4:
                self.quotes.append(Quote(g.start, g.end, "direct", previous.speaker, previous.cue,
                                         speaker_span=previous.speaker_span))
                self.claimed.add(g.start)
                continue
            words = self.text[g.start:g.end].split()
            inside_end = self.text[g.end - 2:g.end - 1]
            sentence_like = len(words) >= 5 and (inside_end in ".,!?…" or not g.closed)
            at_start = self._at_sentence_start(g.start)
            if sentence_like and at_start:
                if self._colon_before(g.start):
                    continue
                self.quotes.append(Quote(g.start, g.end, "direct", None, None))

    def _at_sentence_start(self, pos: int) -> bool:
        before = self.text[max(0, pos - 3):pos]
        return pos == 0 or before.strip() == "" or before.rstrip()[-1:] in ".!?:\n" or "\n" in before

    def _colon_before(self, pos: int) -> bool:
        return self.text[:pos].rstrip().endswith(":")


SOURCE_PHRASE_MAX = 160  # "according to the deputy director of the regional office for …" fits
_SOURCE_STOP = re.compile(r"[,.;:" + MASK + r"]")


def _source_phrase_end(masked: str, after: int, e: int) -> int | None:
    """Where the source named after "according to" ends: at the next punctuation or quotation,
    else at the sentence's end; None when the name would be longer than SOURCE_PHRASE_MAX
    characters. Such a run is rarely a name (when one ends it, it is lost with the rest), and
    reading it whole for every "according to" in a sentence of thousands of words with no
    comma would cost the square of its length."""
    start = after
    while start < e and masked[start].isspace():
        start += 1
    limit = min(e, start + SOURCE_PHRASE_MAX + 1)
    stop = _SOURCE_STOP.search(masked, after, limit)
    if stop:
        return stop.start()
    return e if limit == e else None
