"""Who a speaker phrase names: a person, an anonymous source, an institution or a group.

The article introduces people once with a full name and a role ("National Security Council
spokesman John Kirby") and then calls them "Kirby", "he" or "the spokesman". A reader resolves
those references to the fullest name; this module does the same with a register of the people the
article names, built before any quote is attributed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from masthead.sourcing.lexicon import Lexicon

WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ0-9][\w'’.&-]*")
_ABBR = r"(?:Mr|Mrs|Ms|Dr|Prof|Lt|Col|Gen|Sgt|Capt|Gov|Sen|Rep|Det|Insp|Supt|Cllr|St|Jr|Sr|Rev|[A-Z])\."
_NONSPACE = re.compile(r"\S+")
_PRONOUN_AFTER = re.compile(r"\b(?:she|her|hers|herself|he|his|him|himself)\b", re.I)
_CAP_RUN = re.compile(
    (r"(?<![\w’'])(?:ABBR|[A-ZÀ-Ö][\w'’&-]*)(?:[ \t]+(?:ABBR|[A-ZÀ-Ö][\w'’&-]*|(?:de|van|von|der|bin|al|da|del|di|du|la|le|ben|ibn|of|for|and|&)(?=[ \t]+[A-Z])))*").replace("ABBR", _ABBR)
)
LEADING = {
    "the", "a", "an", "in", "on", "at", "but", "and", "for", "after", "before", "when", "while", "as",
    "if", "this", "that", "it", "he", "she", "they", "we", "i", "our", "their", "his", "her", "its",
    "however", "meanwhile", "yet", "still", "so", "then", "since", "although", "though", "asked",
    "speaking", "according", "last", "next", "on", "by", "with", "from", "to", "of", "under", "during",
    "there", "here", "some", "many", "most", "all", "both", "one", "two", "three", "why", "what", "who",
    "how", "where", "not", "no", "mr", "mrs", "ms", "dr", "prof", "only", "even", "also",
}
NOT_PEOPLE = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", "street", "road", "avenue", "square", "strip", "river", "city", "county", "house",
    "hall", "park", "bridge", "station", "island", "islands", "valley", "mountains", "sea", "ocean",
    "north", "south", "east", "west", "centre", "center", "stadium", "arena", "cup", "league",
    "forces", "news", "times", "post", "journal", "day", "week", "year", "act", "bill", "plan",
}
ABBREVIATED_ROLES = {"lt": "lieutenant", "sgt": "sergeant", "det": "detective", "insp": "inspector",
                     "supt": "superintendent", "gov": "governor", "sen": "senator", "rep": "representative",
                     "prof": "professor", "dr": "doctor", "capt": "captain", "col": "colonel", "gen": "general",
                     "cllr": "councillor", "pc": "constable", "ds": "sergeant", "di": "inspector"}
PRONOUNS = {"he": "m", "she": "f", "him": "m", "her": "f"}
PLURAL_PRONOUNS = {"they", "we"}
# "The company said": a story's company is the organisation it names most; an agency or a
# regulator is too often a second organisation to guess.
GENERIC_ORGS = {"company", "firm", "group", "business", "club", "operator", "retailer", "carrier", "airline",
                "bank", "insurer", "dairy", "processor", "developer", "manufacturer", "supplier", "utility",
                "corporation", "studio", "publisher", "broadcaster", "startup", "chain", "team", "side",
                "brewery", "grocer", "supermarket"}
POSTMODIFIERS = {"with", "familiar", "who", "close", "briefed", "speaking", "knowledgeable", "from",
                 "at", "in", "for", "involved", "not", "on", "of", "authorised", "authorized", "that", "along",
                 "near", "across", "outside", "inside", "around", "queuing", "waiting", "living", "working",
                 "gathered", "standing", "attending", "based", "behind", "who", "whose", "coming", "leaving",
                 "arriving", "protesting", "watching", "interviewed", "polled", "surveyed", "affected"}
DETERMINERS = {"a", "an", "one", "two", "three", "four", "five", "six", "several", "some", "many",
               "few", "multiple", "numerous", "various", "another", "other", "more", "most", "dozens"}
TIME_TAIL = re.compile(
    r",?\s+(?:(?:on|last|this|next|early|late|earlier|later)\s+)?(?:yesterday|today|tonight|Monday|Tuesday|Wednesday|"
    r"Thursday|Friday|Saturday|Sunday|week|month|year|morning|afternoon|evening|night)\b.*$"
    r"|,?\s+(?:in|on|at|during)\s+(?:a|an|the|his|her|their|its)\s+(?:\w+\s+)?(?:statement|interview|post|letter|"
    r"speech|call|briefing|conference|news conference|press conference|meeting|email|video|message|podcast|"
    r"broadcast|hearing|session|debate)\b.*$"
    r"|,?\s+(?:earlier|later|previously|separately|again)$"
)


@dataclass
class Person:
    name: str
    roles: set[str] = field(default_factory=set)
    gender: str | None = None
    mentions: list[tuple[int, int]] = field(default_factory=list)

    @property
    def surname(self) -> str:
        return self.name.split()[-1]


@dataclass
class Speaker:
    """A resolved speaker: canonical name, type and, for people, a role when the text gives one."""

    name: str
    type: str
    role: str | None = None


def _words(text: str) -> list[str]:
    return WORD.findall(text)


def _bare(token: str) -> str:
    return token.lower().rstrip(".").replace("’", "'")


class Register:
    """The people an article names, with their roles and where they are mentioned."""

    def __init__(self, text: str, lex: Lexicon) -> None:
        self.text = text
        self.lex = lex
        self.people: dict[str, Person] = {}
        self.orgs: dict[str, str] = {}  # first word or full name -> organisation name as first given
        self._kinds: dict[str, str | None] = {}
        self.by_surname: dict[str, Person] = {}
        self.mentions: list[tuple[int, Person]] = []  # every mention, in text order
        self.speakers_seen: list[tuple[int, Person]] = []  # named speakers, in order of attribution
        self.anonymous_seen: list[tuple[int, Speaker, frozenset[str]]] = []
        self.quoted_spans: list[tuple[int, int]] = []  # set by the analyser once quotations are found
        self._scan()

    # -- building -------------------------------------------------------------------------------
    def _scan(self) -> None:
        singles: list[tuple[int, int, str]] = []
        for m in _CAP_RUN.finditer(self.text):
            run = m.group(0)
            if " " not in run and "\t" not in run:  # one capitalised word: maybe a surname used alone
                word = run.rstrip(".")
                if self._token_kind(run) is None:
                    singles.append((m.start(), m.start() + len(word), word))
                continue
            tokens = [(m.start() + t.start(), t.group(0)) for t in _NONSPACE.finditer(run)]
            kinds = [self._token_kind(tok) for _, tok in tokens]
            if "institution" in kinds:
                first = next((i for i, k in enumerate(kinds) if k != "leading"), 0)
                last = max(i for i, k in enumerate(kinds) if k == "institution")
                of_tail = last + 1 < len(kinds) and tokens[last + 1][1] in CONNECTORS  # "Ministry of Education"
                if last >= first and (last == len(kinds) - 1 or kinds[last + 1] == "title" or of_tail):
                    upto = len(tokens) - 1 if of_tail else last
                    org = " ".join(tok for _, tok in tokens[first:upto + 1]).rstrip(".")
                    self.orgs.setdefault(tokens[first][1].rstrip("."), org)
                    self.orgs.setdefault(org, org)
            if len(tokens) >= 2 and kinds[-1] == "place" and _bare(tokens[-1][1]) in CLUB_SUFFIXES:
                org = " ".join(tok for _, tok in tokens if self._token_kind(tok) != "leading")
                self.orgs.setdefault(org.split()[0], org)  # "Rivermouth City": a club, "Rivermouth" for short
                self.orgs.setdefault(org, org)
            for piece in _split_connectors(tokens):
                self._scan_piece(piece, singles)
        for start, end, token in singles:
            person = self.by_surname.get(token)
            if person is not None and (start, end) not in person.mentions:
                person.mentions.append((start, end))
                self.mentions.append((start, person))
        self.mentions.sort(key=lambda pair: pair[0])

    def _scan_piece(self, tokens: list[tuple[int, str]], singles: list) -> None:
        """One capitalised run without connectors: a person's name after any titles."""
        kinds = [self._token_kind(tok) for _, tok in tokens]
        # The name follows the last title, organisation or place word ("Police Chief Marcus
        # Oyelaran", "Israeli Prime Minister Benjamin Netanyahu").
        cut = max((i for i, k in enumerate(kinds) if k is not None), default=-1)
        titled = [tok for _, tok in tokens[:cut + 1] if self._token_kind(tok) in {"title", "leading"}]
        names = tokens[cut + 1:]
        if not names:
            return
        start = names[0][0]
        end = names[-1][0] + len(names[-1][1])
        words = [tok.rstrip(".") for _, tok in names]
        if not words[0][:1].isupper() or (not titled and re.search(
                r"\b(?:(?:told|tells)\s+(?:the\s+)?|(?:to|for|in|on|with)\s+the\s+)$", self.text[max(0, tokens[0][0] - 12):tokens[0][0]])):
            return  # "told the Western Courier": an outlet, not a person
        if len(words) == 1:
            singles.append((start, end, words[0]))
            if titled:
                self._add(words[0], start, end, titled)
            return
        if len(words) > 4:
            return
        self._add(" ".join(words), start, end, titled)

    def _token_kind(self, token: str) -> str | None:
        kind = self._kinds.get(token, "?")
        if kind == "?":
            kind = self._kinds[token] = self._kind_of(token)
        return kind

    def _kind_of(self, token: str) -> str | None:
        low = _bare(token)
        if low in self.lex.titles or low in ABBREVIATED_ROLES:
            return "title"
        if low in self.lex.institutions:
            return "institution"
        if low in NOT_PEOPLE:
            return "place"
        if low in LEADING:
            return "leading"
        return None

    def _add(self, name: str, start: int, end: int, titled: list[str]) -> None:
        surname = name.split()[-1]
        person = self.people.get(name) or self.by_surname.get(surname)
        if person is not None and name not in self.people and len(name.split()) > 1 \
                and len(person.name.split()) > 1 and person.name.split()[0] != name.split()[0]:
            person = None  # "Ifeoma Abernethy-Oduya" is not her mother "Constance Abernethy-Oduya"
        if person is None:
            person = Person(name)
            self.people[name] = person
            self.by_surname.setdefault(surname, person)
        if person.gender is None:
            person.gender = self._gender_after(end)
        elif len(name.split()) > len(person.name.split()) and person.name.split()[-1] == surname:
            person.name = name
        person.mentions.append((start, end))
        self.mentions.append((start, person))
        for t in titled:
            low = _bare(t)
            if low in {"mr", "sir", "lord", "king", "prince", "father"}:
                person.gender = "m"
            elif low in {"mrs", "ms", "miss", "dame", "lady", "queen", "princess"}:
                person.gender = "f"
        person.roles.update(self._roles_near(start, end, titled))

    def _gender_after(self, end: int) -> str | None:
        """The first personal pronoun after a name, in its sentence ("Ana Lima said her …")."""
        m = _PRONOUN_AFTER.search(self.text, end, min(len(self.text), end + 160))
        if m is None or "." in self.text[end:m.start()]:
            return None
        return "f" if m.group(0).lower() in {"she", "her", "hers", "herself"} else "m"

    def _roles_near(self, start: int, end: int, titled: list[str]) -> set[str]:
        roles = {ABBREVIATED_ROLES.get(_bare(t), _bare(t)) for t in titled}
        roles = {r for r in roles if r in self.lex.role_nouns}
        before = self.text[max(0, start - 80):start]
        if before.rstrip().endswith(","):  # "Fennick's mayor, Jorien Baak-Stevens"
            before = before.rstrip()[:-1]
        before = re.split(r"[,.;:!?\n”“\"]", before)[-1]
        words = [w.lower() for w in _words(before)][-2:]
        roles.update(w for w in words if w in self.lex.role_nouns)
        roles.update(" ".join(words[i:i + 2]) for i in range(len(words) - 1)
                     if " ".join(words[i:i + 2]) in self.lex.role_nouns)
        after = re.match(r",\s+(?:the|a|an|its|their|his|her|[A-Z][\w'’]*’s|[A-Z][\w'’]*'s)?\s*([^,.;]{0,80}?)(?:,|\.|;| who\b| said\b)",
                         self.text[end:end + 100])
        if after:
            head_words = [w.lower() for w in _words(after.group(1).split(" of ")[0].split(" at ")[0])]
            roles.update(w for w in head_words[-2:] if w in self.lex.role_nouns)
            if head_words and head_words[-1].isalpha() and not after.group(1)[:1].isupper():
                roles.add(head_words[-1])  # "a retired obstetrician who …": the appositive's head
            if len(head_words) >= 2 and " ".join(head_words[-2:]) in self.lex.role_nouns:
                roles.add(" ".join(head_words[-2:]))
        predicate = re.match(r"\s+(?:is|was|has been|had been|became|is now|has served as|served as)\s+([^,.;]{0,60})",
                             self.text[end:end + 80])
        if predicate:
            tail = [w.lower() for w in _words(predicate.group(1))][:5]
            roles.update(w for w in tail[:5] if w in self.lex.role_nouns)
        return roles

    # -- resolving ------------------------------------------------------------------------------
    def recent_org(self, pos: int) -> str | None:
        """The organisation "the company" refers to: the one the story has named most often so
        far (its subject), the first named on a tie."""
        best, best_key = None, None
        for name in set(self.orgs.values()):
            first = self.text.find(name)
            if first < 0 or first >= pos:
                continue
            short = name.split()[0]
            count = len(re.findall(rf"\b{re.escape(short)}\b", self.text[:pos]))
            key = (count, -first)
            if best_key is None or key > best_key:
                best, best_key = name, key
        return best

    def org_ending(self, head: str, pos: int) -> str | None:
        """The organisation the story named whose name ends in ``head`` ("the council")."""
        names = [n for n in self.orgs.values() if _bare(n.split()[-1]) == head]
        if not names:
            return None
        before = [n for n in names if 0 <= self.text.find(n) < pos]
        return (before or names)[0]

    def note_speaker(self, pos: int, person: Person) -> None:
        self.speakers_seen.append((pos, person))

    def note_anonymous(self, pos: int, speaker: "Speaker") -> None:
        low = speaker.name.lower()
        if not low.startswith("the "):  # "the officials" refers back; it is never referred to
            self.anonymous_seen.append((pos, speaker, frozenset(_words(low)[:6])))

    def anonymous_with_head(self, head: str, pos: int) -> tuple[int, "Speaker"] | None:
        """The latest-noted unnamed source before ``pos`` whose first words hold ``head``.
        Read from the end: asked once per attribution, it must not cost all earlier ones."""
        for at, speaker, words in reversed(self.anonymous_seen):
            if at < pos and head in words:
                return at, speaker
        return None

    def _quoted(self, pos: int) -> bool:
        """A name inside a quotation is someone the speaker talks about, not a new subject."""
        return any(a <= pos < b for a, b in self.quoted_spans)

    def last_mention(self, person: Person, pos: int) -> int:
        return max((at for at, p in self.mentions if p is person and at < pos), default=-1)

    def person_named(self, token_run: str) -> Person | None:
        name = " ".join(t.rstrip(".") for t in token_run.split())
        if name in self.people:
            return self.people[name]
        parts = name.split()
        return self.by_surname.get(parts[-1]) if parts else None

    def recent_person(self, pos: int, gender: str | None = None, role: str | None = None) -> Person | None:
        """The person most recently mentioned before ``pos`` who fits the gender or role given."""
        best = None
        for at, person in self.mentions:
            if at >= pos:
                break
            if role is not None and role not in person.roles:
                continue
            if gender is not None and person.gender not in (None, gender):
                continue
            best = person
        if best is None and role is not None:  # introduced after the first reference
            best = next((p for _, p in self.mentions if role in p.roles), None)
        return best

    def pronoun(self, pos: int, gender: str) -> Person | None:
        """He/she: the person of that gender named most recently in this or the previous paragraph,
        else the last named speaker of that gender."""
        para = self.text.rfind("\n\n", 0, pos)
        previous = self.text.rfind("\n\n", 0, max(0, para))
        recent = [p for at, p in self.mentions if previous <= at < pos and p.gender in (None, gender)
                  and not self._quoted(at)]
        known = [p for p in recent if p.gender == gender]
        if known:
            return known[-1]
        if recent:
            return recent[-1]
        speakers = [p for at, p in self.speakers_seen if at < pos and p.gender in (None, gender)]
        if speakers:
            return speakers[-1]
        earlier = [p for at, p in self.mentions if at < pos and p.gender in (None, gender)]
        return earlier[-1] if earlier else None


