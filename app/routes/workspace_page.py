"""What every page of a collectivité's workspace shares: the header's tabs (its référentiels, then
its areas), the breadcrumbs' root and the flashed messages. A new area appends its tab to
WORKSPACE_TABS and renders its pages with workspace_page."""
from dataclasses import dataclass

from flask import abort, flash, get_flashed_messages, redirect, render_template, request, url_for

from flask_login import current_user

from app.policy import role_of
from app.services.referentiels import referentiel_links


@dataclass(frozen=True)
class Tab:
    label: str
    endpoint: str  # a page taking collectivite_id only
    icon: str  # DSFR icon class


WORKSPACE_TABS = [
    Tab("Tableau de bord", "tableau_de_bord.home", "fr-icon-dashboard-3-line"),
    Tab("Indicateurs", "indicateurs.show", "fr-icon-line-chart-line"),
    Tab("Personnalisation", "personnalisation.show", "fr-icon-settings-5-line"),
    Tab("Plans d'action", "plans.show", "fr-icon-list-ordered"),
    Tab("Labellisation", "audits.overview", "fr-icon-award-line"),
    Tab("Historique", "history.show", "fr-icon-history-line"),
    Tab("Membres", "membres.members", "fr-icon-team-line"),
    Tab("Étoiles", "labellisation.overview", "fr-icon-star-line"),
    Tab("Comparaison", "partage.comparison", "fr-icon-line-chart-line"),
    Tab("Partage", "partage.settings", "fr-icon-share-line"),
]


@dataclass(frozen=True)
class TabLink:
    label: str
    url: str
    current: bool
    icon: str | None = None


def workspace_page(template: str, context: dict | None):
    """Render a workspace page; `context` (404 when None) holds the collectivité, and `current_tab`
    (a référentiel id) on référentiel pages."""
    if context is None:
        abort(404)
    collectivite = context["collectivite"]
    return render_template(template, **context, root_crumbs=root_crumbs(collectivite),
                           tabs=_tabs(collectivite.id, context.get("current_tab")),
                           live_role=role_of(current_user, collectivite.id),  # the rights the page shows
                           messages=get_flashed_messages(with_categories=True))


def root_crumbs(collectivite) -> list[tuple[str, str]]:
    return [
        ("Accueil", url_for("main.home")),
        ("Mes collectivités", url_for("collectivites.mine")),
        (collectivite.nom, url_for("tableau_de_bord.home", collectivite_id=collectivite.id)),
    ]


def _tabs(collectivite_id: int, current_referentiel: str | None) -> list[TabLink]:
    referentiels = [
        TabLink(nom, url_for("workspace.show_tree", collectivite_id=collectivite_id, referentiel_id=referentiel_id),
                referentiel_id == current_referentiel)
        for referentiel_id, nom in referentiel_links()
    ]
    return referentiels + [
        TabLink(tab.label, url_for(tab.endpoint, collectivite_id=collectivite_id), request.endpoint == tab.endpoint, tab.icon)
        for tab in WORKSPACE_TABS
    ]


def back_to_action(collectivite_id: int, referentiel_id: str, action_id: str, error: str | None = None):
    """Plain form posts: back to the action page (PRG), the refusal flashed."""
    if error:
        flash(error, "error")
    return redirect(url_for("workspace.show_action", collectivite_id=collectivite_id, referentiel_id=referentiel_id,
                            action_id=action_id), 303)
