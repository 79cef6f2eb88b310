"""Exports of a collectivité's référentiel state: the XLSX read back with openpyxl and the CSV
with csv give one row per live node, the engine's totals, statuts, précisions and preuves; the
download route for readers only; the `flask export referentiel` command."""
import csv
import io
from dataclasses import replace

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.content_loader import load_dir
from app.extensions import db
from app.models import Action, ActionStatut, Collectivite
from app.scoring import SCORE_FIELDS
from app.persistence import utcnow
from app.rls import system_work
from app.scenarios import load_scenario
from app.scoring.avancement import AVANCEMENT_FRACTIONS
from app.services import personnalisation, precisions, preuves, statuts
from app.services.evaluation import rescore
from app.services.exports import export_meta, referentiel_rows, to_csv, to_xlsx
from tests.factories import add_member, login, make_collectivite, make_user
from tests.suivi_content import POINTS, fresh_score_table, make_editor, run_jobs, tiny_content  # noqa: F401

TREE_ORDER = ["", "1", "1.1", "1.1.1", "1.1.2", "1.2", "1.2.1", "1.2.2", "1.2.3", "2", "2.0", "2.1", "2.2",
              "2.2.1", "2.2.2"]


@pytest.fixture
def filled(tiny_content):
    """The tiny content with statuts of every kind, précisions and preuves, scores up to date."""
    user, collectivite = make_editor()
    cid = collectivite.id
    statuts.set_statut(user, cid, "eci_1.1.1", "fait")
    statuts.set_statut(user, cid, "eci_1.2.1", "detaille", (50, 30, 20))
    statuts.set_statut(user, cid, "eci_1.2.2", "non_concerne")
    statuts.set_statut(user, cid, "eci_2.1", "programme")
    personnalisation.set_reponse(user, cid, "compost", "NON")  # désactive eci_2.2
    precisions.set_precision(user, cid, "eci_1.1", "- délibération du 12/03\r\n- =SOMME(A1:A2) **gras**")
    preuves.add_lien(user, cid, "eci_1.1.1", "Délibération", "https://example.org/d.pdf")
    preuves.add_fichier(user, cid, "eci_1.1.1", io.BytesIO(b"%PDF-1.4 test"), "rapport.pdf")
    run_jobs()
    return cid


def engine_record(cid: int, referentiel_id: str = "eci") -> dict:
    """The root's record as the engine computes it now from the stored statuts."""
    return dict(zip(SCORE_FIELDS, fresh_score_table(cid, referentiel_id).rows()[referentiel_id]))


def xlsx_rows(data: bytes):
    sheet = load_workbook(io.BytesIO(data)).active
    return sheet, [[cell.value for cell in row] for row in sheet.iter_rows()]


def csv_rows(data: bytes):
    """The records; checks the BOM and that each ends with CRLF (précisions hold bare LFs)."""
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert text.endswith("\r\n") and text.count("\r\n") == len(records)
    return records