def _strip_time(phrase: str) -> str:
    return TIME_TAIL.sub("", phrase).strip(" ,")


def classify(phrase: str, pos: int, register: Register, lex: Lexicon, after_verb: bool = False) -> Speaker | None:
    """Resolve a speaker phrase found at ``pos`` to a Speaker, or None if it names nobody.

    ``after_verb`` phrases ("said Jane Doe on Monday") may carry a time or setting to drop.
    """
    phrase = phrase.strip(" ,;:—–-\n\t")
    if after_verb:
        phrase = _strip_time(phrase)
    if not phrase:
        return None
    low = phrase.lower()
    words = _words(phrase)
    if not words:
        return None
    lows = [_bare(w) for w in words]
    if low in PRONOUNS:
        person = register.pronoun(pos, PRONOUNS[low])
        if person is None:
            return None
        if person.gender is None:
            person.gender = PRONOUNS[low]
        return Speaker(person.name, "named", _role(person))
    if low in PLURAL_PRONOUNS:
        return None
    if low.removeprefix("the ") in lex.collectives or low in lex.collectives:
        return Speaker(phrase, "collective")
    # An organisation named in capitals with "of": "the Ministry of Health".
    of = re.search(r"\b([A-Z][\w'’-]*)\s+of\s+(?:the\s+)?[A-Z]", phrase)
    if of and _bare(of.group(1)) in lex.institutions:
        return Speaker(_institution_name(phrase), "institutional")
    head_index = _head_index(lows)
    if head_index < len(lows) - 1 and words[head_index][0].isupper() \
            and lows[head_index] not in lex.source_nouns | lex.role_nouns:  # "Neil Varga of Branscombe Police"
        return classify(" ".join(words[: head_index + 1]), pos, register, lex)
    # A noun phrase with a postmodifier ("residents along Mill Road", "a senior officer at Fennick").
    if head_index < len(lows) - 1 and (lows[head_index] in lex.source_nouns | lex.role_nouns | lex.institutions
                                       or (lows[head_index].endswith("s") and lows[head_index].isalpha())):
        return _common_noun(phrase, words, lows, head_index, pos, register, lex)
    # A trailing run of capitalised words is a name ("spokesman John Kirby", "Acme Corp").
    run = _trailing_caps(words)
    if len(run) == 1 and len(words) == 1 and lows[0].endswith("s") and lows[0].isalpha() \
            and (lows[0] in lex.source_nouns or (run[0] not in register.orgs and register.person_named(run[0]) is None
                                                 and lows[0] not in lex.institutions)):
        return Speaker(phrase, "collective")  # "Residents said", capitalised only by the sentence
    if run:
        kinds = [register._token_kind(w) for w in run]
        cut = max((i for i, k in enumerate(kinds) if k is not None), default=-1)
        name_tokens = run[cut + 1:]
        if not name_tokens or any(_bare(w) in lex.institutions for w in name_tokens):
            if any(k == "institution" for k in kinds) or not name_tokens:
                org = " ".join(w for w in run if register._token_kind(w) != "leading")
                if any(k == "institution" for k in kinds):
                    return Speaker(register.orgs.get(org, _institution_name(phrase)), "institutional")
        if name_tokens:
            person = register.person_named(" ".join(name_tokens))
            if person is not None:
                return Speaker(person.name, "named", _role(person) or _role_text(words, run))
            if len(name_tokens) >= 2:
                return Speaker(" ".join(t.rstrip(".") for t in name_tokens), "named", _role_text(words, run))
            titled = len(run) > len(name_tokens)
            if titled:
                return Speaker(name_tokens[0], "named", None)
            org = register.orgs.get(name_tokens[0].rstrip("."))
            if org is None:
                register.orgs[name_tokens[0].rstrip(".")] = name_tokens[0].rstrip(".")
            return Speaker(org or name_tokens[0].rstrip("."), "institutional")
    # An organisation named in capitals with "of": "the Ministry of Health".
    caps = [w for w in words if w[0].isupper()]
    if caps and any(_bare(w) in lex.institutions for w in caps):
        return Speaker(_institution_name(phrase), "institutional")
    return _common_noun(phrase, words, lows, _head_index(lows), pos, register, lex)


