"""The CAE tree in a real browser: axes shown, a node expanded through htmx shows its children."""
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def toggle(node):
    # The disclosure button, beside the title's link to the action page.
    node.locator("> .tet-tree__row > .tet-tree__toggle").click()


def test_expand_a_cae_node_through_htmx(page, corpus_2025):
    page.goto("/referentiels/cae")
    axe = page.locator("#referentiels-node-cae-1")
    expect(axe.locator(".tet-tree__name")).not_to_be_empty()
    expect(axe.locator(".tet-tree__points")).to_contain_text("pts")
    expect(page.locator("#referentiels-node-cae-1-1")).to_have_count(0)  # not loaded before opening

    with page.expect_response(re.compile(r"/referentiels/cae/actions/cae_1/enfants$")):
        toggle(axe)
    sous_axe = page.locator("#referentiels-children-cae-1 > #referentiels-node-cae-1-1")
    expect(sous_axe).to_be_visible()

    toggle(sous_axe)
    expect(page.locator("#referentiels-node-cae-1-1-1")).to_contain_text("1.1.1")
    toggle(axe)  # folding sends no request
    expect(sous_axe).to_be_hidden()
    expect(axe.locator("> .tet-tree__row > .tet-tree__toggle")).to_have_attribute("aria-expanded", "false")
    toggle(axe)
    expect(page.locator("#referentiels-node-cae-1-1-1")).to_be_visible()  # still there, not fetched again
