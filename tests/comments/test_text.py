from masthead.comments.text import count_links, render


def test_paragraphs_and_line_breaks():
    assert render("one\ntwo\n\nthree") == "<p>one<br>two</p><p>three</p>"


def test_everything_is_escaped():
    html = render('<a href="javascript:alert(1)">x</a> & "quotes"')
    assert "<a" not in html.replace("&lt;a", "") and "&amp;" in html


def test_only_http_links_are_made_and_trailing_punctuation_stays_out():
    html = render("See https://example.org/page. Or (https://en.example/wiki/A_(b)) javascript:alert(1)")
    assert '<a href="https://example.org/page" rel="nofollow ugc noopener">' in html
    assert 'href="https://en.example/wiki/A_(b)"' in html
    assert "javascript:alert(1)" in html and 'href="javascript' not in html


def test_bidi_overrides_are_not_shown():
    assert "\u202e" not in render("evil\u202eexe.txt")


def test_count_links():
    assert count_links("a https://x.example b http://y.example www.z.example") == 3


def test_visible_text_drops_only_invisible_formatting():
    from masthead.comments.text import visible_text

    assert visible_text("plain ASCII, kept as it is\n") == "plain ASCII, kept as it is\n"
    assert visible_text("soft\u00adhyphen, zero\u200bwidth, bom\ufeff, rtl\u202e") == "softhyphen, zerowidth, bom, rtl"
    assert visible_text("family \U0001f468\u200d\U0001f469 and café") == "family \U0001f468\u200d\U0001f469 and café"


def test_an_invisible_character_hides_no_link_from_the_count():
    """render() drops it and links the URL; the link-hold limit must count it too."""
    assert count_links("ht\u200btps://a.example/1 ht\u200btps://a.example/2") == 2
