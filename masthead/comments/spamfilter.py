"""A local statistical spam filter for reader comments, trained by moderators' decisions.

No external service, no third-party packages and no Django: this module is plain Python so it
can be imported and tested on its own. The Django side stores one row per token
(token, spam, ham) plus the two document totals, and to score a comment it needs only the rows
of that comment's tokens.

Method (the one SpamBayes uses; see Gary Robinson, "A Statistical Approach to the Spam
Problem", Linux Journal 107, 2003, and spambayes/classifier.py):

1. ``tokenize`` turns a comment (text, name, email) into a *set* of tokens: lower-cased words
   plus feature tokens such as ``__url__`` or ``__phone__``. Tokens are unique per comment
   (Bernoulli-style), so ``Counts`` counts *documents containing* each token, and a spammer
   cannot outweigh the rest of a comment by repeating one word fifty times.

2. For each token, with ``s``/``h`` the spam/ham documents containing it and ``Ns``/``Nh`` the
   spam/ham document totals, the raw probability that a comment containing it is spam is
   ``p = (s/Ns) / (s/Ns + h/Nh)`` (dividing by the totals corrects for unequal class sizes).
   Robinson's correction pulls rarely seen tokens towards the unknown-word prior ``x = 0.5``
   with strength ``k = 0.45``: ``f = (k*x + n*p) / (k + n)`` where ``n = s + h``. A token seen
   once is thus never treated as certain evidence.

3. Only the most informative tokens are used: those with ``|f - 0.5| >= 0.1``, at most 150,
   strongest first (ties broken by the token itself, so the result is deterministic).

4. The clues are combined with Fisher's method: ``-2 * sum(ln f)`` and ``-2 * sum(ln(1 - f))``
   are each compared with a chi-square distribution with ``2n`` degrees of freedom, giving a
   "hamminess" ``H`` and a "spamminess" ``S``; the score is ``(1 + S - H) / 2``. Unlike plain
   naive-Bayes products this does not saturate at 0 or 1 on every comment: when the evidence
   conflicts the score stays near 0.5 ("unsure"), which a moderator should look at. Everything
   is a sum of logarithms, so nothing underflows however many clues there are.

A comment is spam when its score is at least ``threshold`` (0.9, SpamBayes' default spam
cutoff). Until the filter has seen ``min_docs`` comments of *each* class it answers 0.5 and
flags nothing, so a new site starts with every comment going to the moderators.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "MAX_TOKEN_LENGTH",
    "Counts",
    "SpamFilter",
    "chi2q",
    "token_probability",
    "tokenize",
]

# --- Robinson / SpamBayes parameters (SpamBayes' defaults) -------------------------------------
UNKNOWN_PROBABILITY = 0.5  # x: what a never-seen token is worth
UNKNOWN_STRENGTH = 0.45  # k: how many "documents" the prior is worth
MIN_DISTANCE = 0.1  # ignore tokens with |f - 0.5| below this
MAX_DISCRIMINATORS = 150  # use at most this many tokens per comment

# --- tokenizer ----------------------------------------------------------------------------------
_URL_RE = re.compile(r"\bhttps?://[^\s<>\"'`]+|\bwww\.[^\s<>\"'`]+", re.IGNORECASE)
# Bare "example.com/path" mentions, only for common top-level domains (so "e.g." or
# "end.Next" are not taken for domains).
# Lower case only, and no top-level domain that is also a common word ("it", "me", "de"), so a
# missing space after a full stop ("I agree.It's") is not mistaken for a link.
_BARE_TLDS = (
    "com|net|org|info|biz|io|uk|fr|nl|eu|ru|cn|xyz|top|online|site|shop|club|store|"
    "ly|tk|ml|ga|cf|gq|pw|cc|ws|example|test"
)
_BARE_DOMAIN_RE = re.compile(
    rf"(?<![\w@.-])((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_BARE_TLDS}))\b(/[^\s<>\"'`]*)?"
)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# A run of at least 9 digits written like a telephone number: +44 20 7946 0000, (555) 010-2299.
_PHONE_RE = re.compile(r"(?<![\w.,])\+?\(?\d[\d\s().\-/]{7,}\d(?![\w])")
_MONEY_RE = re.compile(
    r"[$€£¥₹₦]\s?\d[\d,.]*(?:\s?(?:k|m|bn|million|billion)\b)?"
    r"|\b\d[\d,.]*\s?(?:[$€£¥₹₦]|(?:usd|eur|gbp|dollars?|euros?|pounds?|bucks)\b)",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# Letters with digits (or $/@) standing in for letters inside them: v1agra, c4sino, ca$h.
_LEET_RE = re.compile(r"[^\W\d_]+(?:[013457@$][^\W\d_]*)+[^\W\d_]")
_LEET_MAP = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_MAX_WORD = 30
# No token is longer than this (a long host or email domain is cut), so a database column of
# this width stores every token as scored.
MAX_TOKEN_LENGTH = 100
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "edu", "gob", "gouv", "nhs"}


def _host_of(url: str) -> str:
    rest = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url, flags=re.IGNORECASE)
    host = re.split(r"[/\\?#:]", rest, maxsplit=1)[0].lower().rstrip(".")  # "\\" ends it, as in browsers
    host = host.split("@")[-1]
    return host[4:] if host.startswith("www.") else host


def _registered_domain(host: str) -> str:
    """news.example.co.uk -> example.co.uk; a.b.example.com -> example.com (a good-enough guess
    without the public suffix list)."""
    labels = host.split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def _length_bucket(n_words: int) -> str:
    for limit in (3, 10, 30, 80):
        if n_words <= limit:
            return f"__words:<={limit}"
    return "__words:>80"


def tokenize(text: str, name: str = "", email: str = "") -> list[str]:
    """The unique tokens of one comment, in order of first appearance.

    Tokens are unique per call (Bernoulli-style: a comment either contains a token or not);
    see the module docstring. Words are NFKC-normalised and lower-cased; invisible formatting
    characters (zero-width spaces and the like) are removed first, so "vi<ZWSP>agra" is still
    "viagra". Feature tokens start with two underscores and cannot collide with words:

    - links: ``__url__``, ``__urls:1`` / ``__urls:2+``, ``__domain:<host>`` (without "www.")
      and ``__domain:<registered domain>``, ``__urlword:<word in the path>``;
      ``__email_in_text__`` for an address written in the comment;
    - ``__phone__`` (9 to 15 digits written as a phone number), ``__money__`` ("$500", "£4.5m",
      "300 dollars"); their digits are not also counted as numbers;
    - ``__number:<digits>`` instead of the number itself (capped at 5);
    - ``__caps__`` (shouting), ``__exclaim__`` ("!!"), ``__invisible__`` (zero-width characters),
      ``__leet__`` (plus the decoded word: "v1agra" gives "viagra"), ``__longword__``,
      ``__words:<=3`` ... ``__words:>80`` (length);
    - the name: ``__name:<word>``, ``__name_words:<n>``, ``__name_digits__``, ``__name_url__``,
      ``__name:none``;
    - the email: ``__emaildomain:<domain>``, ``__email_digits__``, ``__email_has_name__``,
      ``__email:none`` / ``__email:invalid``.
    """
    out: dict[str, None] = {}

    def add(token: str) -> None:
        out.setdefault(token[:MAX_TOKEN_LENGTH], None)

    text = unicodedata.normalize("NFKC", text or "")
    if any(unicodedata.category(ch) == "Cf" for ch in text):
        add("__invisible__")
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")

    # Links: one __url__ token, the host (and its parent domain), a count, and path words.
    hosts: list[str] = []

    def take_url(match: re.Match[str]) -> str:
        url = match.group(0).rstrip(".,;:!?)]}»”’'\"")
        host = _host_of(url)
        if host:
            hosts.append(host)
            path = url[url.lower().find(host) + len(host) :]
            for piece in re.findall(r"[^\W_]+", path.lower().translate(_LEET_MAP))[:8]:
                if 3 <= len(piece) <= _MAX_WORD and piece.isalpha():
                    add(f"__urlword:{piece}")
        return " "

    text = _URL_RE.sub(take_url, text)
    if _EMAIL_RE.search(text):
        add("__email_in_text__")
        text = _EMAIL_RE.sub(" ", text)
    text = _BARE_DOMAIN_RE.sub(take_url, text)
    if hosts:
        add("__url__")
        add("__urls:1" if len(hosts) == 1 else "__urls:2+")
        for host in hosts:
            add(f"__domain:{host}")
            parent = _registered_domain(host)
            if parent != host:
                add(f"__domain:{parent}")

    # Phone numbers and sums of money become one feature token each, and their digits are not
    # also counted as numbers below (the same evidence should not be counted twice).
    def take_phone(match: re.Match[str]) -> str:
        if 9 <= sum(c.isdigit() for c in match.group(0)) <= 15:
            add("__phone__")
            return " "
        return match.group(0)

    text = _PHONE_RE.sub(take_phone, text)
    if _MONEY_RE.search(text):
        add("__money__")
        text = _MONEY_RE.sub(" ", text)
    if "!!" in text or text.count("!") >= 3:
        add("__exclaim__")

    letters = [c for c in text if c.isalpha()]
    upper = sum(c.isupper() for c in letters)
    shouted_words = {w for w in re.findall(r"\b[^\W\d_]{4,}\b", text) if w.isupper()}
    if (len(letters) >= 12 and upper / len(letters) >= 0.6) or len(shouted_words) >= 3:
        add("__caps__")

    words = _WORD_RE.findall(text.replace("’", "'"))
    add(_length_bucket(len(words)))
    # Leetspeak spans "v1agra" or "ca$h": \w+ would split "ca$h", so look at raw chunks.
    for chunk in re.findall(r"\S+", text):
        for match in _LEET_RE.finditer(chunk):
            plain = match.group(0).lower().translate(_LEET_MAP)
            if plain.isalpha():
                add("__leet__")
                add(plain)
    for word in words:
        word = word.lower()
        if len(word) < 2:
            continue
        if len(word) > _MAX_WORD:
            add("__longword__")
        elif word.isdigit():
            # A number's exact value is mostly noise ("200 participants", "200% bonus"); keep
            # its length only.
            add(f"__number:{min(len(word), 5)}")
        else:
            add(word)

    # The commenter's name: spammers use keywords ("Best Essay Help") and digits.
    name = unicodedata.normalize("NFKC", name or "").strip()
    if not name:
        add("__name:none")
    else:
        if _URL_RE.search(name) or _BARE_DOMAIN_RE.search(name):
            add("__name_url__")
        if any(c.isdigit() for c in name):
            add("__name_digits__")
        name_words = [w.lower() for w in _WORD_RE.findall(name)]
        add(f"__name_words:{min(len(name_words), 4)}")
        for word in name_words[:6]:
            add(f"__name:{word}")

    email = unicodedata.normalize("NFKC", email or "").strip().lower()
    if "@" in email:
        local, _, domain = email.rpartition("@")
        add(f"__emaildomain:{domain}")
        if re.search(r"\d{2,}", local):
            add("__email_digits__")
        if any(len(w) >= 3 and w in local for w in (w.lower() for w in _WORD_RE.findall(name))):
            add("__email_has_name__")
    elif email:
        add("__email:invalid")
    else:
        add("__email:none")

    return list(out)


# --- counts ---------------------------------------------------------------------------------------
@dataclass
class Counts:
    """How many spam and ham comments the moderators have decided, and how many of each
    contained each token. Only tokens of learned comments appear; zero counts are dropped."""

    spam_docs: int = 0
    ham_docs: int = 0
    spam: dict[str, int] = field(default_factory=dict)
    ham: dict[str, int] = field(default_factory=dict)

    def learn(self, tokens: Iterable[str], is_spam: bool, weight: int = 1) -> None:
        """Count one comment as spam or ham. ``weight=-1`` unlearns it, for when a moderator
        reverses a decision (unlearn from the old class, then learn into the new one).

        Tokens are counted once per comment. Unlearning more than was learned raises
        ValueError and changes nothing.
        """
        if not isinstance(weight, int) or isinstance(weight, bool) or weight == 0:
            raise ValueError("weight must be a non-zero integer")
        unique = set(tokens)
        table = self.spam if is_spam else self.ham
        docs = (self.spam_docs if is_spam else self.ham_docs) + weight
        if docs < 0 or any(table.get(t, 0) + weight < 0 for t in unique):
            raise ValueError("cannot unlearn a comment that was not learned")
        if is_spam:
            self.spam_docs = docs
        else:
            self.ham_docs = docs
        for token in unique:
            n = table.get(token, 0) + weight
            if n:
                table[token] = n
            else:
                del table[token]


def token_probability(spam_count: int, ham_count: int, spam_docs: int, ham_docs: int) -> float:
    """Robinson's f(w): the probability that a comment containing the token is spam."""
    spam_count = min(max(spam_count, 0), spam_docs)
    ham_count = min(max(ham_count, 0), ham_docs)
    n = spam_count + ham_count
    if n == 0 or spam_docs <= 0 or ham_docs <= 0:
        return UNKNOWN_PROBABILITY
    spam_ratio = spam_count / spam_docs
    ham_ratio = ham_count / ham_docs
    p = spam_ratio / (spam_ratio + ham_ratio)
    return (UNKNOWN_STRENGTH * UNKNOWN_PROBABILITY + n * p) / (UNKNOWN_STRENGTH + n)


