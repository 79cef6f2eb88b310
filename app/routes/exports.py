"""Downloads of a collectivité's state on a référentiel (XLSX, CSV), for its readers."""
from flask import Blueprint, Response, abort

from app.policy import require_permission
from app.services.exports import ExportFile, ExportUnavailable, export_referentiel

bp = Blueprint("exports", __name__, url_prefix="/collectivites/<int:collectivite_id>")


def download(export: ExportFile) -> Response:
    return Response(export.data, mimetype=export.mimetype, headers={
        # The file name is an ASCII slug: no quoting or RFC 5987 encoding needed.
        "Content-Disposition": f'attachment; filename="{export.filename}"',
        "Cache-Control": "private, no-store",
    })


@bp.get("/referentiels/<referentiel_id>/export.<any(xlsx, csv):file_format>")
@require_permission("read")
def referentiel(collectivite_id: int, referentiel_id: str, file_format: str):
    try:
        return download(export_referentiel(collectivite_id, referentiel_id, file_format))
    except ExportUnavailable:
        abort(404)
