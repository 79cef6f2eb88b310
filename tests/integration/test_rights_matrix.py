"""Rights matrix: every mutating route (POST/PUT/PATCH/DELETE) of the app, tried by five actors.

Actors: anonymous, lecture / edition / admin members of collectivité A, and an admin of another
collectivité B. A route that mutates must be listed in MATRIX, or test_every_mutating_route_is_listed
fails. Adding a route is one line:

    "area.endpoint": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "action_id": "x"}, {"field": "v"}),

permission: "public" (everyone), "login" (any signed-in user), a policy permission on
collectivité A ("read", "edit", "admin"), or a right none of the actors holds: "auditeur" (of
collectivité A on the référentiel), "platform" (platform administrator). The view args function receives the World below.
Denied means 401 or a redirect to the login page for anonymous users, 403 for signed-in users;
allowed means anything else below 500 (a form rejected with 422 was still let through).
"""
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from flask import url_for

from app.extensions import db
from app.models import JoinRequest
from app.persistence import utcnow
from app.rls import system_work
from app.services.accounts import create_invitation
from tests.factories import add_member, login, make_collectivite, make_user

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
ACTORS = ("anonymous", "lecture", "edition", "admin", "other")


@dataclass
class World:
    """Collectivité A with one member per role (+ `target`, a lecture member to act on), B with its admin."""

    collectivite_id: int
    other_collectivite_id: int
    actors: dict
    target_id: int
    join_request_id: int
    invitation_token: str


@dataclass(frozen=True)
class Rule:
    permission: str
    view_args: Callable[[World], dict] = lambda w: {"collectivite_id": w.collectivite_id}
    form: dict = field(default_factory=dict)


def _no_args(world: World) -> dict:
    return {}


def _member(world: World) -> dict:
    return {"collectivite_id": world.collectivite_id, "user_id": world.target_id}


def _join_request(world: World) -> dict:
    return {"collectivite_id": world.collectivite_id, "request_id": world.join_request_id}


def _referentiel(world: World) -> dict:
    return {"collectivite_id": world.collectivite_id, "referentiel_id": "eci"}


MATRIX: dict[str, Rule] = {
    "auth.signup": Rule("public", _no_args, {"email": "nouveau@exemple.fr", "password": "assez-long-pour-passer", "name": "N"}),
    "auth.login": Rule("public", _no_args, {"email": "x@exemple.fr", "password": "faux"}),
    "auth.logout": Rule("public", _no_args),
    "auth.forgot_password": Rule("public", _no_args, {"email": "x@exemple.fr"}),
    "auth.reset_password": Rule("public", lambda w: {"token": "jeton-invalide"}, {"password": "assez-long-pour-passer"}),
    "preview.render_preview": Rule("login", _no_args, {"chemin": "referentiels/cae/nouveau.md", "texte": ""}),
    "collectivites.request_join": Rule("login"),
    "collectivites.invitation": Rule("login", lambda w: {"token": w.invitation_token}),
    "membres.accept_request": Rule("admin", _join_request, {"role": "lecture"}),
    "membres.refuse_request": Rule("admin", _join_request),
    "membres.change_role": Rule("admin", _member, {"role": "edition"}),
    "membres.remove_member": Rule("admin", _member),
    "membres.create_invitation": Rule("admin", form={"role": "lecture"}),
    "partage.settings": Rule("admin", form={"precisions_publiques": "1"}),
    "statuts.set_statut": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "referentiel_id": "eci", "action_id": "eci_1.1"}, {"statut": "fait"}),
    "precisions.set_precision": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "referentiel_id": "eci", "action_id": "eci_1.1"}, {"texte": "x"}),
    "preuves.upload_fichier": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "referentiel_id": "eci", "action_id": "eci_1.1"}),
    "preuves.add_lien": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "referentiel_id": "eci", "action_id": "eci_1.1"}, {"titre": "t", "url": "https://exemple.fr"}),
    "preuves.delete_fichier": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "referentiel_id": "eci", "fichier_id": 1}),
    "indicateurs.save_valeur": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "indicateur_id": "perso-1"}, {"annee": "2020", "resultat": "1"}),
    "indicateurs.create_perso": Rule("edit", form={"titre": "t", "unite": "u"}),
    "indicateurs.import_preview": Rule("edit"),
    "indicateurs.import_confirm": Rule("edit", form={"contenu": ""}),
    "preuves.delete_lien": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "referentiel_id": "eci", "lien_id": 1}),
    "etats_des_lieux.freeze": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "referentiel_id": "eci"}, {"nom": "Bilan", "quand": "maintenant"}),
    "etats_des_lieux.delete": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "referentiel_id": "eci", "snapshot_id": 1}),
    "personnalisation.set_reponse": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "question_id": "compost"}, {"valeur": "OUI"}),
    "plans.create_plan": Rule("edit", form={"nom": "Plan"}),
    "plans.update_plan": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "plan_id": 1}, {"nom": "P"}),
    "plans.delete_plan": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "plan_id": 1}),
    "plans.add_axe": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "plan_id": 1}, {"nom": "A"}),
    "plans.rename_axe": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "axe_id": 1}, {"nom": "A"}),
    "plans.delete_axe": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "axe_id": 1}),
    "plans.create_fiche": Rule("edit", form={"titre": "Fiche"}),
    "plans.set_field": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "fiche_id": 1, "name": "titre"}, {"valeur": "T"}),
    "plans.move": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "fiche_id": 1}, {"statut": "En cours"}),
    "plans.delete_fiche": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "fiche_id": 1}),
    "plans.attach": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "fiche_id": 1}, {"axe_id": "1"}),
    "plans.detach": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "fiche_id": 1, "axe_id": 1}),
    "plans.link_action": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "fiche_id": 1}, {"action_id": "eci_1.1"}),
    "plans.unlink_action": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "fiche_id": 1, "action_id": "eci_1.1"}),
    "plans.link_indicateur": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "fiche_id": 1}, {"indicateur_id": "cae_8"}),
    "plans.unlink_indicateur": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "fiche_id": 1, "indicateur_id": "cae_8"}),
    "plans.add_etape": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "fiche_id": 1}, {"titre": "É"}),
    "plans.update_etape": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "fiche_id": 1, "etape_id": 1}, {"titre": "É"}),
    "plans.move_etape": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "fiche_id": 1, "etape_id": 1}, {"sens": "bas"}),
    "plans.delete_etape": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "fiche_id": 1, "etape_id": 1}),
    "plans.set_budget": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "fiche_id": 1}, {"type": "investissement", "annee": "2025", "montant": "1"}),
    "plans.add_note": Rule("edit", lambda w: {"collectivite_id": w.collectivite_id, "fiche_id": 1}, {"texte": "n"}),
    "plans.import_plan": Rule("edit"),
    # Nothing is written: a simulation is a read.
    "labellisation.simulation": Rule("read", lambda w: {"collectivite_id": w.collectivite_id, "referentiel_id": "eci"}, {"statut-eci_1.1": "fait"}),
    "audits.add_document": Rule("edit", _referentiel),
    "audits.send_demande": Rule("edit", _referentiel, {"sujet": "cot"}),
    "audits.start_audit": Rule("auditeur", _referentiel),
    "audits.save_mesure": Rule("auditeur", lambda w: {**_referentiel(w), "action_id": "eci_1"}, {"statut": "audite"}),
    "audits.add_rapport": Rule("auditeur", _referentiel),
    "audits.validate_audit": Rule("auditeur", _referentiel),
    "audits.name_auditeur": Rule("platform", _no_args, {"email": "x@exemple.fr"}),
    "audits.remove_auditeur": Rule("platform", lambda w: {"auditeur_id": 1}),
}


