"""The seed's plain-text form, parsed without Django: sections, headline, body, furniture, bad files."""

from __future__ import annotations

import struct
import zlib

import pytest

from masthead.importers.text_format import TextFormatError, decode, parse, read, split_sections
from tests.conftest import SEED_FILE

SEED_HEADLINE = "US Calls on Israel to End Large-Scale Ground Invasion in Gaza"


def png_bytes() -> bytes:
    """A real (1×1 pixel) PNG file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")


def seed_raw_paragraphs() -> list[str]:
    """The seed's blank-line separated blocks, read independently of the parser."""
    text = SEED_FILE.read_text(encoding="utf-8")
    return [block.strip() for block in text.split("\n\n") if block.strip()]


# --- The seed ---------------------------------------------------------------------------------


def test_seed_parses_into_sections_headline_and_fourteen_paragraphs():
    parsed = read(SEED_FILE.read_bytes())
    assert parsed.sections == ["Main Stories", "World"]
    assert parsed.headline == SEED_HEADLINE
    assert len(parsed.paragraphs) == 14
    assert parsed.paragraphs[0].startswith("The Joe Biden administration in the US")
    assert parsed.paragraphs[-1].startswith("The debate over the pace of the war")
    assert parsed.dropped_furniture == ["Spread the love", "Comment here"]
    assert not any("Spread the love" in p or "Comment here" in p for p in parsed.paragraphs)


def test_seed_paragraphs_are_the_files_text_byte_for_byte():
    blocks = seed_raw_paragraphs()
    # sections line, headline, 14 paragraphs, 2 lines of furniture
    assert len(blocks) == 18
    parsed = read(SEED_FILE.read_bytes(), ["Main Stories", "World"])
    assert parsed.paragraphs == blocks[2:16]
    joined = "\n".join(parsed.paragraphs)
    for char in "“”’—…":
        assert char in joined, f"{char!r} lost"
    assert "\u201cI want them to be focused on how to save civilian lives. Not stop going after Hamas \u2014 but be more careful.\u201d" in joined
    assert "from \u2026 high intensity" in joined
    # Nothing was normalised to ASCII look-alikes.
    assert "\"" not in joined and "..." not in joined and " - " not in joined


def test_crlf_line_endings_and_utf8_bom_are_accepted():
    data = SEED_FILE.read_bytes()
    expected = read(data)
    assert read(data.replace(b"\n", b"\r\n")) == expected
    assert read(b"\xef\xbb\xbf" + data) == expected
    assert read(b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")) == expected
    assert read(data.replace(b"\n", b"\r")) == expected  # old Mac line ends
    assert "\ufeff" not in read(b"\xef\xbb\xbf" + data).sections[0]


def test_hard_wrapped_paragraphs_are_joined_and_whitespace_trimmed():
    parsed = parse("World\n\n  A headline  \n\nFirst line\n  wrapped here.\n\n\n\nSecond   paragraph.  \n")
    assert parsed.headline == "A headline"
    assert parsed.paragraphs == ["First line wrapped here.", "Second   paragraph."]


# --- Furniture --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail",
    [
        "Spread the love\n\nComment here",
        "Spread the love\nComment here",  # one block, no blank line between
        "Share this:\n\nLike this:\n\nRelated",
        "SPREAD THE LOVE\n\nLeave a Reply",
        "Spread the love  \n\n  Comment here!\n\n\n",
    ],
)
def test_trailing_furniture_is_dropped(tail):
    parsed = parse(f"World\n\nHeadline\n\nThe story.\n\nThe end of it.\n\n{tail}")
    assert parsed.paragraphs == ["The story.", "The end of it."]
    assert len(parsed.dropped_furniture) == len([line for line in tail.splitlines() if line.strip()])


def test_only_trailing_furniture_is_dropped_and_real_sentences_stay():
    parsed = parse(
        "Business\n\nHeadline\n\nShare\n\nA paragraph that mentions spread the love.\n\n"
        "Share prices fell sharply.\n\nComment here"
    )
    assert parsed.paragraphs == ["Share", "A paragraph that mentions spread the love.", "Share prices fell sharply."]
    assert parsed.dropped_furniture == ["Comment here"]


def test_a_block_mixing_furniture_and_text_is_kept():
    parsed = parse("World\n\nHeadline\n\nBody.\n\nSpread the love\nand the news with it.")
    assert parsed.paragraphs == ["Body.", "Spread the love and the news with it."]
    assert parsed.dropped_furniture == []


