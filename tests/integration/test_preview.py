"""/preview: pick or paste a content file, see it rendered with its errors; nothing is stored."""
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.content import Action
from app.services.preview import TEXT_MAX_LENGTH, edited_file
from tests.factories import login, make_user

HTMX = {"HX-Request": "true"}
ROOT = '# Démo\n```yaml\nidentifiant: ""\npoints: 10\nreferentiel: "demo"\n```\n'
AXE = "# Premier axe\n```yaml\nidentifiant: 1\n```\n## Description\nUn *axe* de test.\n"


@pytest.fixture(autouse=True)
def signed_in(client, app_context):
    login(client, make_user())


@pytest.fixture
def content_dir(app, tmp_path, monkeypatch):
    folder = tmp_path / "referentiels" / "demo"
    folder.mkdir(parents=True)
    (folder / "demo.md").write_text(ROOT, encoding="utf-8")
    (folder / "1.md").write_text(AXE, encoding="utf-8")
    monkeypatch.setitem(app.config, "CONTENT_DIR", str(tmp_path))
    return tmp_path


def test_page_lists_the_content_files(client, content_dir):
    page = client.get("/preview").get_data(as_text=True)
    assert '<option value="referentiels/demo/1.md"' in page
    assert 'hx-post="/preview"' in page and 'hx-trigger="input changed delay:400ms' in page


def test_picking_a_file_loads_its_text_and_rendering(client, content_dir):
    page = client.get("/preview?fichier=referentiels/demo/1.md").get_data(as_text=True)
    assert "identifiant: 1" in page  # in the textarea
    assert "Un <em>axe</em> de test." in page
    assert "10 points" in page  # points computed by the loader
    assert "Aucune erreur" in page


@pytest.mark.parametrize("path", ["../../etc/passwd", "referentiels/demo/absent.md", "/etc/passwd"])
def test_only_listed_files_can_be_opened(client, content_dir, path):
    assert client.get("/preview", query_string={"fichier": path}).status_code == 404


def test_typing_returns_the_result_fragment(client, content_dir):
    text = AXE.replace("Premier axe", "Axe renommé")
    response = client.post("/preview", data={"chemin": "referentiels/demo/1.md", "texte": text}, headers=HTMX)
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="preview-result"')
    assert "<html" not in fragment and "Axe renommé" in fragment
    assert "HX-Request" in response.headers["Vary"]


def test_errors_are_listed_with_path_and_line(client, content_dir):
    text = "# Premier axe\n```yaml\nidentifiant: [1\n```\n"
    fragment = client.post("/preview", data={"chemin": "referentiels/demo/1.md", "texte": text}, headers=HTMX).get_data(as_text=True)
    assert re.search(r"referentiels/demo/1\.md:\d+: Erreur dans le formatage du code yaml", fragment)


def test_unknown_location_is_an_error(client, content_dir):
    fragment = client.post("/preview", data={"chemin": "ailleurs/x.md", "texte": AXE}, headers=HTMX).get_data(as_text=True)
    assert "ailleurs/x.md:1: Emplacement inconnu" in fragment


def test_without_htmx_the_full_page_comes_back(client, content_dir):
    page = client.post("/preview", data={"chemin": "referentiels/demo/1.md", "texte": AXE}).get_data(as_text=True)
    assert page.startswith("<!doctype html>") and 'id="preview-result"' in page


def test_nothing_is_stored(client, content_dir, app_context):
    client.post("/preview", data={"chemin": "referentiels/demo/1.md", "texte": "# Autre\n"}, headers=HTMX)
    assert (content_dir / "referentiels/demo/1.md").read_text(encoding="utf-8") == AXE
    assert db.session.scalar(select(func.count()).select_from(Action)) == 0


def test_htmx_posts_carry_the_csrf_token_of_the_page(client, content_dir, csrf_enabled):
    page = client.get("/preview").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    data = {"chemin": "referentiels/demo/1.md", "texte": AXE}
    assert client.post("/preview", data=data, headers=HTMX).status_code == 400
    assert client.post("/preview", data=data, headers={**HTMX, "X-CSRFToken": token}).status_code == 200


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_users_are_sent_to_login(app, content_dir, method):
    response = getattr(app.test_client(), method)("/preview", data={"chemin": "referentiels/demo/1.md", "texte": AXE})
    assert response.status_code == 302 and "next=/preview" in response.headers["Location"]


def test_yaml_aliases_are_refused_without_expanding(client, content_dir):
    bomb = "\n".join(["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
                     + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 7)]
                     + ["identifiant: *a6"])
    text = f"# Bombe\n```yaml\n{bomb}\n```\n"
    response = client.post("/preview", data={"chemin": "referentiels/demo/2.md", "texte": text}, headers=HTMX)
    fragment = response.get_data(as_text=True)
    assert "referentiels/demo/2.md:3: Les ancres et alias YAML" in fragment
    assert len(response.data) < 20_000


def test_too_long_text_is_refused(client, content_dir):
    text = AXE + "x" * TEXT_MAX_LENGTH
    fragment = client.post("/preview", data={"chemin": "referentiels/demo/1.md", "texte": text}, headers=HTMX).get_data(as_text=True)
    assert "referentiels/demo/1.md:1: Texte trop long : 200\u202f000 caractères au plus" in fragment


@pytest.mark.parametrize("chemin", ["./referentiels/demo/3.md", "referentiels//demo/3.md", " /referentiels/demo/3.md"])
def test_unnormalised_paths_are_the_edited_file(content_dir, chemin):
    preview = edited_file(content_dir, chemin, "# Sans yaml\n\nTexte\n").preview
    assert preview.path == "referentiels/demo/3.md"
    assert [e.message for e in preview.file_errors] and preview.other_error_count == 0
