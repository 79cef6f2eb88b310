"""Open data: the public figures of the directory as JSON pages (/api/v1, documented by OPENAPI)
and CSV files. Only what every public page shows: identity, étoiles, % réalisé / programmé overall
and per axe, labellisations obtained; never statuts, précisions nor members, whatever a
collectivité opted in to."""
import csv
import io
from collections.abc import Iterator

from sqlalchemy import select

from app.extensions import db
from app.models import Collectivite, Labellisation, ScoreSummary
from app.services import partage
from app.services.labellisation_history import labellisations_of
from app.services.referentiels import referentiel_links

MAX_LIMIT = 100
DEFAULT_LIMIT = 20


class BadParameter(ValueError):
    """A query parameter the API refuses (400); the message is French."""


def _paging(args) -> tuple[int, int]:
    page, limit = args.get("page", "1"), args.get("limit", str(DEFAULT_LIMIT))
    if not page.isdigit() or int(page) < 1:
        raise BadParameter("page : un entier à partir de 1")
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        raise BadParameter(f"limit : un entier de 1 à {MAX_LIMIT}")
    return int(page), int(limit)


# The columns the pages read: plain rows, a hundred ORM objects (and the summaries' JSON of every
# action) would cost more than the query.
IDENTITY = (Collectivite.id, Collectivite.nom, Collectivite.kind, Collectivite.nature, Collectivite.code,
            Collectivite.population, Collectivite.departement_code, Collectivite.region_code)
SCORES = (ScoreSummary.referentiel_id, ScoreSummary.realise, ScoreSummary.programme, ScoreSummary.etoiles)


def _identity(collectivite) -> dict:
    """Of a Collectivite or of a row of IDENTITY."""
    return {"id": collectivite.id, "nom": collectivite.nom, "type": partage.type_label(collectivite),
            "code": collectivite.code, "population": collectivite.population,
            "departement": collectivite.departement_code, "region": collectivite.region_code}


def _scores(summary, with_axes: bool) -> dict:
    """Of a ScoreSummary or of a row of SCORES (and axes when `with_axes`)."""
    scores = {"realise": summary.realise, "programme": summary.programme, "etoiles": summary.etoiles}
    if with_axes:
        scores["axes"] = {axe: {"realise": realise, "programme": programme}
                          for axe, (realise, programme) in sorted(summary.axes.items())}
    return scores


def _filtered(args):
    """The directory's filters (same names and values); an unknown one is a BadParameter."""
    filters = partage.parse_directory_filters(args, [referentiel_id for referentiel_id, _ in referentiel_links()])
    filters.errors.pop("page", None)  # the API pages with its own parameters
    if filters.errors:
        raise BadParameter(" ; ".join(f"{name} : {message}" for name, message in filters.errors.items()))
    summary_join = (ScoreSummary.collectivite_id == Collectivite.id) & (ScoreSummary.referentiel_id == filters.referentiel)
    return select(*IDENTITY).outerjoin(ScoreSummary, summary_join).where(*filters.conditions).order_by(Collectivite.id)


def collectivites_page(args) -> dict:
    """One page of collectivités (by id), each with its scores per référentiel."""
    page, limit = _paging(args)
    rows = db.session.execute(_filtered(args).offset((page - 1) * limit).limit(limit + 1)).all()
    ids = [collectivite.id for collectivite in rows[:limit]]
    summaries = {}
    for summary in db.session.execute(select(ScoreSummary.collectivite_id, *SCORES).where(ScoreSummary.collectivite_id.in_(ids))):
        summaries.setdefault(summary.collectivite_id, {})[summary.referentiel_id] = _scores(summary, with_axes=False)
    return {"page": page, "limit": limit, "has_next": len(rows) > limit,
            "items": [_identity(c) | {"referentiels": summaries.get(c.id, {})} for c in rows[:limit]]}


def collectivite(collectivite_id: int) -> dict | None:
    found = db.session.get(Collectivite, collectivite_id)
    if found is None:
        return None
    summaries = db.session.scalars(select(ScoreSummary).where(ScoreSummary.collectivite_id == collectivite_id))
    return _identity(found) | {"referentiels": {s.referentiel_id: _scores(s, with_axes=True) for s in summaries},
                               "labellisations": [_labellisation(lab) for lab in labellisations_of(collectivite_id)]}


def _labellisation(labellisation: Labellisation) -> dict:
    return {"referentiel": labellisation.referentiel_id, "etoiles": labellisation.etoiles,
            "obtenue_le": labellisation.obtenue_le.isoformat(), "score_realise": labellisation.score_realise,
            "score_programme": labellisation.score_programme}


def labellisations_page(args) -> dict:
    """One page of the labellisations obtained, latest first."""
    page, limit = _paging(args)
    rows = db.session.execute(
        select(Collectivite, Labellisation).join(Labellisation, Labellisation.collectivite_id == Collectivite.id)
        .order_by(Labellisation.obtenue_le.desc(), Labellisation.id.desc())
        .offset((page - 1) * limit).limit(limit + 1)).all()
    return {"page": page, "limit": limit, "has_next": len(rows) > limit,
            "items": [_identity(c) | {"labellisation": _labellisation(lab)} for c, lab in rows[:limit]]}


def scores_page(referentiel_id: str, args) -> dict:
    """One page of the scores on a référentiel (collectivités having some), by collectivité id."""
    if referentiel_id not in dict(referentiel_links()):
        raise BadParameter(f"référentiel inconnu : {referentiel_id}")
    page, limit = _paging(args)
    rows = db.session.execute(
        select(*IDENTITY, *SCORES, ScoreSummary.axes).join(ScoreSummary, ScoreSummary.collectivite_id == Collectivite.id)
        .where(ScoreSummary.referentiel_id == referentiel_id).order_by(Collectivite.id)
        .offset((page - 1) * limit).limit(limit + 1)).all()
    return {"page": page, "limit": limit, "has_next": len(rows) > limit, "referentiel": referentiel_id,
            "items": [_identity(row) | {"scores": _scores(row, with_axes=True)} for row in rows[:limit]]}


CSV_COLUMNS = ("id", "nom", "type", "code", "population", "departement", "region", "referentiel", "etoiles",
               "realise", "programme")


def scores_csv(args) -> Iterator[str]:
    """The collectivités matching the directory's filters, one line per collectivité and référentiel
    scored (or one line without scores), streamed in batches."""
    statement = _filtered(args).execution_options(yield_per=2000)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    summaries = {(s.collectivite_id, s.referentiel_id): s for s in db.session.execute(select(ScoreSummary.collectivite_id, *SCORES))}
    referentiels = [referentiel_id for referentiel_id, _ in referentiel_links()]
    for index, found in enumerate(db.session.execute(statement)):
        identity = _identity(found)
        scored = [summaries[key] for key in ((found.id, r) for r in referentiels) if key in summaries]
        for summary in scored or [None]:
            writer.writerow([*identity.values(), *(
                (summary.referentiel_id, summary.etoiles, summary.realise, summary.programme) if summary else ("", "", "", ""))])
        if index % 1000 == 999:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
