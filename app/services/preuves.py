"""Preuves of a collectivité on an action: uploaded files and links.

Files: at most MAX_FILE_SIZE bytes; the type is recognised from the CONTENT (magic bytes, zip
members, text decoding), never from the filename or the declared type. A zip is typed from its
directory and at most a few inflated bytes (the ODF `mimetype`); one whose declared sizes are
absurd (a zip bomb) is refused. A file is stored under UPLOAD_DIR with a random name; the user's
filename is kept only for display and for the Content-Disposition of downloads. Every add and
delete is recorded in the history.
"""
import json
import os
import re
import secrets
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import PreuveFichier, PreuveLien, User
from app.persistence import utcnow
from app.services.suivi import InvalidEdit, commit_edit, live_action, require_edit

MAX_FILE_SIZE = 10 * 1024 * 1024
MAX_URL_LENGTH = 2000
MAX_TITRE_LENGTH = 300
_CHUNK = 64 * 1024
# Zip limits, from declared sizes only: nothing but the ODF `mimetype` is ever inflated here.
MAX_ZIP_DIRECTORY = 512 * 1024  # zipfile keeps an object per entry: about 6 bytes of memory per byte
MAX_UNZIPPED_SIZE = 256 * 1024 * 1024  # all members together
MAX_COMPRESSION_RATIO = 100  # for a member over _RATIO_FLOOR (XML compresses about 10 to 20 times)
_RATIO_FLOOR = 1024 * 1024
_MIMETYPE_MAX_SIZE = 128
# End of central directory record: signature, 4 disk/entry counts, directory size and offset, comment length.
_END_RECORD = struct.Struct("<4s4HIIH")
ZIP_BOMB_REFUSED = ("archive refusée : une fois décompressée, elle serait démesurée par rapport à sa taille "
                    "(fichier corrompu ou piégé) ; enregistrez de nouveau le document depuis votre logiciel")
# Zip-based office documents: a member that only that kind of document has.
_ZIP_KINDS = (
    ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
)
_OPENDOCUMENT_TYPES = (
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
ALLOWED_TYPES_LABEL = "PDF, PNG, JPEG, ODT, ODS, DOCX, XLSX, texte ou CSV"


@dataclass(frozen=True)
class PreuvesState:
    """What the preuves fragment shows."""

    collectivite_id: int
    action_id: str
    fichiers: list = field(default_factory=list)  # (PreuveFichier, uploader name)
    liens: list = field(default_factory=list)  # (PreuveLien, author name)
    can_edit: bool = False
    error: str | None = None
    lien_form: dict = field(default_factory=dict)  # titre / url as typed when refused


def preuves_state(collectivite_id: int, action_id: str, can_edit: bool, **extra) -> PreuvesState:
    fichiers = db.session.execute(
        select(PreuveFichier, User.name)
        .outerjoin(User, User.id == PreuveFichier.uploaded_by_id)
        .where(PreuveFichier.collectivite_id == collectivite_id, PreuveFichier.action_id == action_id)
        .order_by(PreuveFichier.uploaded_at, PreuveFichier.id)
    ).all()
    liens = db.session.execute(
        select(PreuveLien, User.name)
        .outerjoin(User, User.id == PreuveLien.created_by_id)
        .where(PreuveLien.collectivite_id == collectivite_id, PreuveLien.action_id == action_id)
        .order_by(PreuveLien.created_at, PreuveLien.id)
    ).all()
    return PreuvesState(collectivite_id, action_id, list(fichiers), list(liens), can_edit, **extra)


# Content sniffing ----------------------------------------------------------------------------------


def detect_type(path: Path, filename: str) -> str | None:
    """The MIME type of an allowed file, recognised from its content; None when not allowed."""
    with path.open("rb") as stream:
        head = stream.read(8)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(path)
    if _is_text(path):
        # Already known to be text: the name only picks the more useful of two text types.
        return "text/csv" if filename.lower().endswith(".csv") else "text/plain"
    return None


def _zip_type(path: Path) -> str | None:
    """The ODF / OOXML type of a zip, in bounded memory; InvalidEdit for a zip bomb."""
    directory_size = _declared_directory_size(path)
    if directory_size is None:
        return None
    if directory_size > MAX_ZIP_DIRECTORY:
        raise InvalidEdit(ZIP_BOMB_REFUSED)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if _is_zip_bomb(infos):
                raise InvalidEdit(ZIP_BOMB_REFUSED)
            members = {info.filename: info for info in infos}
            if "mimetype" in members:
                # read(n) inflates chunk by chunk, never more than n bytes.
                with archive.open(members["mimetype"]) as member:
                    mimetype = member.read(_MIMETYPE_MAX_SIZE).decode("ascii", "replace").strip()
                return mimetype if mimetype in _OPENDOCUMENT_TYPES else None
    except InvalidEdit:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError, zlib.error):
        return None  # damaged, encrypted or oddly compressed: not a document we accept
    return next((kind for member, kind in _ZIP_KINDS if member in members), None)


