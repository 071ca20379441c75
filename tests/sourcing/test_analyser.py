"""Each attribution form the analyser must read, on short passages written for the test."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from masthead.sourcing import analyse


def quotes(text: str) -> list[tuple[str, str, str | None, str | None]]:
    return [(q["kind"], q["text"], q["speaker"], q["speaker_type"]) for q in analyse(text)["quotes"]]


def codes(text: str) -> list[str]:
    return [w["code"] for w in analyse(text)["warnings"]]


INTRO = "Mayor Jane Okoro opened the meeting.\n\n"


def test_cue_after_before_inverted_and_split():
    text = (INTRO + "“We will rebuild the bridge,” Okoro said.\n\n"
            "Okoro told reporters: “It will take two years.”\n\n"
            "“Nobody wanted this,” said the mayor.\n\n"
            "“We will,” she said, “finish it.”\n")
    got = quotes(text)
    assert [g[0] for g in got] == ["direct"] * 5
    assert {g[2] for g in got} == {"Jane Okoro"}
    assert [g[1] for g in got][-2:] == ["“We will,”", "“finish it.”"]


def test_multi_paragraph_quote_is_one_quote():
    text = (INTRO + "Okoro said:\n\n“The bridge carried 9,000 cars a day. It was the town’s spine.\n\n"
            "“Now we start again.”\n")
    (kind, said, speaker, _), = quotes(text)
    assert kind == "direct" and speaker == "Jane Okoro"
    assert said.startswith("“The bridge") and said.endswith("again.”") and "\n\n" in said


def test_indirect_and_mixed_quotes_exclude_that_and_the_full_stop():
    text = INTRO + "Okoro said that the repairs were “long overdue”. The council said the road would reopen in May.\n"
    got = quotes(text)
    assert got[0] == ("mixed", "the repairs were “long overdue”", "Jane Okoro", "named")
    assert got[1] == ("indirect", "the road would reopen in May", "The council", "institutional")


def test_speaker_types():
    text = ("The plan was rejected, a senior official who asked not to be named said. "
            "Residents said the noise was unbearable. "
            "The Ministry of Transport said in a statement that it would appeal. "
            "Two people familiar with the talks said a deal was close.\n")
    got = {q[2]: q[3] for q in quotes(text)}
    assert got == {"a senior official who asked not to be named": "anonymous", "Residents": "collective",
                   "The Ministry of Transport": "institutional",
                   "Two people familiar with the talks": "anonymous"}


def test_according_to_a_claim_is_a_quote_but_with_a_figure_it_is_a_source():
    text = "According to the union, the strike will go ahead. About 4,000 staff walked out, according to the union.\n"
    result = analyse(text)
    assert [q["text"] for q in result["quotes"]] == ["the strike will go ahead"]
    (figure,) = result["figures"]
    assert figure["text"] == "About 4,000 staff" and figure["value"] == 4000 and figure["source"] == "the union"


def test_figures_of_every_kind_and_numbers_that_are_not_figures():
    text = ("Prices rose 12% last year, the Statistics Office said. The plan costs $4.5 million, officials said. "
            "Two-thirds of the homes were flooded, the agency said. Between 300 and 400 people were moved, "
            "police said. Ana Lima, 45, moved here in 1998 and voted on 3 May at 9am.\n")
    got = {f["text"]: (f["value"], f["source"]) for f in analyse(text)["figures"]}
    assert got == {"12%": (12, "Statistics Office"), "$4.5 million": (4_500_000, "officials"),
                   "Two-thirds of the homes": (0.6667, "the agency"),
                   "Between 300 and 400": (300, "police")}
    assert codes(text) == []


def test_warnings_for_the_three_problems_and_silence_on_a_clean_story():
    unattributed = "The hall was full.\n\n“This is the end of an era for all of us.”\n"
    assert codes(unattributed) == ["unattributed-quote"]
    reports_other = INTRO + "Deputy Mayor Tom Reyes spoke too.\n\n“Reyes said that the vote was lost,” Okoro said.\n"
    assert codes(reports_other) == ["conflicting-attribution"]
    twice = (INTRO + "Tom Reyes agreed.\n\n“We owe the town an apology,” Okoro said.\n\n"
             "“We owe the town an apology,” Reyes said.\n")
    warnings = analyse(twice)["warnings"]
    assert [w["code"] for w in warnings] == ["conflicting-attribution"]
    assert twice[warnings[0]["start"]:].startswith("“We owe the town an apology,” Reyes")
    unsourced = "Crime fell by 18% in the city last year.\n"
    assert codes(unsourced) == ["unsourced-figure"]
    clean = INTRO + "“We are ready,” Okoro said. Crime fell by 18%, according to the police.\n"
    assert codes(clean) == []


def test_offsets_point_at_the_text_and_the_result_is_json():
    text = open_seed()
    result = analyse(text)
    for item in result["quotes"] + result["figures"]:
        assert text[item["start"]:item["end"]] == item["text"]
    assert json.loads(json.dumps(result)) == result
    assert analyse(text) == result  # deterministic


def test_bad_input_gets_a_clear_error():
    with pytest.raises(TypeError, match="str"):
        analyse(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no sourcing rules for language 'xx'.*en"):
        analyse("text", language="xx")
    assert analyse("") == {**analyse(""), "quotes": [], "figures": [], "warnings": [], "sources": []}


def test_core_imports_no_django():
    code = ("import sys, masthead.sourcing as s, masthead.sourcing.cli; s.analyse('“Yes,” she said.'); "
            "print([m for m in sys.modules if m.split('.')[0] in ('django', 'wagtail')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def open_seed() -> str:
    from pathlib import Path

    return (Path(__file__).parent / "seed" / "seed-article.txt").read_text(encoding="utf-8")
