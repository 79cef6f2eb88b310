"""`flask collectivites import DIR` and `flask demo seed`: counts, idempotence, identity, errors."""
import shutil

from sqlalchemy import func, select

from app.extensions import db
from app.models import Collectivite, Membership, User
from app.services.collectivites import DEMO_EMAIL, DEMO_PASSWORD, identite_of, search_collectivites


def _count(**filters):
    return db.session.scalar(select(func.count()).select_from(Collectivite).filter_by(**filters))


def _by_code(kind, code):
    return db.session.scalar(select(Collectivite).filter_by(kind=kind, code=code))


def test_import_loads_every_list_and_is_idempotent(runner, app, shared_dir):
    first = runner.invoke(args=["collectivites", "import", str(shared_dir / "collectivites")])
    assert first.exit_code == 0, first.output
    assert "communes : 34990" in first.output and "créées : 45246" in first.output
    second = runner.invoke(args=["collectivites", "import", str(shared_dir / "collectivites")])
    assert "créées : 0, mises à jour : 45246" in second.output
    with app.app_context():
        assert _count() == 45_246
        assert (_count(kind="region"), _count(kind="departement"), _count(kind="commune")) == (18, 101, 34_990)
        assert _count(kind="EPCI") + _count(kind="syndicat") == 10_137
        assert _count(kind="EPCI", nature="PETR") == 0
        assert identite_of(_by_code("departement", "974")).localisation == {"DOM"}
        assert identite_of(_by_code("commune", "01004")).localisation == {"Metropole"}
        petr = db.session.scalar(select(Collectivite).filter_by(nature="PETR"))
        assert identite_of(petr).type == {"EPCI", "syndicat"}
        assert search_collectivites("amberieu en bugey")[0].code == "01004"


def test_import_reports_every_error_and_writes_nothing(runner, app, shared_dir, tmp_path):
    for name in ("regions.csv", "departements.csv", "groupements.csv"):
        shutil.copy(shared_dir / "collectivites" / name, tmp_path / name)
    (tmp_path / "communes.csv").write_text(
        "code,departement_code,region_code,libelle,population\n"
        "01001,01,84,Première,12\n"
        "01002,01,99,Région inconnue,12\n"
        "01003,01,84,Population fausse,douze\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["collectivites", "import", str(tmp_path)])
    assert result.exit_code != 0
    assert f"{tmp_path / 'communes.csv'}:3: région inconnue : '99'" in result.output
    assert f"{tmp_path / 'communes.csv'}:4: population invalide : 'douze'" in result.output
    assert "rien n'a été importé" in result.output
    with app.app_context():
        assert _count() == 0


def test_demo_seed_is_idempotent(runner, app, client):
    for _ in range(2):
        result = runner.invoke(args=["demo", "seed"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert _count() == 4 and _count(drom=True) == 1
        assert {c.kind for c in db.session.scalars(select(Collectivite))} == {"commune", "EPCI", "syndicat"}
        user = db.session.scalar(select(User).filter_by(email=DEMO_EMAIL))
        assert [m.role for m in db.session.scalars(select(Membership).filter_by(user_id=user.id))] == ["admin"]
    response = client.post("/connexion", data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
    assert response.status_code == 302
