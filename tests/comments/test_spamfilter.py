"""The comment spam filter: tokenizer, counts, scoring, and its accuracy on a labelled set.

The module under test is plain Python; these tests need no database.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from masthead.comments.spamfilter import (
    MAX_TOKEN_LENGTH,
    Counts,
    SpamFilter,
    chi2q,
    token_probability,
    tokenize,
)

DATA = Path(__file__).resolve().parent / "data" / "labelled_comments.jsonl"
MODULE = Path(__file__).resolve().parents[2] / "masthead" / "comments" / "spamfilter.py"
SEED = 20240611
FOLDS = 5


def load_rows() -> list[dict]:
    with DATA.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def toks(row: dict) -> list[str]:
    return tokenize(row["text"], row.get("name", ""), row.get("email", ""))


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return load_rows()


@pytest.fixture(scope="module")
def tokenized(rows) -> list[list[str]]:
    return [toks(row) for row in rows]


def train(pairs) -> Counts:
    counts = Counts()
    for tokens, is_spam in pairs:
        counts.learn(tokens, is_spam)
    return counts


# --- the module stands alone -------------------------------------------------------------------
def test_module_loads_alone_without_django():
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('spamfilter', {str(MODULE)!r})\n"
        "mod = importlib.util.module_from_spec(spec); sys.modules['spamfilter'] = mod\n"
        "spec.loader.exec_module(mod)\n"
        "assert mod.SpamFilter(mod.Counts()).probability(mod.tokenize('hi')) == 0.5\n"
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'imports django'\n"
        "assert not any(m.startswith('masthead') for m in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


# --- tokenize ------------------------------------------------------------------------------------
def test_tokenize_finds_urls_and_domains():
    tokens = tokenize("Read https://www.BBC.co.uk/news/uk-politics-123 and www.example.org/page, then go.")
    assert {"__url__", "__urls:2+", "__domain:bbc.co.uk", "__domain:example.org"} <= set(tokens)
    assert "__urlword:politics" in tokens
    # The link's pieces are not words of the comment.
    assert not {"https", "www", "bbc", "co", "uk"} & set(tokens)
    assert {"read", "and", "then", "go"} <= set(tokens)


def test_tokenize_finds_bare_domains_and_subdomains():
    tokens = tokenize("Cheap pills at shop.cheap-meds.example/buy-now today")
    expected = {"__url__", "__urls:1", "__domain:shop.cheap-meds.example", "__domain:cheap-meds.example"}
    assert expected <= set(tokens)
    assert "__urlword:buy" in tokens


def test_tokenize_does_not_take_a_missing_space_for_a_link():
    assert "__url__" not in tokenize("I agree.It’s a shambles. Same in the U.S. and e.g. Canada.")


def test_tokenize_lower_cases_and_flags_shouting():
    tokens = tokenize("GREAT Great great")
    assert tokens.count("great") == 1  # unique per comment (Bernoulli)
    assert "__caps__" in tokenize("THIS IS AN ABSOLUTE DISGRACE")
    assert "__caps__" not in tokenize("The NHS, the BBC and the ONS all say so.")


def test_tokenize_handles_unicode_and_obfuscation():
    tokens = tokenize("Zoë’s café — ÉLAN, Straße")
    assert {"zoë's", "café", "élan", "straße"} <= set(tokens)
    assert "viagra" in tokenize("ｖｉａｇｒａ")  # full-width letters, NFKC-normalised
    hidden = tokenize("cheap vi\u200bagra")
    assert {"viagra", "__invisible__"} <= set(hidden)
    leet = tokenize("buy v1agra and c4sino ca$h")
    assert {"viagra", "casino", "cash", "__leet__"} <= set(leet)
    assert "__leet__" not in tokenize("covid19 cases and 5G masts in 2024")


def test_tokenize_feature_tokens():
    spam = tokenize("Earn $500 a day!!! WhatsApp +1 (555) 010-2299 or mail me at jo@example.net")
    assert {"__money__", "__phone__", "__exclaim__", "__email_in_text__"} <= set(spam)
    # Money and phone digits are not counted again as numbers; other numbers count by length.
    assert not any(t.startswith("__number") or t.isdigit() for t in spam)
    assert {"__number:3", "participants"} <= set(tokenize("200 participants"))
    assert "200" not in tokenize("200")
    assert "__phone__" not in tokenize("Between 2019-2020 and 12/03/2024 the figure rose 1,200,000.")
    assert "__money__" in tokenize("an overspend of £4.5m")


def test_tokenize_name_and_email():
    tokens = tokenize("hello", name="Best Essay Help 24", email="Sales77@Essays.Example")
    assert {"__name:best", "__name:essay", "__name:help", "__name_digits__", "__name_words:4"} <= set(tokens)
    assert {"__emaildomain:essays.example", "__email_digits__"} <= set(tokens)
    reader = tokenize("hello", name="Marta Gil", email="marta.gil@example.org")
    assert {"__name:marta", "__emaildomain:example.org", "__email_has_name__"} <= set(reader)
    assert {"__name:none", "__email:none"} <= set(tokenize("hello"))


def test_tokens_fit_a_fixed_width_column():
    host = "a" * 60 + "." + "b" * 60 + ".example"
    tokens = tokenize(f"see https://{host}/{'c' * 80} now", email=f"x@{host}")
    assert max(len(t) for t in tokens) <= MAX_TOKEN_LENGTH
    assert any(t.startswith("__domain:aaaa") for t in tokens)


def test_tokenize_is_deterministic_and_unique():
    text = "Great post! Visit https://x.example now. Great post!"
    first = tokenize(text, "Jo", "jo@example.com")
    assert first == tokenize(text, "Jo", "jo@example.com")
    assert len(first) == len(set(first))


# --- counts ----------------------------------------------------------------------------------------
def test_learn_counts_documents_not_occurrences():
    counts = Counts()
    counts.learn(["buy", "buy", "now"], is_spam=True)
    assert counts == Counts(spam_docs=1, ham_docs=0, spam={"buy": 1, "now": 1}, ham={})


def test_learn_then_unlearn_restores_counts_exactly():
    counts = train([(["a", "b"], True), (["b", "c"], False), (["c"], False)])
    before = copy.deepcopy(counts)
    counts.learn(["b", "d", "d"], is_spam=True)
    counts.learn(["x"], is_spam=False)
    counts.learn(["x"], is_spam=False, weight=-1)
    counts.learn(["d", "b"], is_spam=True, weight=-1)
    assert counts == before
    assert "d" not in counts.spam and "x" not in counts.ham  # zero counts are dropped


def test_reversing_a_decision_equals_deciding_the_other_way():
    base = [(["a", "b"], True), (["b", "c"], False)]
    reversed_ = train(base + [(["q", "b"], True)])
    reversed_.learn(["q", "b"], is_spam=True, weight=-1)  # moderator: not spam after all
    reversed_.learn(["q", "b"], is_spam=False)
    assert reversed_ == train(base + [(["q", "b"], False)])


def test_unlearning_what_was_never_learned_is_refused_and_changes_nothing():
    counts = train([(["a"], True)])
    before = copy.deepcopy(counts)
    with pytest.raises(ValueError):
        counts.learn(["a", "never-seen"], is_spam=True, weight=-1)
    with pytest.raises(ValueError):
        counts.learn(["a"], is_spam=False, weight=-1)
    with pytest.raises(ValueError):
        counts.learn(["a"], is_spam=True, weight=0)
    assert counts == before


# --- scoring ---------------------------------------------------------------------------------------
def test_untrained_filter_says_half_and_flags_nothing():
    assert SpamFilter(Counts()).probability(["viagra"]) == 0.5
    counts = train([(["viagra", "cheap"], True)] * 19 + [(["council", "bins"], False)] * 100)
    spam_filter = SpamFilter(counts)  # 19 spam < min_docs=20
    assert spam_filter.probability(["viagra", "cheap"]) == 0.5
    assert not spam_filter.is_spam(["viagra", "cheap"])
    counts.learn(["viagra"], is_spam=True)
    assert spam_filter.probability(["viagra", "cheap"]) > 0.9  # reads the counts live


def test_unknown_tokens_say_half_when_trained():
    counts = train([(["viagra"], True)] * 20 + [(["council"], False)] * 20)
    assert SpamFilter(counts).probability(["never", "seen"]) == 0.5


def test_token_probability_and_chi2():
    assert token_probability(0, 0, 10, 10) == 0.5
    assert token_probability(10, 0, 10, 10) > 0.95
    # One sighting is weak evidence (Robinson's correction pulls it towards 0.5).
    once, thrice, always = (token_probability(n, 0, 10, 10) for n in (1, 3, 10))
    assert 0.5 < once < thrice < always
    assert token_probability(1, 0, 10, 10) < 0.85
    # Class sizes are normalised away: 5 of 10 spam vs 50 of 100 ham is no evidence.
    assert token_probability(5, 50, 10, 100) == pytest.approx(0.5)
    assert chi2q(0.0, 4) == 1.0
    assert chi2q(2.0, 2) == pytest.approx(0.36787944, rel=1e-6)  # exp(-1)


def test_probability_is_deterministic_and_order_independent(rows, tokenized):
    pairs = [(t, r["label"] == "spam") for t, r in zip(tokenized, rows)]
    forward, backward = train(pairs[:300]), train(reversed(pairs[:300]))
    assert forward == backward
    for tokens in tokenized[300:340]:
        p = SpamFilter(forward).probability(tokens)
        assert 0.0 <= p <= 1.0
        assert p == SpamFilter(backward).probability(list(reversed(tokens)) + tokens)


# --- moderators' decisions move the filter ------------------------------------------------------------
SOLAR_CAMPAIGN = [
    ("Homeowners: the new Green Homes scheme pays for solar panels on your roof. Check eligibility "
     "and book a free survey at green-grant-check.example", "Green Energy Advisor"),
    ("Did you know the government now pays for solar panels and batteries? Check if you qualify for the "
     "Green Homes grant at solarfunding.example", "Solar Grants UK"),
    ("Free solar panels under the Green Homes grant — limited council funding left. Check eligibility "
     "today: free-panels.example", "Emma Green"),
    ("Your household may qualify for FREE solar panels and a battery under the Green Homes grant. "
     "Book a survey: homesolargrant.example", "Grant Checker"),
    ("Green Homes grant update: solar panels fully funded for homeowners, check eligibility in 60 "
     "seconds at panels4free.example", "Eco Advisor"),
]
# No link, no phone: a reader's question or an advert? The words decide.
BORDERLINE_SPAM = ("Homeowners can now check eligibility for free solar panels under the Green Homes grant "
                   "and book a survey.", "Pat Doyle", "pat.doyle@example.org")
LOCAL_SHOPS = [
    ("Great news about the bakery on Mill Lane reopening. Their sourdough is the best in town, worth a visit "
     "on Saturday.", "Ann Lee"),
    ("The new café by the station is brilliant, lovely staff and proper coffee. Worth a visit.", "Tom Price"),
    ("Really pleased the butcher on Church Street survived the roadworks. Best sausages in the county, go "
     "and support them.", "Raj Patel"),
    ("Shout out to the hardware shop on the high street, they fixed my lawnmower for a tenner. Support local "
     "shops!", "Jo Hart"),
    ("The Saturday market is back and the cheese stall is as good as ever. Go early, it sells out.",
     "Ben Ross"),
]
BORDERLINE_HAM = ("Great post! The new bakery on Mill Lane is amazing, best bread in town. Visit them this "
                  "weekend, you won't regret it!", "Sue Parker", "sue.parker@example.com")


@pytest.fixture
def small_counts(rows) -> Counts:
    """A young site: 25 spam and 40 approved comments decided so far."""
    spam = [r for r in rows if r["label"] == "spam"][:25]
    ham = [r for r in rows if r["label"] == "ham"][:40]
    return train([(toks(r), r["label"] == "spam") for r in spam + ham])


def test_spam_decisions_flip_a_borderline_comment_to_spam(small_counts):
    spam_filter = SpamFilter(small_counts)
    comment = tokenize(*BORDERLINE_SPAM)
    before = spam_filter.probability(comment)
    assert 0.2 < before < spam_filter.threshold, before  # held as "unsure", not flagged

    campaign = [tokenize(text, name, "info@example.net") for text, name in SOLAR_CAMPAIGN]
    for tokens in campaign:  # moderators mark the campaign's first comments as spam
        small_counts.learn(tokens, is_spam=True)
    after = spam_filter.probability(comment)
    print(f"\nborderline spam: P(spam) {before:.3f} -> {after:.3f} after 5 spam decisions")
    assert spam_filter.is_spam(comment)

    for tokens in campaign:  # ... and a moderator reverses them all
        small_counts.learn(tokens, is_spam=True, weight=-1)
    assert spam_filter.probability(comment) == before


def test_approvals_clear_a_borderline_comment(small_counts):
    spam_filter = SpamFilter(small_counts)
    comment = tokenize(*BORDERLINE_HAM)
    before = spam_filter.probability(comment)
    assert 0.2 < before < spam_filter.threshold, before  # "Great post! ... Visit them": unsure

    for i, (text, name) in enumerate(LOCAL_SHOPS):  # moderators approve readers' shop tips
        small_counts.learn(tokenize(text, name, f"reader{i}@example.org"), is_spam=False)
    after = spam_filter.probability(comment)
    print(f"\nborderline ham: P(spam) {before:.3f} -> {after:.3f} after 5 approvals")
    assert after < 0.2


# --- accuracy on the labelled set ------------------------------------------------------------------
def stratified_folds(rows, k: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    fold = [0] * len(rows)
    for label in ("spam", "ham"):
        indices = [i for i, r in enumerate(rows) if r["label"] == label]
        rng.shuffle(indices)
        for position, i in enumerate(indices):
            fold[i] = position % k
    return fold


def test_labelled_set_is_as_described(rows):
    labels = Counter(r["label"] for r in rows)
    assert set(labels) == {"spam", "ham"}
    assert len(rows) >= 600
    assert 0.35 <= labels["spam"] / len(rows) <= 0.45
    assert all(r["text"].strip() and r["name"].strip() and "@" in r["email"] for r in rows)
    assert len({r["text"] for r in rows}) == len(rows)


def test_precision_and_recall_by_cross_validation(rows, tokenized):
    """Stratified 5-fold cross-validation with a fixed seed: each comment is scored by a filter
    trained on the other four fifths. Counts are pooled over the folds."""
    fold = stratified_folds(rows, FOLDS, SEED)
    tp = fp = fn = tn = unsure = 0
    mistakes = []
    for k in range(FOLDS):
        counts = train((t, r["label"] == "spam") for t, r, f in zip(tokenized, rows, fold) if f != k)
        spam_filter = SpamFilter(counts)
        for tokens, row, f in zip(tokenized, rows, fold):
            if f != k:
                continue
            p = spam_filter.probability(tokens)
            predicted, actual = spam_filter.is_spam(tokens), row["label"] == "spam"
            tp += predicted and actual
            fp += predicted and not actual
            fn += actual and not predicted
            tn += not predicted and not actual
            unsure += 0.2 < p < spam_filter.threshold
            if predicted != actual:
                mistakes.append((p, row["label"], row.get("kind", ""), row["text"][:70]))
    precision = tp / (tp + fp)
    recall = tp / (tp + fn)
    print(
        f"\nspam filter, {FOLDS}-fold stratified CV (seed {SEED}) on {len(rows)} comments, threshold 0.9:"
        f"\n  precision {precision:.3f}  recall {recall:.3f}  (tp {tp}, fp {fp}, fn {fn}, tn {tn};"
        f" {unsure} scored 'unsure' 0.2-0.9)"
    )
    for p, label, kind, text in sorted(mistakes):
        print(f"  missed/false: P={p:.2f} {label} [{kind}] {text}")
    assert precision >= 0.95
    assert recall >= 0.85


def test_report_recall_on_campaigns_never_seen(rows, tokenized):
    """Not a target, a warning: for each kind of spam, train on everything else and see how much
    of that kind is caught. New campaigns get through until moderators mark a few."""
    kinds = sorted({r["kind"] for r in rows if r["label"] == "spam"})
    lines, caught_all, total_all = [], 0, 0
    for kind in kinds:
        counts = train((t, r["label"] == "spam") for t, r in zip(tokenized, rows) if r["kind"] != kind)
        spam_filter = SpamFilter(counts)
        held_out = [t for t, r in zip(tokenized, rows) if r["kind"] == kind]
        caught = sum(spam_filter.is_spam(t) for t in held_out)
        caught_all += caught
        total_all += len(held_out)
        lines.append(f"{kind} {caught}/{len(held_out)}")
    print(f"\nleave-one-spam-kind-out recall {caught_all / total_all:.3f}: " + ", ".join(lines))
    # Links, money, phone numbers and the like still carry over to a new campaign.
    assert caught_all / total_all >= 0.3
