"""Article body blocks render what Wagtail's templates rendered, without the templates."""

from __future__ import annotations

from wagtail import blocks

from masthead.news.blocks import ArticleBodyBlock


def test_a_paragraph_renders_as_wagtails_rich_text_does(make_section, make_article):
    world = make_section("World")
    earlier = make_article(world, "Earlier story")
    paragraph = ArticleBodyBlock().child_blocks["paragraph"]
    value = paragraph.to_python(f'<p>See <a linktype="page" id="{earlier.pk}">the earlier story</a> &amp; <b>more</b>.</p>')
    html = paragraph.render(value)
    assert html == str(blocks.RichTextBlock().render(value))  # Wagtail's own path, through its template
    assert html == '<p>See <a href="/world/earlier-story/">the earlier story</a> &amp; <b>more</b>.</p>'


def test_a_subhead_is_escaped_text_in_a_heading():
    subhead = ArticleBodyBlock().child_blocks["subhead"]
    assert subhead.render('What <happens> & "next"') == '<h2 class="subhead">What &lt;happens&gt; &amp; &quot;next&quot;</h2>'
