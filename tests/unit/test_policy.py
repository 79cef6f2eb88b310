"""The permission table of app.policy: which role grants read / edit / admin."""
from types import SimpleNamespace

import pytest

from app import policy

EXPECTED = {
    None: {"read": False, "edit": False, "admin": False},
    "lecture": {"read": True, "edit": False, "admin": False},
    "edition": {"read": True, "edit": True, "admin": False},
    "admin": {"read": True, "edit": True, "admin": True},
}
SIGNED_IN = SimpleNamespace(is_authenticated=True, id=1)


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("permission", ["read", "edit", "admin"])
def test_role_grants(monkeypatch, role, permission):
    monkeypatch.setattr(policy, "role_of", lambda user, collectivite_id: role)
    assert policy.can(SIGNED_IN, permission, 7) is EXPECTED[role][permission]


def test_anonymous_has_no_role_without_a_query():
    assert policy.role_of(SimpleNamespace(is_authenticated=False), 7) is None
    assert policy.role_of(None, 7) is None


def test_unknown_permission_is_a_programming_error():
    with pytest.raises(ValueError):
        policy.require_permission("ecrire")
    with pytest.raises(KeyError):
        policy.can(SIGNED_IN, "ecrire", 7)
