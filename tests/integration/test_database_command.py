"""`flask database grant-app-role`: the rights of the app's PostgreSQL role, never to a role that
would escape row-level security."""
from sqlalchemy.engine import make_url


def test_grant_app_role(app, runner):
    app_url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    result = runner.invoke(args=["database", "grant-app-role"])
    if app_url.get_backend_name() != "postgresql":
        assert result.exit_code != 0 and "SQLite n'a ni rôles ni sécurité au niveau des lignes" in result.output
        return
    assert result.exit_code == 0 and f"Droits accordés au rôle {app_url.username}" in result.output
    result = runner.invoke(args=["database", "grant-app-role", "postgres"])
    assert result.exit_code != 0 and "échappe à la sécurité au niveau des lignes" in result.output
    assert "n'existe pas" in runner.invoke(args=["database", "grant-app-role", "personne_inconnue"]).output