def _common_noun(phrase: str, words: list[str], lows: list[str], head_index: int, pos: int, register: Register,
                 lex: Lexicon) -> Speaker | None:
    low = phrase.lower()
    head = lows[head_index]
    modifiers = lows[:head_index]
    rest = " ".join(lows[head_index + 1:])
    if head in lex.institutions:
        name = _institution_name(" ".join(words[: head_index + 1]))
        if lows[0] in {"the", "its", "their"} and len(modifiers) <= 1:  # "the council": named earlier?
            name = register.org_ending(head, pos) or (register.recent_org(pos) if head in GENERIC_ORGS else None) or name
        return Speaker(name, "institutional")
    anonymous_marker = any(a in low for a in lex.anonymity)
    definite = bool(modifiers) and (modifiers[0] in {"the", "its", "their", "his", "her"} or modifiers[0].endswith("'s"))
    role = _role_of(lows[: head_index + 1], lex) or (head if definite else None)
    if definite and head.endswith("s"):  # "the researchers" after "researchers at Pennock University"
        earlier = register.anonymous_with_head(head, pos)
        if earlier is not None:
            return earlier[1]
    if role and definite and not anonymous_marker:
        person = register.recent_person(pos, role=role)
        earlier = register.anonymous_with_head(head, pos)
        if earlier is not None and (person is None or earlier[0] > register.last_mention(person, pos)):
            return earlier[1]  # "the midwife said" after "a midwife who trained under her said"
        if person is not None:
            return Speaker(person.name, "named", role)
    if anonymous_marker and modifiers[:1] in (["a"], ["an"], ["one"], ["two"], ["three"], ["several"], ["some"]):
        return Speaker(phrase, "anonymous")
    if modifiers[:1] in (["a"], ["an"]) and head_index < len(lows) - 1 and head.isalpha():
        return Speaker(phrase, "anonymous")  # "a woman who lives in the flat below"
    if head in lex.source_nouns or head in lex.role_nouns:
        plural = head.endswith("s") and head not in {"boss", "press"} or head in {"people", "staff", "troops"}
        counted = bool(modifiers) and (modifiers[0] in DETERMINERS or modifiers[0].isdigit())
        if anonymous_marker or counted or not plural:
            return Speaker(_anonymous_name(words, head_index, rest, register), "anonymous")
        return Speaker(phrase, "collective")
    if head.isalpha() and (head.endswith("s") or head.endswith("men")) and not modifiers[:1] == ["the"] \
            and head not in NOT_SPEAKERS and len(lows) <= 6:
        return Speaker(phrase, "collective")  # "local fishermen", "shop owners"
    return None


