"""Malformed requests get a clear answer before any view runs, never a 500 from the database.

- A NUL character (\\x00, %00) in the path, the query string, a form field, an uploaded file's name
  or a header: PostgreSQL refuses NUL in text and no genuine input holds one, so 400.
- An <int:...> in a URL matches only ids that the 32-bit integer keys can hold: a larger one names
  nothing (404) instead of overflowing the query.
"""
from itertools import chain

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter, ValidationError

NUL_REFUSED = ("Votre demande contient un caractère nul, accepté dans aucun champ : "
               "retirez-le de l'adresse ou du formulaire, puis recommencez.")
_LARGEST_ID = 2**31 - 1


class _DatabaseId(IntegerConverter):
    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > _LARGEST_ID:
            raise ValidationError()
        return number


def init_bad_input(app: Flask) -> None:
    """Call before the blueprints are registered: their URL rules pick the int converter then."""
    app.url_map.converters["int"] = _DatabaseId
    app.before_request(_refuse_nul)


def _refuse_nul():
    texts = chain(
        [request.path],
        chain.from_iterable(request.args.items(multi=True)),
        chain.from_iterable(request.form.items(multi=True)),
        chain.from_iterable((name, upload.filename or "") for name, upload in request.files.items(multi=True)),
        chain.from_iterable(request.headers.items()),
    )
    if any("\x00" in text for text in texts):
        abort(400, description=NUL_REFUSED)
