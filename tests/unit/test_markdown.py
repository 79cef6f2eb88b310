"""render_markdown never raises and stays linear on crafted text; check_markdown explains refusals."""
import pytest

from app.markdown import MARKDOWN_MAX_LENGTH, MAX_NESTING, check_markdown, render_markdown

CRAFTED = {
    "nested_quotes": ">" * 400 + " a",
    "nested_list": "\n".join("  " * i + "- a" for i in range(400)),
    "nested_list_tabs": "\n".join("\t" * i + "- a" for i in range(200)),
    "brackets": "[" * 10_000 + "a" + "]" * 10_000,
    "open_links": "[a](" * 3_000,
    "link_references": "[a]: b\n" * 3_000 + "[a]" * 3_000,
    "nested_emphasis": " ".join(["*a"] * 4_000) + " " + " ".join(["a*"] * 4_000),
    "mixed_emphasis": "*_" * 20_000,
    "nested_images": "![" * 3_000 + "a" + "](b)" * 3_000,
    "too_long": "a " * MARKDOWN_MAX_LENGTH,
}


@pytest.mark.parametrize("text", CRAFTED.values(), ids=CRAFTED.keys())
def test_crafted_text_renders_without_raising(text):
    assert render_markdown(text).startswith("<")


def test_deep_nesting_is_shown_as_escaped_text():
    text = ">" * 400 + " <b>a</b>"
    assert render_markdown(text) == f"<p>{'&gt;' * 400} &lt;b&gt;a&lt;/b&gt;</p>"
    assert "imbrique trop" in check_markdown(text)


def test_crowded_brackets_become_plain_characters():
    html = render_markdown("[" * 10_000 + "a" + "]" * 10_000)
    assert "<a" not in html and "[[[a]]]" in html


def test_long_text_is_refused_by_check_markdown():
    assert check_markdown("a" * MARKDOWN_MAX_LENGTH) is None
    assert check_markdown("a" * (MARKDOWN_MAX_LENGTH + 1)) == "Le texte dépasse 50\u202f000 caractères."


def test_ordinary_markdown_is_untouched():
    nested = "\n".join("  " * i + "- a" for i in range(MAX_NESTING))
    assert check_markdown(nested) is None and render_markdown(nested).count("<ul>") == MAX_NESTING
    html = render_markdown("> - Un [lien](https://exemple.fr) et du *texte* `[code]`")
    assert 'href="https://exemple.fr"' in html and "<em>texte</em>" in html and "<code>[code]</code>" in html


def test_recursion_error_falls_back_to_plain_text(monkeypatch):
    from app import markdown

    class Exploding:
        def convert(self, text):
            raise RecursionError

    monkeypatch.setattr(markdown, "markdown_parser", lambda gfm=False: Exploding())
    assert render_markdown("*a*") == "<p>*a*</p>"


@pytest.mark.parametrize(
    "image",
    [
        "![](https://exemple.fr/a.png)",
        "![   ](https://exemple.fr/a.png)",
        "![plan](javascript:alert(1))",
        "![plan](data:image/png;base64,AAAA)",
        "![plan](/static/a.png)",
        '<img src="https://exemple.fr/a.png">',
        '<img alt="" src="https://exemple.fr/a.png">',
        '<img alt="plan" src="ftp://exemple.fr/a.png">',
        '<img alt="a > b" src="data:x">',
    ],
)
def test_images_without_alt_or_http_source_are_dropped(image):
    assert "<img" not in render_markdown(f"Avant {image} après")


def test_described_http_images_are_kept():
    html = render_markdown('![Plan du réseau](https://exemple.fr/a.png) <img alt="a > b" src="http://exemple.fr/b.png">')
    assert html.count("<img") == 2 and 'alt="Plan du réseau"' in html and 'alt="a &gt; b"' in html


def test_gfm_tables_render_when_asked():
    table = "| Site | kWh |\n|:--|--:|\n| Mairie | 1200 |"
    assert "<table>" not in render_markdown(table)
    html = render_markdown(table, gfm=True)
    assert "<table>" in html and "<th" in html and '<td align="right">1200</td>' in html


def test_headings_start_at_the_given_level():
    html = render_markdown("# Titre\n\n## Sous-titre\n\n##### Profond\n\n<h1>brut</h1>", top_heading=3)
    assert "<h3>Titre</h3>" in html and "<h4>Sous-titre</h4>" in html and "<h6>Profond</h6>" in html
    assert "<h3>brut</h3>" in html and "<h1" not in html and "<h2" not in html
    assert "<h1>Titre</h1>" in render_markdown("# Titre")
