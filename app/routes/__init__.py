"""Blueprint registration: one module per area."""
from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.routes import main, preview, referentiels

    app.register_blueprint(main.bp)
    app.register_blueprint(referentiels.bp)
    app.register_blueprint(preview.bp)

    from app.routes import auth, collectivites, open_data, partage

    app.register_blueprint(auth.bp)
    app.register_blueprint(collectivites.bp)
    app.register_blueprint(partage.bp)
    app.register_blueprint(open_data.bp)

    from app.routes import live

    app.register_blueprint(live.bp)

    # A collectivité's workspace, one blueprint per area (pages shared through app.routes.workspace_page).
    from app.routes import (
        audits,
        etats_des_lieux,
        exports,
        history,
        indicateurs,
        labellisation,
        membres,
        mesures,
        personnalisation,
        plans,
        precisions,
        preuves,
        priorisation,
        statuts,
        tableau_de_bord,
        workspace,
    )

    for area in (
        workspace,
        statuts,
        precisions,
        preuves,
        personnalisation,
        history,
        membres,
        exports,
        etats_des_lieux,
        indicateurs,
        priorisation,
        mesures,
        plans,
        labellisation,
        tableau_de_bord,
        audits,
    ):
        app.register_blueprint(area.bp)

    from app.routes import errors

    app.register_blueprint(errors.bp)
