"""Preuves: uploads checked by content and size, stored under UPLOAD_DIR with a random name,
downloaded only by readers of the collectivité; links; deletion with confirmation; history."""
import io
import zipfile
from pathlib import Path

import pytest

from app.extensions import db
from app.models import HistoryEntry, PreuveFichier, PreuveLien
from app.services import preuves
from tests.factories import add_member, login, make_collectivite, make_user
from tests.suivi_content import tiny_content  # noqa: F401 (fixture)

HTMX = {"HX-Request": "true"}
ODT = b"application/vnd.oasis.opendocument.text"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def world(tiny_content):
    collectivite, other = make_collectivite(), make_collectivite()
    users = {}
    for role in ("lecture", "edition"):
        users[role] = make_user()
        add_member(users[role], collectivite, role)
    users["other"] = make_user()
    add_member(users["other"], other, "admin")
    return collectivite.id, other.id, users


def upload_dir(app) -> Path:
    return Path(app.config["UPLOAD_DIR"])


def upload(client, cid, data: bytes, filename: str, content_type="application/octet-stream", headers=HTMX):
    return client.post(
        f"/collectivites/{cid}/referentiels/eci/actions/eci_1.1/preuves/fichiers",
        data={"fichier": (io.BytesIO(data), filename, content_type)},
        content_type="multipart/form-data",
        headers=headers,
    )


def stored_files(app) -> set[str]:
    return {path.name for path in upload_dir(app).iterdir()}


# Upload --------------------------------------------------------------------------------------------


def test_pdf_upload_is_stored_under_a_random_name_and_listed(app, client, world):
    cid, _, users = world
    login(client, users["edition"])
    before = stored_files(app)
    html = upload(client, cid, PDF, "Délibération PCAET.pdf").get_data(as_text=True)
    assert html.lstrip().startswith('<section id="suivi-preuves"') and "Délibération PCAET.pdf" in html
    fichier = db.session.query(PreuveFichier).one()
    assert (fichier.content_type, fichier.size, fichier.action_id) == ("application/pdf", len(PDF), "eci_1.1")
    assert stored_files(app) - before == {fichier.stored_name}
    assert "PCAET" not in fichier.stored_name
    assert (upload_dir(app) / fichier.stored_name).read_bytes() == PDF
    assert db.session.query(HistoryEntry).filter_by(kind="preuve_fichier").count() == 1


@pytest.mark.parametrize(
    "data, filename, expected",
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "photo", "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 32, "photo.bin", "image/jpeg"),
        (_zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<w/>"}), "note.docx", DOCX),
        (_zip({"xl/workbook.xml": b"<x/>"}), "budget.xlsx", XLSX),
        (_zip({"mimetype": ODT, "content.xml": b"<x/>"}), "cr.odt", ODT.decode()),
        ("commune;tonnes\nLyon;12,5\n".encode("cp1252"), "dechets.csv", "text/csv"),
        ("Compte rendu : réunion du 3 mars\n".encode(), "cr.txt", "text/plain"),
    ],
)
def test_allowed_types_are_recognised_by_content(client, world, data, filename, expected):
    cid, _, users = world
    login(client, users["edition"])
    upload(client, cid, data, filename)
    assert db.session.query(PreuveFichier).one().content_type == expected


@pytest.mark.parametrize(
    "data, filename, content_type",
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 64, "rapport.pdf", "application/pdf"),  # an .exe renamed
        (_zip({"script.js": b"alert(1)"}), "archive.docx", DOCX),
        (_zip({"mimetype": b"application/x-evil"}), "doc.odt", ODT.decode()),
        (b"<html>\x00\x01binary", "page.txt", "text/plain"),
    ],
)
def test_wrong_types_are_refused_and_nothing_is_kept(app, client, world, data, filename, content_type):
    cid, _, users = world
    login(client, users["edition"])
    before = stored_files(app)
    html = upload(client, cid, data, filename, content_type).get_data(as_text=True)
    assert "type de fichier non accepté" in html
    assert db.session.query(PreuveFichier).count() == 0 and stored_files(app) == before


def test_too_big_file_is_refused(app, client, world):
    cid, _, users = world
    login(client, users["edition"])
    before = stored_files(app)
    html = upload(client, cid, PDF + b"0" * preuves.MAX_FILE_SIZE, "gros.pdf").get_data(as_text=True)
    assert "taille maximale de 10 Mo" in html
    assert db.session.query(PreuveFichier).count() == 0 and stored_files(app) == before


def test_request_over_the_server_limit_gets_the_message_too(app, client, world, monkeypatch):
    cid, _, users = world
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    login(client, users["edition"])
    response = upload(client, cid, PDF + b"0" * 2000, "gros.pdf")
    assert response.status_code == 200 and "taille maximale" in response.get_data(as_text=True)


@pytest.mark.parametrize("filename", ["../../../etc/cron.d/evil.txt", "..\\..\\windows\\evil.txt", "/abs/../evil.txt"])
def test_path_tricks_in_filenames_stay_display_names(app, client, world, filename):
    cid, _, users = world
    login(client, users["edition"])
    upload(client, cid, b"texte\n", filename)
    fichier = db.session.query(PreuveFichier).one()
    assert fichier.filename.endswith("evil.txt") and not {"/", "\\"} & set(fichier.filename)
    assert not fichier.filename.startswith(".")
    assert (upload_dir(app) / fichier.stored_name).is_file()
    assert not list(upload_dir(app).parent.glob("**/evil.txt"))