def test_xlsx_has_one_row_per_node_and_the_engine_totals(filled):
    rows = referentiel_rows(filled, "eci")
    sheet, cells = xlsx_rows(to_xlsx(rows, export_meta(filled, "eci")))
    assert "Économie circulaire (test)" in cells[0][0]
    header, body = cells[1], cells[2:]
    assert header[:4] == ["Identifiant", "Nom", "Type", "Statut"]
    assert [row[0] or "" for row in body] == TREE_ORDER  # one row per node, tree order, identifiants as text
    engine = engine_record(filled)
    root = dict(zip(header, body[0]))
    assert engine["point_fait"] > 0 and (root["Fait"], root["Potentiel"]) == (engine["point_fait"], engine["point_potentiel"])
    assert root["Points du référentiel"] == POINTS["eci"]
    assert root["Réalisé (%)"] == pytest.approx(engine["point_fait"] / engine["point_potentiel"])
    by_id = {row[0]: dict(zip(header, row)) for row in body}
    assert by_id["1.1.1"]["Statut"] == "Fait" and by_id["1.1.1"]["Preuves"] == 2 and by_id["1.1.1"]["Type"] == "tâche"
    assert by_id["1.2.1"]["Statut"] == "Détaillé (fait 50 %, programmé 30 %, pas fait 20 %)"
    assert by_id["1.2.2"]["Statut"] == "Non concerné" and by_id["1.2.2"]["Réalisé (%)"] is None
    assert by_id["2.2"]["Statut"] == "Désactivée (personnalisation)" and by_id["2.2"]["Potentiel"] == 0
    assert by_id["1.2.3"]["Statut"] == "Non renseigné" and by_id["1"]["Statut"] is None and by_id["1"]["Type"] == "mesure"
    # The précision as typed, a text (never a formula) even where a line starts with "=".
    assert by_id["1.1"]["Précision"] == "- délibération du 12/03\n- =SOMME(A1:A2) **gras**"
    assert sheet["L4"].data_type == "inlineStr" and sheet["E3"].data_type == "n" and sheet["E3"].number_format == "#,##0.00"
    assert sheet.freeze_panes == "C3"
    assert sheet.row_dimensions[6].outline_level == 3 and sheet["B6"].alignment.indent == 3  # tâche 1.1.1


def test_csv_is_for_excel_in_french(filled):
    rows = referentiel_rows(filled, "eci")
    lines = csv_rows(to_csv(rows, export_meta(filled, "eci")))
    header, body = lines[0], lines[1:]
    assert header[-3:] == ["Réalisé (%)", "Preuves", "Précision"]
    assert [line[0] for line in body] == ["", *(f'="{identifiant}"' for identifiant in TREE_ORDER[1:])]
    root, detaille = dict(zip(header, body[0])), dict(zip(header, body[6]))
    engine = engine_record(filled)
    assert root["Fait"] == f"{engine['point_fait']:g}".replace(".", ",")
    assert root["Potentiel"] == f"{engine['point_potentiel']:g}".replace(".", ",")
    # 1.2.1 gets half the points of its non concerné sibling 1.2.2: potentiel 15.
    assert (detaille["Potentiel"], detaille["Fait"], detaille["Programmé"], detaille["Réalisé (%)"]) == ("15", "7,5", "4,5", "50")
    assert dict(zip(header, body[2]))["Précision"].startswith("'- délibération")  # no formula for Excel
    assert root["Réalisé (%)"] == f"{round(100 * engine['point_fait'] / engine['point_potentiel'], 1):g}".replace(".", ",")


def test_texts_excel_would_refuse_or_run_are_made_safe(filled):
    long_text = "=1+1 \x07" + "x" * 40_000
    [row] = [r for r in referentiel_rows(filled, "eci") if r.identifiant == "1.1"]
    row = replace(row, precision=long_text)
    meta = export_meta(filled, "eci")
    _sheet, cells = xlsx_rows(to_xlsx([row], meta))
    exported = cells[2][-1]
    assert len(exported) == 32_767 and exported.startswith("=1+1 x") and exported.endswith("(texte tronqué : le texte complet est dans l'application)")
    assert csv_rows(to_csv([row], meta))[1][-1] == "'" + long_text


def test_rows_read_the_scores_they_are_given(filled):
    """A snapshot's records instead of the stored scores."""
    scores = {"eci": engine_record(filled) | {"point_fait": 12.5}}
    rows = referentiel_rows(filled, "eci", scores=scores)
    assert rows[0].point_fait == 12.5 and rows[1].point_fait is None and rows[1].realise is None


@pytest.fixture
def cae_with_statuts(app_context, shared_dir):
    """The 2025 CAE loaded and the statuts of a shared CAE scenario stored for a collectivité."""
    report = load_dir(shared_dir / "referentiels" / "2025" / "markdown", db.session)
    assert report.ok, report.errors[:3]
    scenario = load_scenario(shared_dir / "scenarios" / "visible_001_cae.test.yml")
    collectivite = make_collectivite()
    avancements = {fractions: name for name, fractions in AVANCEMENT_FRACTIONS.items()}
    with system_work():
        for statut in scenario.statuts:
            fractions = statut.avancement
            avancement = "non_renseigne" if fractions is None else avancements.get(fractions, "detaille")
            detail = fractions if avancement == "detaille" else (None, None, None)
            db.session.add(ActionStatut(collectivite_id=collectivite.id, referentiel_id="cae", action_id=statut.action_id,
                                        avancement=avancement, concerne=statut.concerne, fait=detail[0],
                                        programme=detail[1], pas_fait=detail[2], modified_at=utcnow()))
        db.session.commit()
    rescore(collectivite.id, "cae")  # what the job does after an edit: pages and exports only read
    return collectivite.id