def chi2q(x2: float, v: int) -> float:
    """P(X >= x2) for X chi-square distributed with an even number ``v`` of degrees of freedom."""
    if v <= 0 or v % 2:
        raise ValueError("v must be a positive even number")
    m = x2 / 2.0
    term = math.exp(-m)
    total = term
    for i in range(1, v // 2):
        term *= m / i
        total += term
    return min(total, 1.0)


class SpamFilter:
    """Scores comments from ``Counts``. Reads the counts, never changes them."""

    def __init__(self, counts: Counts, threshold: float = 0.9, min_docs: int = 20):
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be between 0 and 1")
        self.counts = counts
        self.threshold = threshold
        self.min_docs = min_docs

    @property
    def trained(self) -> bool:
        return self.counts.spam_docs >= self.min_docs and self.counts.ham_docs >= self.min_docs

    def clues(self, tokens: Iterable[str]) -> list[tuple[str, float]]:
        """The tokens that decide the score, strongest first, with their f(w). Useful to show a
        moderator why a comment was held."""
        c = self.counts
        scored = []
        for token in set(tokens):
            f = token_probability(c.spam.get(token, 0), c.ham.get(token, 0), c.spam_docs, c.ham_docs)
            if abs(f - 0.5) >= MIN_DISTANCE:
                scored.append((token, f))
        scored.sort(key=lambda tf: (-abs(tf[1] - 0.5), tf[0]))
        return scored[:MAX_DISCRIMINATORS]

    def probability(self, tokens: Iterable[str]) -> float:
        """P(spam) in [0, 1]; 0.5 until trained, or when no token carries evidence."""
        if not self.trained:
            return 0.5
        clues = self.clues(tokens)
        if not clues:
            return 0.5
        n = len(clues)
        # f is in (0, 1) strictly thanks to Robinson's correction, so the logs are finite.
        ln_ham = sum(math.log(f) for _, f in clues)
        ln_spam = sum(math.log1p(-f) for _, f in clues)
        spamminess = 1.0 - chi2q(-2.0 * ln_spam, 2 * n)
        hamminess = 1.0 - chi2q(-2.0 * ln_ham, 2 * n)
        return min(1.0, max(0.0, (1.0 + spamminess - hamminess) / 2.0))

    def is_spam(self, tokens: Iterable[str]) -> bool:
        return self.trained and self.probability(tokens) >= self.threshold