NOT_SPEAKERS = {"this", "its", "his", "was", "has", "is", "as", "us", "news", "reports", "results", "plans",
                "figures", "data", "documents", "papers", "records", "rules", "laws", "talks", "this"}


CONNECTORS = {"of", "for", "and", "&"}
CLUB_SUFFIXES = {"city", "town", "county"}


def _split_connectors(tokens: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    pieces: list[list[tuple[int, str]]] = [[]]
    for at, tok in tokens:
        if tok in CONNECTORS:
            pieces.append([])
        else:
            pieces[-1].append((at, tok))
    return [p for p in pieces if p]


def _trailing_caps(words: list[str]) -> list[str]:
    run: list[str] = []
    for w in reversed(words):
        if w[0].isupper() or (run and _bare(w) in {"de", "van", "von", "der", "bin", "al", "da", "del", "di", "la", "le",
                                                   "of", "for", "and", "&"}):
            run.insert(0, w)
        else:
            break
    return run


def _head_index(lows: list[str]) -> int:
    for i, w in enumerate(lows):
        if i > 0 and w in POSTMODIFIERS:
            return i - 1
    return len(lows) - 1


def _role_of(words: list[str], lex: Lexicon) -> str | None:
    if len(words) >= 2 and " ".join(words[-2:]) in lex.role_nouns:
        return " ".join(words[-2:])
    return words[-1] if words and words[-1] in lex.role_nouns else None


def _role(person) -> str | None:
    return sorted(person.roles)[0] if person.roles else None


def _role_text(words: list[str], run: list[str]) -> str | None:
    before = words[: len(words) - len(run)]
    return " ".join(before) if before else None


def _institution_name(phrase: str) -> str:
    return re.sub(r"\s+in a statement.*$", "", phrase).strip()


def _anonymous_name(words: list[str], head_index: int, rest: str, register: Register) -> str:
    """Anonymous sources keep their phrase; "the official" refers back to "an official"."""
    phrase = " ".join(words)
    if words[0].lower() == "the":
        tail = " ".join(w.lower() for w in words[1:])
        earlier = register.text.lower().find(f"a {tail}")
        if earlier < 0:
            earlier = register.text.lower().find(f"an {tail}")
        if earlier >= 0:
            return register.text[earlier:earlier + len(tail) + (2 if register.text[earlier + 1] == " " else 3)]
    return phrase