def _mutating_endpoints(app) -> dict[str, str]:
    return {
        rule.endpoint: sorted(rule.methods & MUTATING)[0]
        for rule in app.url_map.iter_rules()
        if rule.methods & MUTATING
    }


def test_every_mutating_route_is_listed(app):
    endpoints = _mutating_endpoints(app)
    assert sorted(set(endpoints) - set(MATRIX)) == [], "add these routes to MATRIX in tests/integration/test_rights_matrix.py"
    assert sorted(set(MATRIX) - set(endpoints)) == [], "these MATRIX rows name no mutating route"


def _world() -> World:
    collectivite, other_collectivite = make_collectivite(), make_collectivite()
    actors = {"anonymous": None}
    for role in ("lecture", "edition", "admin"):
        actors[role] = make_user()
        add_member(actors[role], collectivite, role)
    actors["other"] = make_user()
    add_member(actors["other"], other_collectivite, "admin")
    target, asker = make_user(), make_user()
    add_member(target, collectivite, "lecture")
    join_request = JoinRequest(user_id=asker.id, collectivite_id=collectivite.id, status="pending", created_at=utcnow())
    with system_work():  # set-up, not the actors' actions
        db.session.add(join_request)
        db.session.commit()
        invitation_token = create_invitation(collectivite.id, "edition", actors["admin"])
    return World(
        collectivite_id=collectivite.id,
        other_collectivite_id=other_collectivite.id,
        actors=actors,
        target_id=target.id,
        join_request_id=join_request.id,
        invitation_token=invitation_token,
    )


def _expected_allowed(permission: str, actor: str) -> bool:
    if permission == "public":
        return True
    if permission == "login":
        return actor != "anonymous"
    granted = {"read": {"lecture", "edition", "admin"}, "edit": {"edition", "admin"}, "admin": {"admin"},
               "auditeur": set(), "platform": set()}
    return actor in granted[permission]


def _denied(response, actor: str) -> bool:
    if actor == "anonymous":
        return response.status_code == 401 or (
            response.status_code == 302 and response.headers["Location"].startswith("/connexion")
        )
    return response.status_code == 403


def _call(app, client, endpoint: str, world: World, headers=None):
    rule = MATRIX[endpoint]
    with app.test_request_context():
        url = url_for(endpoint, **rule.view_args(world))
    return client.open(url, method=_mutating_endpoints(app)[endpoint], data=rule.form, headers=headers or {})


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_rights(app, app_context, client, endpoint, actor):
    world = _world()
    if world.actors[actor] is not None:
        login(client, world.actors[actor])
    response = _call(app, client, endpoint, world)
    assert response.status_code < 500
    expected = _expected_allowed(MATRIX[endpoint].permission, actor)
    assert _denied(response, actor) is not expected, f"{endpoint} as {actor}: {response.status_code}"


@pytest.mark.parametrize("endpoint", sorted(e for e, rule in MATRIX.items() if rule.permission != "public"))
def test_anonymous_htmx_requests_get_401(app, app_context, client, endpoint):
    assert _call(app, client, endpoint, _world(), headers={"HX-Request": "true"}).status_code == 401
