"""Zip bombs: ODF/OOXML uploads are typed from the zip directory and a few inflated bytes, in bounded
memory; archives declaring absurd sizes are refused with a clear message and nothing is kept."""
import tracemalloc
import zipfile

import pytest

from app.extensions import db
from app.models import PreuveFichier
from app.services import preuves
from app.services.suivi import InvalidEdit
from tests.factories import login
from tests.integration.test_preuves import ODT, stored_files, upload, world  # noqa: F401 (fixture)
from tests.suivi_content import tiny_content  # noqa: F401 (fixture)

MIB = 1024 * 1024


def _odt_with(path, inflated_mib: int, member: str = "content.xml"):
    """An .odt whose `member` inflates to `inflated_mib` MiB of zeros, written chunk by chunk."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if member != "mimetype":
            archive.writestr(zipfile.ZipInfo("mimetype"), ODT, compress_type=zipfile.ZIP_STORED)
        with archive.open(member, "w") as stream:
            for _ in range(inflated_mib):
                stream.write(bytes(MIB))
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    return _odt_with(tmp_path_factory.mktemp("bomb") / "bombe.odt", 400)


def _typed_with_peak_memory(path):
    """detect_type's outcome (a type or the refusal) and the peak memory it allocated."""
    tracemalloc.start()
    try:
        outcome = preuves.detect_type(path, path.name)
    except InvalidEdit as refused:
        outcome = refused
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return outcome, peak


def test_a_400_kib_odt_inflating_to_400_mib_is_refused_in_bounded_memory(bomb):
    assert bomb.stat().st_size < 500 * 1024
    outcome, peak = _typed_with_peak_memory(bomb)
    assert isinstance(outcome, InvalidEdit) and str(outcome) == preuves.ZIP_BOMB_REFUSED
    assert peak < 2 * MIB


def test_a_bomb_in_the_mimetype_member_is_refused_before_reading_it(tmp_path):
    outcome, peak = _typed_with_peak_memory(_odt_with(tmp_path / "piege.odt", 64, member="mimetype"))
    assert isinstance(outcome, InvalidEdit) and peak < 2 * MIB


def test_a_zip_listing_too_many_members_is_refused_before_zipfile_reads_them(tmp_path):
    path = tmp_path / "liste.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
        for n in range(12_000):  # about 550 KiB of central directory
            archive.writestr(f"word/media/{n:08d}.bin", b"")
    outcome, peak = _typed_with_peak_memory(path)
    assert isinstance(outcome, InvalidEdit) and peak < 2 * MIB


def test_large_ordinary_documents_are_still_typed(tmp_path):
    text = "".join(f"<w:p>paragraphe {n}</w:p>" for n in range(100_000)).encode()  # 2.6 MiB, ratio about 10
    for name, members, expected in [
        ("rapport.odt", {"mimetype": ODT, "content.xml": text}, ODT.decode()),
        ("note.docx", {"[Content_Types].xml": b"<Types/>", "word/document.xml": text}, preuves._ZIP_KINDS[0][1]),
    ]:
        with zipfile.ZipFile(tmp_path / name, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for member, data in members.items():
                archive.writestr(member, data, compress_type=zipfile.ZIP_STORED if member == "mimetype" else None)
        assert preuves.detect_type(tmp_path / name, name) == expected


def test_uploading_the_bomb_is_refused_with_a_clear_message_and_nothing_is_kept(app, client, world, bomb):
    cid, _, users = world
    login(client, users["edition"])
    before = stored_files(app)
    response = upload(client, cid, bomb.read_bytes(), "bombe.odt")
    assert response.status_code == 200  # the preuves fragment, swapped by htmx, shows the refusal
    assert "archive refusée" in response.get_data(as_text=True)
    assert db.session.query(PreuveFichier).count() == 0 and stored_files(app) == before