# --- Section line -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, known, expected",
    [
        ("Main StoriesWorld", ["Main Stories", "World"], ["Main Stories", "World"]),
        ("Main StoriesWorld", [], ["Main Stories", "World"]),
        ("Main StoriesWorld", ["World"], ["Main Stories", "World"]),
        ("Main StoriesWorldMiddle East", [], ["Main Stories", "World", "Middle East"]),
        ("WorldMiddle East", ["World", "Middle East"], ["World", "Middle East"]),
        # A known name with an inner capital is kept whole, not split at its case boundary.
        ("AfricaNewsWorld", ["AfricaNews", "World"], ["AfricaNews", "World"]),
        ("AfricaNewsWorld", ["AfricaNews"], ["AfricaNews", "World"]),
        ("AfricaNewsWorld", [], ["Africa", "News", "World"]),
        ("USPolitics", ["US"], ["US", "Politics"]),
        # Unknown names split at lower-to-upper case boundaries, spaces stay inside names.
        ("Science & TechCulture", [], ["Science & Tech", "Culture"]),
        ("Local NewsSport", [], ["Local News", "Sport"]),
        # Explicit separators.
        ("Main Stories | World", [], ["Main Stories", "World"]),
        ("Main Stories|World|Middle East", [], ["Main Stories", "World", "Middle East"]),
        ("World » Middle East", [], ["World", "Middle East"]),
        ("World, Business", [], ["World", "Business"]),
        ("World\tBusiness", [], ["World", "Business"]),
        ("World   Business", [], ["World", "Business"]),
        # Known names are matched case-insensitively and take their known spelling.
        ("main storiesWORLD", ["Main Stories", "World"], ["Main Stories", "World"]),
        ("Main stories | world", ["Main Stories", "World"], ["Main Stories", "World"]),
        # Repeats collapse.
        ("WorldWorld", ["World"], ["World"]),
        ("World | world", [], ["World"]),
        ("World", ["World"], ["World"]),
    ],
)
def test_split_sections(line, known, expected):
    assert split_sections(line, known) == expected


@pytest.mark.parametrize(
    "line, known, expected",
    [
        ("Sports", ["Sport"], ["Sports"]),
        ("SportsWorld", ["Sport", "World"], ["Sports", "World"]),
        ("Business", ["US"], ["Business"]),
        ("Worldwide", ["World"], ["Worldwide"]),
        ("ArtsCulture", ["Art", "Culture"], ["Arts", "Culture"]),
        ("Science & Technology", ["Science"], ["Science & Technology"]),
    ],
)
def test_known_names_are_not_found_inside_other_words(line, known, expected):
    assert split_sections(line, known) == expected


def test_demo_section_line_with_known_sections_from_the_loader():
    from masthead.demo.loader import SECTIONS, SUBSECTIONS

    known = SECTIONS + [name for name, _ in SUBSECTIONS]
    parsed = parse("Main StoriesWorldMiddle East\n\nHeadline\n\nBody.", known)
    assert parsed.sections == ["Main Stories", "World", "Middle East"]


# --- Bad files --------------------------------------------------------------------------------

GOOD_BODY = "\n\nA headline\n\nA paragraph.\n"


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b"   \n\n\t \r\n  ", "empty"),
        (b"\xef\xbb\xbf\n\n", "empty"),
        (png_bytes(), "binary"),
        (b"World\n\nHeadline\x00\x00\x00\x01\x02\n\nbody", "binary"),
        (b"World" + bytes(range(1, 9)) * 20 + GOOD_BODY.encode(), "binary"),
        (b"World\n", "no headline"),
        (b"Main StoriesWorld\n\n\n", "no headline"),
        (b"World\n\n" + b"x" * 300 + b"\n", "no headline"),
        (b"World\n\nA headline\n", "no body"),
        (b"World\n\nA headline\n\nSpread the love\n\nComment here\n", "no body"),
        (("World" + GOOD_BODY + "Caf\u00e9 cr\u00e8me \u00e0 la carte.\n").encode("latin-1"), "unreadable encoding"),
        (("World" + GOOD_BODY + "\u201cQuoted\u201d \u2014 text.\n").encode("cp1252"), "unreadable encoding"),
        (("World" + GOOD_BODY).encode("utf-16-le"), "unreadable encoding"),
        (("World" + GOOD_BODY).encode("utf-16-be"), "unreadable encoding"),
        (("World" + GOOD_BODY).encode("utf-16"), "unreadable encoding"),
    ],
    ids=[
        "empty",
        "whitespace-only",
        "bom-only",
        "png",
        "nul-bytes",
        "control-characters",
        "only-section-line",
        "section-line-and-blank-lines",
        "headline-too-long",
        "headline-without-body",
        "only-furniture-body",
        "latin-1",
        "cp1252",
        "utf-16-le-without-bom",
        "utf-16-be-without-bom",
        "utf-16-with-bom",
    ],
)
def test_bad_files_are_refused_with_a_reason(data, reason):
    with pytest.raises(TextFormatError) as excinfo:
        read(data)
    message = str(excinfo.value)
    assert reason in message
    assert "\n" not in message and len(message) < 200


def test_utf16_is_reported_as_an_encoding_problem_not_as_binary():
    with pytest.raises(TextFormatError, match="unreadable encoding") as excinfo:
        decode(SEED_FILE.read_text(encoding="utf-8").encode("utf-16-le"))
    assert "binary" not in str(excinfo.value)
    assert "UTF-16" in str(excinfo.value)


def test_invalid_utf8_reason_names_the_byte_and_offset():
    with pytest.raises(TextFormatError, match=r"0xe9 at offset 10"):
        decode("World\n\nCaf\u00e9".encode("latin-1"))


def test_text_with_tabs_and_form_feeds_is_not_binary():
    parsed = read(b"World\n\nHeadline\n\nA\ttabbed paragraph.\n\n\x0c\nAnother.\n")
    assert parsed.paragraphs == ["A\ttabbed paragraph.", "Another."]
