"""Static files: versioned URLs cached for a year, text files served compressed.

`url_for('static', filename=...)` appends `?v=<hash of the file's content>`. A request carrying the
current hash is answered `immutable` for a year; without it the file is revalidated each time,
except under vendor/ (see VENDOR_MAX_AGE). Text files are compressed (brotli, else gzip, as the
client's Accept-Encoding allows) once per process and kept in memory: our own code instead of a
middleware because none compresses Flask's file responses (flask-compress skips streamed
responses; WhiteNoise needs compressed copies written beside the files and cannot tell a
versioned request by its query string). Hashes and compressed bodies are keyed by the file's
size and modification time, so an edited file is picked up without a restart.

Static responses never carry the session: no Set-Cookie on a publicly cacheable response, and no
"Vary: Cookie" (flask-login reads the session after every request), which would make a browser
fetch every file again whenever the session cookie changes (a flash message, a login).
"""
import gzip
import hashlib
import io
import mimetypes
import os
from functools import lru_cache
from stat import S_ISREG

import brotli
from flask import Flask, current_app, request, send_file
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

ONE_YEAR = 365 * 24 * 3600
# Vendored files referenced by a relative url() from a vendored stylesheet (DSFR fonts and icons)
# can't carry a version. They change only when the vendored package is upgraded as a whole (see
# its VERSION file), so a day of freshness bounds how long such an upgrade shows stale icons.
VENDOR_MAX_AGE = 24 * 3600
COMPRESSIBLE_TYPES = {"text/css", "text/javascript", "application/javascript", "application/json",
                      "image/svg+xml", "image/vnd.microsoft.icon", "text/plain"}
MIN_COMPRESSED_SIZE = 1024  # below it, the headers weigh more than what compression saves
ENCODERS = {  # in order of preference
    "br": lambda data: brotli.compress(data, quality=11),
    "gzip": lambda data: gzip.compress(data, compresslevel=9, mtime=0),
}


def register_static_assets(app: Flask) -> None:
    app.url_defaults(_add_version)
    app.view_functions["static"] = serve_static
    app.session_interface = _SessionSkippingStaticFiles()


class _SessionSkippingStaticFiles(SecureCookieSessionInterface):
    def save_session(self, app, session, response) -> None:
        if request.endpoint != "static":
            super().save_session(app, session, response)


def _add_version(endpoint: str, values: dict) -> None:
    if endpoint != "static" or "v" in values:
        return
    stat = _stat(values["filename"])
    if stat is not None:
        values["v"] = _version(*stat)


def _stat(filename: str) -> tuple[str, int, int] | None:
    """(path, size, mtime in ns) of a file under the static folder; None when there is none."""
    path = safe_join(current_app.static_folder, filename)
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (path, stat.st_size, stat.st_mtime_ns) if S_ISREG(stat.st_mode) else None


@lru_cache(maxsize=None)
def _version(path: str, _size: int, _mtime_ns: int) -> str:
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()[:16]


@lru_cache(maxsize=None)
def _compressed(path: str, _size: int, _mtime_ns: int, encoding: str) -> bytes:
    with open(path, "rb") as file:
        return ENCODERS[encoding](file.read())


def serve_static(filename: str):
    stat = _stat(filename)
    if stat is None:
        raise NotFound()
    path, size, mtime_ns = stat
    version = _version(*stat)
    mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
    compressible = mimetype in COMPRESSIBLE_TYPES and size >= MIN_COMPRESSED_SIZE
    encoding = request.accept_encodings.best_match(ENCODERS) if compressible else None
    versioned = request.args.get("v") == version
    if versioned:
        max_age = ONE_YEAR
    else:
        max_age = VENDOR_MAX_AGE if filename.startswith("vendor/") else None  # None: revalidate

    if encoding:
        body = io.BytesIO(_compressed(*stat, encoding))
        response = send_file(body, mimetype=mimetype, etag=f"{version}-{encoding}", last_modified=mtime_ns / 1e9,
                             max_age=max_age)
        response.headers["Content-Encoding"] = encoding
    else:
        response = send_file(path, mimetype=mimetype, etag=version, max_age=max_age)
    if compressible:
        response.vary.add("Accept-Encoding")
    if versioned:
        response.cache_control.immutable = True
    return response