@pytest.mark.parametrize(
    "filename, shown",
    [("a/b\\c.pdf", "c.pdf"), ("rap\r\nport\x00.txt", "rapport.txt"), ("..", "fichier"), ("", "fichier"), ("x" * 300, "x" * 255)],
)
def test_display_filename(filename, shown):
    assert preuves.display_filename(filename) == shown


def test_readers_and_outsiders_cannot_upload(client, world):
    cid, _, users = world
    assert upload(client, cid, PDF, "a.pdf").status_code == 401
    for role in ("lecture", "other"):
        login(client, users[role])
        assert upload(client, cid, PDF, "a.pdf").status_code == 403
    assert db.session.query(PreuveFichier).count() == 0


def test_plain_form_upload_redirects_to_the_action_page(client, world):
    cid, _, users = world
    login(client, users["edition"])
    response = upload(client, cid, PDF, "a.pdf", headers={})
    assert response.status_code == 303 and response.headers["Location"].endswith("/actions/eci_1.1")


# Download ------------------------------------------------------------------------------------------


def test_download_is_an_attachment_for_readers_only(client, world):
    cid, other_id, users = world
    login(client, users["edition"])
    upload(client, cid, PDF, "Délibération.pdf")
    fichier_id = db.session.query(PreuveFichier).one().id
    url = f"/collectivites/{cid}/preuves/fichiers/{fichier_id}"

    login(client, users["lecture"])
    response = client.get(url)
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''D%C3%A9lib%C3%A9ration.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    login(client, users["other"])
    assert client.get(url).status_code == 403
    assert client.get(f"/collectivites/{other_id}/preuves/fichiers/{fichier_id}").status_code == 404  # not B's file
    client.get("/deconnexion")
    with client.session_transaction() as session:
        session.clear()
    response = client.get(url)
    assert response.status_code == 302 and response.headers["Location"].startswith("/connexion")


# Links and deletion --------------------------------------------------------------------------------


def test_links_need_a_title_and_an_http_url(client, world):
    cid, _, users = world
    login(client, users["edition"])
    url = f"/collectivites/{cid}/referentiels/eci/actions/eci_1.1/preuves/liens"
    html = client.post(url, data={"titre": "Piège", "url": "javascript:alert(1)"}, headers=HTMX).get_data(as_text=True)
    assert "URL http:// ou https://" in html and 'value="Piège"' in html
    assert db.session.query(PreuveLien).count() == 0
    html = client.post(url, data={"titre": "Délibération", "url": "https://exemple.fr/d.pdf"}, headers=HTMX).get_data(as_text=True)
    assert 'href="https://exemple.fr/d.pdf"' in html
    assert db.session.query(HistoryEntry).filter_by(kind="preuve_lien").count() == 1


def test_delete_asks_for_confirmation_then_removes_row_and_file(app, client, world):
    cid, _, users = world
    login(client, users["edition"])
    html = upload(client, cid, PDF, "a.pdf").get_data(as_text=True)
    fichier = db.session.query(PreuveFichier).one()
    delete_url = f"/collectivites/{cid}/referentiels/eci/preuves/fichiers/{fichier.id}/supprimer"
    assert f'hx-post="{delete_url}"' in html and "hx-confirm=" in html
    confirm_page = client.get(delete_url).get_data(as_text=True)  # without JavaScript
    assert "Supprimer la preuve « a.pdf »" in confirm_page and '<form method="post">' in confirm_page

    login(client, users["lecture"])
    assert client.post(delete_url, headers=HTMX).status_code == 403

    login(client, users["edition"])
    response = client.post(delete_url)
    assert response.status_code == 303
    assert db.session.query(PreuveFichier).count() == 0
    assert not (upload_dir(app) / fichier.stored_name).exists()
    kinds = [(e.old_value is None, e.new_value is None) for e in db.session.query(HistoryEntry).order_by(HistoryEntry.id)]
    assert kinds == [(True, False), (False, True)]  # added, then deleted


def test_delete_a_link_by_htmx(client, world):
    cid, _, users = world
    login(client, users["edition"])
    client.post(f"/collectivites/{cid}/referentiels/eci/actions/eci_1.1/preuves/liens",
                data={"titre": "Site", "url": "http://exemple.fr"}, headers=HTMX)
    lien_id = db.session.query(PreuveLien).one().id
    html = client.post(f"/collectivites/{cid}/referentiels/eci/preuves/liens/{lien_id}/supprimer", headers=HTMX).get_data(as_text=True)
    assert "Aucune preuve déposée" in html and db.session.query(PreuveLien).count() == 0


def test_reader_sees_preuves_without_forms(client, world):
    cid, _, users = world
    login(client, users["edition"])
    upload(client, cid, PDF, "a.pdf")
    login(client, users["lecture"])
    page = client.get(f"/collectivites/{cid}/referentiels/eci/actions/eci_1.1").get_data(as_text=True)
    assert "a.pdf" in page and 'name="fichier"' not in page and "Supprimer" not in page