def _declared_directory_size(path: Path) -> int | None:
    """Size of the central directory as the end record declares it, found where zipfile looks for it
    (the last 22 bytes, else the last signature within the 64 KiB a comment may take): checked before
    zipfile reads the directory. None without an end record, or for zip64 (no 10 Mo document needs it)."""
    with path.open("rb") as stream:
        file_size = stream.seek(0, os.SEEK_END)
        stream.seek(max(0, file_size - _END_RECORD.size - 0xFFFF - 20))
        tail = stream.read()
    at = len(tail) - _END_RECORD.size
    if not (tail[at:at + 4] == b"PK\x05\x06" and tail.endswith(b"\x00\x00")):
        at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _END_RECORD.size > len(tail) or (at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07"):
        return None
    return _END_RECORD.unpack_from(tail, at)[5]


def _is_zip_bomb(members: list[zipfile.ZipInfo]) -> bool:
    return sum(member.file_size for member in members) > MAX_UNZIPPED_SIZE or any(
        member.file_size > _RATIO_FLOOR and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
        for member in members
    )


def _is_text(path: Path) -> bool:
    """UTF-8 (or Windows-1252, common for CSV exports) without control characters but tab and newlines."""
    data = path.read_bytes()
    for encoding in ("utf-8", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return _CONTROL_CHARACTERS.search(text) is None
    return False


# Files ---------------------------------------------------------------------------------------------


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def display_filename(filename: str | None) -> str:
    """The user's filename for display only: its last path part, no control characters, 255 max."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    return name[:255] or "fichier"


def add_fichier(user, collectivite_id: int, action_id: str, stream, filename: str | None) -> PreuveFichier:
    """Store an uploaded file (a binary stream) as a preuve of the action."""
    require_edit(user, collectivite_id)
    live_action(action_id)
    return store_fichier(user, collectivite_id, action_id, stream, filename)


def store_fichier(user, collectivite_id: int, action_id: str, stream, filename: str | None) -> PreuveFichier:
    """Store an uploaded file under `action_id` (an action id, or another area's key: a
    labellisation's documents, an audit's report) and commit; the caller checked the right and key."""
    if not filename:
        raise InvalidEdit("choisissez un fichier à envoyer")
    name = display_filename(filename)
    stored_name = secrets.token_hex(16)
    path = upload_dir() / stored_name
    try:
        size = _copy_limited(stream, path)
        if size == 0:
            raise InvalidEdit("le fichier est vide")
        content_type = detect_type(path, name)
        if content_type is None:
            raise InvalidEdit(f"type de fichier non accepté : formats acceptés {ALLOWED_TYPES_LABEL}")
        fichier = PreuveFichier(
            collectivite_id=collectivite_id, action_id=action_id, filename=name, stored_name=stored_name,
            content_type=content_type, size=size, uploaded_by_id=user.id, uploaded_at=utcnow(),
        )
        db.session.add(fichier)
        commit_edit(user, collectivite_id, "preuve_fichier", action_id, None, json.dumps({"fichier": name}))
    except BaseException:
        db.session.rollback()
        path.unlink(missing_ok=True)
        raise
    return fichier


def _copy_limited(stream, path: Path) -> int:
    size = 0
    with path.open("xb") as out:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > MAX_FILE_SIZE:
                raise InvalidEdit(f"le fichier dépasse la taille maximale de {MAX_FILE_SIZE // (1024 * 1024)} Mo")
            out.write(chunk)
    return size


def fichier_of(collectivite_id: int, fichier_id: int) -> PreuveFichier | None:
    """The file row, only if it belongs to that collectivité."""
    fichier = db.session.get(PreuveFichier, fichier_id)
    return fichier if fichier is not None and fichier.collectivite_id == collectivite_id else None


def stored_path(fichier: PreuveFichier) -> Path:
    return upload_dir() / fichier.stored_name


def delete_fichier(user, collectivite_id: int, fichier_id: int) -> str | None:
    """Delete a file preuve; returns its action id, None when there is no such file."""
    require_edit(user, collectivite_id)
    fichier = fichier_of(collectivite_id, fichier_id)
    if fichier is None:
        return None
    action_id, path = fichier.action_id, stored_path(fichier)
    old = json.dumps({"fichier": fichier.filename})
    db.session.delete(fichier)
    commit_edit(user, collectivite_id, "preuve_fichier", action_id, old, None)
    path.unlink(missing_ok=True)  # after the commit: a failed commit keeps the file with its row
    return action_id


# Links ---------------------------------------------------------------------------------------------


def add_lien(user, collectivite_id: int, action_id: str, titre: str, url: str) -> PreuveLien:
    require_edit(user, collectivite_id)
    live_action(action_id)
    titre, url = (titre or "").strip(), (url or "").strip()
    if not titre:
        raise InvalidEdit("indiquez le titre du lien")
    if len(titre) > MAX_TITRE_LENGTH:
        raise InvalidEdit(f"le titre dépasse {MAX_TITRE_LENGTH} caractères")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_URL_LENGTH:
        raise InvalidEdit("l'adresse doit être une URL http:// ou https:// complète")
    lien = PreuveLien(collectivite_id=collectivite_id, action_id=action_id, titre=titre, url=url,
                      created_by_id=user.id, created_at=utcnow())
    db.session.add(lien)
    commit_edit(user, collectivite_id, "preuve_lien", action_id, None, json.dumps({"titre": titre, "url": url}))
    return lien


def lien_of(collectivite_id: int, lien_id: int) -> PreuveLien | None:
    lien = db.session.get(PreuveLien, lien_id)
    return lien if lien is not None and lien.collectivite_id == collectivite_id else None


def delete_lien(user, collectivite_id: int, lien_id: int) -> str | None:
    """Delete a link preuve; returns its action id, None when there is no such link."""
    require_edit(user, collectivite_id)
    lien = lien_of(collectivite_id, lien_id)
    if lien is None:
        return None
    action_id = lien.action_id
    old = json.dumps({"titre": lien.titre, "url": lien.url})
    db.session.delete(lien)
    commit_edit(user, collectivite_id, "preuve_lien", action_id, old, None)
    return action_id
