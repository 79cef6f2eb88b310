"""Directory search, joining (first member = admin), requests, roles, removals, invitations."""
import re
from datetime import timedelta

import pytest
from flask import message_flashed, template_rendered
from sqlalchemy import select, update

from app.extensions import db
from app.models import Invitation, JoinRequest, Membership
from app.services import accounts
from app.persistence import utcnow
from app.rls import act_as, system_work
from app.services.accounts import FormErrors
from tests.factories import add_member, login, make_collectivite, make_user

pytestmark = pytest.mark.usefixtures("app_context")


def _role(user, collectivite):
    membership = db.session.get(Membership, (user.id, collectivite.id))
    db.session.refresh(membership) if membership else None
    return membership.role if membership else None


def test_directory_search_is_accent_insensitive_and_htmx_gets_the_fragment(client):
    make_collectivite(nom="Saint-Étienne", population=170_000)
    make_collectivite(nom="Saint-Étienne-de-Tinée", population=300)
    page = client.get("/collectivites?q=saint etienne")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and "HX-Request" in page.headers["Vary"]
    assert html.index("Saint-Étienne<") < html.index("Saint-Étienne-de-Tinée")
    fragment = client.get("/collectivites?q=ETIENNE", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.startswith('<div id="collectivites-resultats">') and "<html" not in fragment
    assert "Se connecter pour rejoindre" in fragment


def test_first_member_becomes_admin_next_ones_wait(client):
    commune, first, second = make_collectivite(), make_user(), make_user()
    login(client, first)
    client.post(f"/collectivites/{commune.id}/rejoindre")
    assert _role(first, commune) == "admin"
    login(client, second)
    response = client.post(f"/collectivites/{commune.id}/rejoindre", follow_redirects=True)
    assert "Votre demande est envoyée" in response.get_data(as_text=True)
    client.post(f"/collectivites/{commune.id}/rejoindre")
    assert _role(second, commune) is None
    assert len(db.session.scalars(select(JoinRequest).filter_by(user_id=second.id)).all()) == 1


def test_admin_accepts_with_a_role_and_refuses(client):
    commune, admin, asker, other = make_collectivite(), make_user(), make_user(), make_user()
    add_member(admin, commune, "admin")
    for user in (asker, other):
        login(client, user)
        client.post(f"/collectivites/{commune.id}/rejoindre")
    requests = {r.user_id: r.id for r in db.session.scalars(select(JoinRequest))}
    login(client, admin)
    assert asker.name in client.get(f"/collectivites/{commune.id}/membres").get_data(as_text=True)
    client.post(f"/collectivites/{commune.id}/demandes/{requests[asker.id]}/accepter", data={"role": "edition"})
    client.post(f"/collectivites/{commune.id}/demandes/{requests[other.id]}/refuser")
    assert (_role(asker, commune), _role(other, commune)) == ("edition", None)
    again = client.post(f"/collectivites/{commune.id}/demandes/{requests[other.id]}/accepter", follow_redirects=True)
    assert "déjà été traitée" in again.get_data(as_text=True)


def test_roles_change_and_the_last_admin_stays(client):
    commune, admin, member = make_collectivite(), make_user(), make_user()
    add_member(admin, commune, "admin")
    add_member(member, commune, "lecture")
    login(client, admin)
    client.post(f"/collectivites/{commune.id}/membres/{member.id}/role", data={"role": "admin"})
    assert _role(member, commune) == "admin"
    client.post(f"/collectivites/{commune.id}/membres/{member.id}/retirer")
    assert _role(member, commune) is None
    for url, data in ((f"membres/{admin.id}/role", {"role": "lecture"}), (f"membres/{admin.id}/retirer", {})):
        response = client.post(f"/collectivites/{commune.id}/{url}", data=data, follow_redirects=True)
        assert "garder au moins un administrateur" in response.get_data(as_text=True)
    assert _role(admin, commune) == "admin"
    bad_role = client.post(f"/collectivites/{commune.id}/membres/{admin.id}/role", data={"role": "chef"}, follow_redirects=True)
    assert "Choisissez un rôle" in bad_role.get_data(as_text=True)


def _new_invitation_link(client, commune, role):
    page = client.post(f"/collectivites/{commune.id}/invitations", data={"role": role}, follow_redirects=True)
    return re.search(r"http://127\.0\.0\.1:5000(/invitations/[\w-]+)", page.get_data(as_text=True))[1]


def test_invitation_link_is_single_use(client):
    commune, admin, guest, late = make_collectivite(), make_user(), make_user(), make_user()
    add_member(admin, commune, "admin")
    login(client, admin)
    link = _new_invitation_link(client, commune, "edition")
    assert db.session.scalar(select(Invitation.token_hash)) not in link  # only the hash is stored
    login(client, guest)
    assert commune.nom in client.get(link).get_data(as_text=True)
    assert client.post(link).status_code == 302
    assert _role(guest, commune) == "edition"
    login(client, late)
    assert "plus valide" in client.get(link).get_data(as_text=True)
    client.post(link)
    assert _role(late, commune) is None


def test_expired_invitation_is_refused(client):
    commune, admin, guest = make_collectivite(), make_user(), make_user()
    add_member(admin, commune, "admin")
    login(client, admin)
    link = _new_invitation_link(client, commune, "lecture")
    invitation = db.session.scalar(select(Invitation))
    with system_work():
        invitation.expires_at -= timedelta(days=8)
        db.session.commit()
    login(client, guest)
    response = client.post(link, follow_redirects=True)
    assert "plus valide" in response.get_data(as_text=True) and _role(guest, commune) is None


def test_mes_collectivites_lists_roles_and_pending_requests(client):
    commune, pending, user = make_collectivite(nom="Ville A"), make_collectivite(nom="Ville B"), make_user()
    add_member(make_user(), pending, "admin")
    add_member(user, commune, "edition")
    login(client, user)
    client.post(f"/collectivites/{pending.id}/rejoindre")
    html = client.get("/mes-collectivites").get_data(as_text=True)
    assert "Ville A" in html and "Édition" in html
    assert html.index("Demandes en attente") < html.index("Ville B")


def test_members_page_hides_admin_tools_from_readers(client):
    commune, reader = make_collectivite(), make_user()
    add_member(make_user(), commune, "admin")
    add_member(reader, commune, "lecture")
    login(client, reader)
    html = client.get(f"/collectivites/{commune.id}/membres").get_data(as_text=True)
    assert reader.email in html and "Créer un lien d" not in html


def test_members_page_is_for_members_only(client):
    commune, outsider = make_collectivite(), make_user()
    add_member(make_user(), commune, "admin")
    assert client.get(f"/collectivites/{commune.id}/membres").headers["Location"].startswith("/connexion")
    login(client, outsider)
    assert client.get(f"/collectivites/{commune.id}/membres").status_code == 403


def _decided_elsewhere(engine, statement) -> None:
    """A change committed by another connection (another admin, another request) behind the session's
    back; as the tables' owner, whom row-level security lets through."""
    with engine.begin() as connection:
        connection.execute(statement)


def test_a_join_request_decided_meanwhile_is_not_decided_twice(app_context, owner_engine):
    commune, admin, asker = make_collectivite(), make_user(), make_user()
    add_member(admin, commune, "admin")
    act_as(asker)
    join_request = JoinRequest(user_id=asker.id, collectivite_id=commune.id, status="pending", created_at=utcnow())
    db.session.add(join_request)
    db.session.commit()
    assert join_request.status == "pending"  # loaded in this session, as the second admin's request had it
    _decided_elsewhere(owner_engine, update(JoinRequest).values(status="accepted"))
    add_member(asker, commune, "lecture")  # what the first accept did
    act_as(admin)
    with pytest.raises(FormErrors, match="déjà été traitée"):
        accounts.decide_join_request(commune.id, join_request.id, admin, accept=True, role="admin")
    assert _role(asker, commune) == "lecture"


def test_an_invitation_used_meanwhile_is_refused(app_context, owner_engine):
    commune, admin, first, second = make_collectivite(), make_user(), make_user(), make_user()
    add_member(admin, commune, "admin")
    act_as(admin)
    token = accounts.create_invitation(commune.id, "edition", admin)
    assert accounts.valid_invitation(token) is not None  # read while still unused
    _decided_elsewhere(owner_engine, update(Invitation).values(used_at=utcnow(), used_by_id=first.id))
    act_as(second)
    with pytest.raises(FormErrors, match="plus valide"):
        accounts.accept_invitation(token, second)
    assert _role(second, commune) is None


def test_a_second_accept_of_the_same_request_gets_a_french_message(client):
    commune, admin, asker = make_collectivite(), make_user(), make_user()
    add_member(admin, commune, "admin")
    login(client, asker)
    client.post(f"/collectivites/{commune.id}/rejoindre")
    request_id = db.session.scalar(select(JoinRequest.id))
    login(client, admin)
    url = f"/collectivites/{commune.id}/demandes/{request_id}/accepter"
    assert client.post(url, data={"role": "edition"}).status_code == 302
    again = client.post(url, data={"role": "admin"}, follow_redirects=True)
    assert again.status_code == 200 and "déjà été traitée" in again.get_data(as_text=True)
    assert _role(asker, commune) == "edition"


def test_readers_are_not_given_requests_or_invitations(client, app):
    commune, admin, reader, asker = make_collectivite(), make_user(), make_user(), make_user()
    add_member(admin, commune, "admin")
    add_member(reader, commune, "lecture")
    act_as(admin)
    accounts.create_invitation(commune.id, "edition", admin)
    login(client, asker)
    client.post(f"/collectivites/{commune.id}/rejoindre")
    contexts = []

    def record(_sender, template, context, **_extra):
        contexts.append(context)

    for user, expected in ((reader, 0), (admin, 1)):
        login(client, user)
        contexts.clear()
        with template_rendered.connected_to(record, app):
            html = client.get(f"/collectivites/{commune.id}/membres").get_data(as_text=True)
        assert len(contexts[0]["requests"]) == expected and len(contexts[0]["invitations"]) == expected
        assert (asker.email in html) == bool(expected)


def test_a_forged_host_never_reaches_the_invitation_link(client, app):
    commune, admin = make_collectivite(), make_user()
    add_member(admin, commune, "admin")
    login(client, admin)
    client.set_cookie("session", client.get_cookie("session").value, domain="evil.example")
    flashed = []
    with message_flashed.connected_to(lambda _sender, message, category: flashed.append(message), app):
        client.post(f"/collectivites/{commune.id}/invitations", data={"role": "lecture"},
                    headers={"Host": "evil.example"})
    assert len(flashed) == 1 and flashed[0].startswith(f"{app.config['BASE_URL']}/invitations/")