def test_full_cae_exports_every_node_with_the_engine_totals(cae_with_statuts):
    cid = cae_with_statuts
    rows = referentiel_rows(cid, "cae")
    live = db.session.scalar(select(db.func.count()).select_from(Action).where(Action.referentiel_id == "cae", ~Action.archived))
    engine = engine_record(cid, "cae")
    _sheet, cells = xlsx_rows(to_xlsx(rows, export_meta(cid, "cae")))
    assert len(cells) - 2 == len(rows) == live > 1000
    root = dict(zip(cells[1], cells[2]))
    assert engine["point_fait"] > 0
    assert (root["Fait"], root["Potentiel"]) == (engine["point_fait"], engine["point_potentiel"])
    assert {row.type for row in rows} == {"référentiel", "axe", "sous-axe", "mesure", "sous-action", "tâche"}


# Route ---------------------------------------------------------------------------------------------


@pytest.fixture
def members(filled):
    reader, outsider = make_user(), make_user()
    add_member(reader, db.session.get(Collectivite, filled), "lecture")
    add_member(outsider, make_collectivite(), "admin")
    return filled, reader, outsider


@pytest.mark.parametrize("extension", ["xlsx", "csv"])
def test_a_reader_downloads_the_export(client, members, extension):
    cid, reader, _outsider = members
    login(client, reader)
    response = client.get(f"/collectivites/{cid}/referentiels/eci/export.{extension}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="tet-commune-test-') and "-eci-" in disposition
    assert disposition.endswith(f'.{extension}"') and "no-store" in response.headers["Cache-Control"]
    rows = xlsx_rows(response.data)[1][2:] if extension == "xlsx" else csv_rows(response.data)[1:]
    assert len(rows) == len(TREE_ORDER)


def test_outsiders_and_anonymous_users_get_no_export(client, members):
    cid, _reader, outsider = members
    url = f"/collectivites/{cid}/referentiels/eci/export.xlsx"
    assert client.get(url).status_code == 302  # to the login page
    login(client, outsider)
    assert client.get(url).status_code == 403
    assert client.get(f"/collectivites/{cid}/referentiels/eci/export.pdf").status_code == 404


def test_an_unknown_referentiel_is_not_found(client, members):
    cid, reader, _outsider = members
    login(client, reader)
    assert client.get(f"/collectivites/{cid}/referentiels/xyz/export.csv").status_code == 404


# CLI -----------------------------------------------------------------------------------------------


def test_cli_writes_the_file(runner, filled, tmp_path):
    output = tmp_path / "etat.csv"
    result = runner.invoke(args=["export", "referentiel", str(filled), "eci", "--format", "csv", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert f"{len(TREE_ORDER)} lignes" in result.output
    assert len(csv_rows(output.read_bytes())) == len(TREE_ORDER) + 1


@pytest.mark.parametrize(("args", "message"), [
    (["999999", "eci"], "collectivité inconnue : 999999"),
    (["abc", "eci"], "doit être un nombre entier"),
    (["{cid}", "xyz"], "référentiel inconnu : « xyz » (référentiels disponibles : eci)"),
])
def test_cli_explains_unknown_targets(runner, filled, tmp_path, args, message):
    output = tmp_path / "etat.xlsx"
    args = [arg.format(cid=filled) for arg in args]
    result = runner.invoke(args=["export", "referentiel", *args, "-o", str(output)])
    assert result.exit_code == 1 and message in result.output and "Erreur" in result.output
    assert not output.exists()
