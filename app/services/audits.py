"""Demandes de labellisation and their audits, for a collectivité on one référentiel.

The parcours: non_demandee → demande_envoyee (an édition or admin member sends a demande: sujet
labellisation, COT or première étoile, once the conditions below hold) → audit_en_cours (an
auditeur starts the audit: the pre-audit snapshot of the scores is frozen, the members' statuts
are locked) → audit_valide (the auditeur, the report uploaded, validates: the post-audit
snapshot is frozen and, unless the sujet was COT, the labellisation is recorded: star, day,
scores). A new demande may then be sent.

Conditions to send (each refusal is a French sentence, all of them listed at once):
  - no demande waiting or audited right now;
  - the scores computed (app.services.labellisation.etoiles_of);
  - labellisation / première étoile: the star asked for (2 to 5 / 1) above the one obtained, at
    most the star reached, every criterion of the stars up to it met, and the required document
    of the référentiel (shared/labellisation/criteres_fichier.csv) uploaded;
  - COT (an audit of the contrat d'objectif territorial without labellisation): nothing more.
Auditeurs are named by a platform administrator per collectivité and référentiel; every audit
action checks it (PermissionError otherwise).
"""
import json
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import select

from app.extensions import db
from app.models import Action, AuditMesure, Auditeur, Collectivite, Labellisation, LabellisationDemande, PreuveFichier
from app.models import Referentiel, ScoreSnapshot, User
from app.persistence import utcnow
from app.policy import audits, can
from app.scoring import SCORE_FIELDS
from app.services import preuves, snapshots
from app.services.labellisation import EtoilesState, etoiles_of
from app.services.labellisation_history import (
    AUDIT_EN_COURS,
    AUDIT_VALIDE,
    DEMANDE_ENVOYEE,
    STATUT_LABELS,
    current_demande,
    labellisations_of,
    obtained_etoiles,
    statut_of,
)
from app.services.scores import scores_for
from app.services.suivi import InvalidEdit, commit_edit, require_edit

SUJETS = {
    "labellisation": "Audit de labellisation",
    "premiere_etoile": "Première étoile",
    "cot": "Audit COT (contrat d'objectif territorial) sans labellisation",
}
LABELLISATION_ETOILES = (2, 3, 4, 5)
# The document each référentiel requires (shared/labellisation/criteres_fichier.csv, first star).
DOCUMENT_REQUIS = "Signer un acte d'engagement incluant le règlement du label"
MESURE_STATUTS = {"non_audite": "Non audité", "en_cours": "En cours", "audite": "Audité"}
AVIS_MAX_LENGTH = 5000
HISTORY_KIND = "labellisation"


def etoiles_label(etoiles: int | None) -> str:
    return "aucune étoile" if not etoiles else f"{etoiles} étoile{'s' if etoiles > 1 else ''}"


def documents_key(referentiel_id: str) -> str:
    """The key the candidature's documents are stored under as preuves."""
    return f"labellisation_{referentiel_id}"


def rapport_key(demande_id: int) -> str:
    return f"audit_{demande_id}"


def _fichiers(collectivite_id: int, key: str) -> list[PreuveFichier]:
    return list(db.session.scalars(
        select(PreuveFichier).where(PreuveFichier.collectivite_id == collectivite_id, PreuveFichier.action_id == key)
        .order_by(PreuveFichier.uploaded_at, PreuveFichier.id)))


# Conditions --------------------------------------------------------------------------------------


def refusals(sujet: str, etoiles: int | None, etat: EtoilesState, statut: str, obtenues: int | None,
             documents: int) -> list[str]:
    """Why a demande of `sujet` for `etoiles` cannot be sent (empty: it can)."""
    if statut in (DEMANDE_ENVOYEE, AUDIT_EN_COURS):
        return [f"Une demande est déjà en cours ({STATUT_LABELS[statut].lower()}) : attendez la fin de l'audit "
                "avant d'en envoyer une autre."]
    if sujet not in SUJETS:
        return ["Choisissez le sujet de la demande : audit de labellisation, audit COT ou première étoile."]
    if etat.realise_pct is None:
        return ["Le score de ce référentiel n'est pas encore calculé : renseignez des statuts, puis revenez."]
    if sujet == "cot":
        return []
    if sujet == "labellisation" and etoiles not in LABELLISATION_ETOILES:
        return ["Choisissez l'étoile demandée, de 2 à 5 (la première étoile se demande à part)."]
    reasons = []
    if (obtenues or 0) >= etoiles:
        reasons.append(f"La collectivité a déjà obtenu {etoiles_label(obtenues)} sur ce référentiel : "
                       "demandez une étoile supérieure.")
    if etat.atteinte is None or etoiles > etat.atteinte:
        reasons.append(f"Le score réalisé ({etat.realise_pct:.1f} %) et les critères permettent "
                       f"{etoiles_label(etat.atteinte)}, pas {etoiles_label(etoiles)}.")
    reasons += [f"Critère non rempli ({etoiles_label(c.etoile)}) : {c.formulation}"
                + (f" ({c.detail})" if c.detail else "") + "."
                for c in etat.criteres if c.etoile <= etoiles and not c.rempli]
    if documents == 0:
        reasons.append(f"Document requis manquant : « {DOCUMENT_REQUIS} » ; déposez-le ci-dessous.")
    return reasons


def _parse_etoiles(sujet: str, text: str | None) -> int | None:
    """The star asked for: 1 for the première étoile, none for COT (the form's choice of star is
    the labellisation's), else the number sent."""
    if sujet == "premiere_etoile":
        return 1
    text = (text or "").strip()
    if sujet == "cot" or not text:
        return None
    if not text.isdigit():
        raise InvalidEdit("L'étoile demandée doit être un nombre de 2 à 5.")
    return int(text)


# Pages -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SujetOption:
    value: str
    label: str
    refusals: list[str]  # for the star proposed (labellisation: the star reached, at least 2)


def _live_referentiel(referentiel_id: str) -> Referentiel | None:
    referentiel = db.session.get(Referentiel, referentiel_id)
    return None if referentiel is None or referentiel.archived else referentiel


def labellisation_page(user, collectivite_id: int, referentiel_id: str) -> dict | None:
    """The labellisation page: étoiles, the demande's conditions and form, the documents, the
    audit under way, the history of labellisations. None for an unknown collectivité or référentiel."""
    collectivite = db.session.get(Collectivite, collectivite_id)
    referentiel = _live_referentiel(referentiel_id)
    if collectivite is None or referentiel is None:
        return None
    etat = etoiles_of(collectivite_id, referentiel_id)
    demande = current_demande(collectivite_id, referentiel_id)
    statut = statut_of(demande)
    obtenues = obtained_etoiles(collectivite_id, referentiel_id)
    documents = _fichiers(collectivite_id, documents_key(referentiel_id))
    proposee = min(max(etat.atteinte or 2, (obtenues or 0) + 1, 2), 5)
    options = [SujetOption(value, label, refusals(value, {"labellisation": proposee, "premiere_etoile": 1}.get(value),
                                                 etat, statut, obtenues, len(documents)))
               for value, label in SUJETS.items()]
    return {
        "collectivite": collectivite, "referentiel": referentiel, "current_tab": referentiel_id,
        "etat": etat, "demande": demande, "statut": statut, "statut_label": STATUT_LABELS[statut],
        "obtenues": obtenues, "documents": documents, "document_requis": DOCUMENT_REQUIS,
        "options": options, "etoiles_choix": [e for e in LABELLISATION_ETOILES if e >= proposee] or [5],
        "proposee": proposee, "auditeurs": _auditeur_names(collectivite_id, referentiel_id),
        "is_auditeur": audits(user, collectivite_id, referentiel_id),
        "rapport": _fichiers(collectivite_id, rapport_key(demande.id))[-1:] if demande else [],
        "snapshots": _snapshots_of(demande), "labellisations": labellisations_of(collectivite_id, referentiel_id),
        "sujets": SUJETS, "can_edit": can(user, "edit", collectivite_id),
    }


def _auditeur_names(collectivite_id: int, referentiel_id: str) -> list[str]:
    return list(db.session.scalars(
        select(User.name).join(Auditeur, Auditeur.user_id == User.id)
        .where(Auditeur.collectivite_id == collectivite_id, Auditeur.referentiel_id == referentiel_id)
        .order_by(User.name)))


def _snapshots_of(demande: LabellisationDemande | None) -> list[ScoreSnapshot]:
    ids = [i for i in (demande and (demande.pre_audit_id, demande.post_audit_id) or ()) if i is not None]
    return [db.session.get(ScoreSnapshot, snapshot_id) for snapshot_id in ids]


@dataclass(frozen=True)
class MesureRow:
    """One mesure on the audit page: the auditeur's record and the % réalisé before and now."""

    collectivite_id: int
    referentiel_id: str
    action_id: str
    identifiant: str
    nom: str
    statut: str
    avis: str
    a_discuter: bool
    realise_avant: float | None
    realise_actuel: float | None
    editable: bool
    options: ClassVar[tuple[tuple[str, str], ...]] = tuple(MESURE_STATUTS.items())

    @property
    def statut_label(self) -> str:
        return MESURE_STATUTS[self.statut]


def _percent_fait(record: dict | None) -> float | None:
    if record is None or not record["point_potentiel"]:
        return None
    return round(100 * record["point_fait"] / record["point_potentiel"], 1)


def _identifiant_key(identifiant: str) -> list[int]:
    return [int(part) for part in identifiant.split(".") if part.isdigit()]


def audit_page(user, collectivite_id: int, referentiel_id: str, args=None) -> dict | None:
    """The mesures of the current audit with the auditeur's records, filtered by `args` (statut:
    a MESURE_STATUTS key, a_discuter: "1"; an unknown statut filters nothing and says so in
    filter_error); None without an audit."""
    page = labellisation_page(user, collectivite_id, referentiel_id)
    if page is None or page["statut"] not in (AUDIT_EN_COURS, AUDIT_VALIDE):
        return None
    args = args or {}
    statut, a_discuter = args.get("statut", ""), args.get("a_discuter") == "1"
    error = None
    if statut and statut not in MESURE_STATUTS:
        statut, error = "", "Statut d'audit inconnu : choisissez non audité, en cours ou audité."
    rows = [row for row in mesure_rows(page["demande"], page["is_auditeur"])
            if statut in ("", row.statut) and (row.a_discuter or not a_discuter)]
    return page | {"rows": rows, "mesure_statuts": MESURE_STATUTS,
                   "filters": {"statut": statut, "a_discuter": a_discuter}, "filter_error": error}


def mesure_rows(demande: LabellisationDemande, is_auditeur: bool, only: str | None = None) -> list[MesureRow]:
    referentiel = db.session.get(Referentiel, demande.referentiel_id)
    query = select(Action).where(Action.referentiel_id == referentiel.id, Action.archived.is_(False),
                                 Action.depth == referentiel.action_level)
    actions = list(db.session.scalars(query if only is None else query.where(Action.id == only)))
    records = {m.action_id: m for m in db.session.scalars(
        select(AuditMesure).where(AuditMesure.demande_id == demande.id))}
    before = snapshots.get_snapshot(demande.collectivite_id, demande.pre_audit_id) if demande.pre_audit_id else None
    before_scores = before.scores if before is not None else {}
    current = scores_for(demande.collectivite_id, demande.referentiel_id)
    rows = []
    for action in sorted(actions, key=lambda a: _identifiant_key(a.identifiant)):
        record = records.get(action.id)
        previous = before_scores.get(action.id)
        rows.append(MesureRow(
            demande.collectivite_id, demande.referentiel_id, action.id, action.identifiant, action.nom,
            record.statut if record else "non_audite", record.avis if record else "",
            record.a_discuter if record else False,
            _percent_fait(dict(zip(SCORE_FIELDS, previous)) if previous else None),
            _percent_fait(current.get(action.id)), is_auditeur and demande.statut == AUDIT_EN_COURS,
        ))
    return rows


def mesure_row(user, collectivite_id: int, referentiel_id: str, action_id: str) -> MesureRow | None:
    """One mesure's row of the current audit as stored (what a refused edit shows again)."""
    demande = current_demande(collectivite_id, referentiel_id)
    if demande is None or demande.statut not in (AUDIT_EN_COURS, AUDIT_VALIDE):
        return None
    rows = mesure_rows(demande, audits(user, collectivite_id, referentiel_id), only=action_id)
    return rows[0] if rows else None


@dataclass(frozen=True)
class OverviewRow:
    referentiel: Referentiel
    statut_label: str
    obtenues: int | None
    demande: LabellisationDemande | None


def overview_page(collectivite_id: int) -> dict | None:
    """The workspace tab: per référentiel, where the parcours stands and the star obtained."""
    collectivite = db.session.get(Collectivite, collectivite_id)
    if collectivite is None:
        return None
    referentiels = db.session.scalars(select(Referentiel).where(Referentiel.archived.is_(False)).order_by(Referentiel.id))
    rows = []
    for referentiel in referentiels:
        demande = current_demande(collectivite_id, referentiel.id)
        rows.append(OverviewRow(referentiel, STATUT_LABELS[statut_of(demande)],
                                obtained_etoiles(collectivite_id, referentiel.id), demande))
    return {"collectivite": collectivite, "rows": rows, "labellisations": labellisations_of(collectivite_id),
            "referentiel_noms": {row.referentiel.id: row.referentiel.nom for row in rows}, "sujets": SUJETS}


# Writes ------------------------------------------------------------------------------------------


def _record(user, demande: LabellisationDemande, text: str) -> None:
    """Commit the demande's change with its history entry (a sentence)."""
    commit_edit(user, demande.collectivite_id, HISTORY_KIND, demande.referentiel_id, None, json.dumps(text))


def add_document(user, collectivite_id: int, referentiel_id: str, stream, filename: str | None) -> PreuveFichier:
    """Upload a document of the candidature (a preuve of the labellisation)."""
    require_edit(user, collectivite_id)
    if _live_referentiel(referentiel_id) is None:
        raise InvalidEdit(f"référentiel inconnu : {referentiel_id}")
    return preuves.store_fichier(user, collectivite_id, documents_key(referentiel_id), stream, filename)


def send_demande(user, collectivite_id: int, referentiel_id: str, sujet: str, etoiles_text: str | None
                 ) -> LabellisationDemande:
    """Send a demande; InvalidEdit listing every unmet condition when it cannot be sent."""
    require_edit(user, collectivite_id)
    if _live_referentiel(referentiel_id) is None:
        raise InvalidEdit(f"référentiel inconnu : {referentiel_id}")
    etoiles = _parse_etoiles(sujet, etoiles_text)
    reasons = refusals(sujet, etoiles, etoiles_of(collectivite_id, referentiel_id),
                       statut_of(current_demande(collectivite_id, referentiel_id)),
                       obtained_etoiles(collectivite_id, referentiel_id),
                       len(_fichiers(collectivite_id, documents_key(referentiel_id))))
    if reasons:
        raise InvalidEdit("La demande ne peut pas être envoyée : " + " ".join(reasons))
    demande = LabellisationDemande(collectivite_id=collectivite_id, referentiel_id=referentiel_id, sujet=sujet,
                                   etoiles=etoiles, statut=DEMANDE_ENVOYEE, envoyee_le=utcnow(), demandeur_id=user.id)
    db.session.add(demande)
    _record(user, demande, f"Demande envoyée : {SUJETS[sujet]}" + (f", {etoiles_label(etoiles)}" if etoiles else ""))
    return demande


def _audited_demande(user, collectivite_id: int, referentiel_id: str, statut: str) -> LabellisationDemande:
    """The current demande, if `user` audits it and it is at `statut` (else PermissionError / InvalidEdit)."""
    if not audits(user, collectivite_id, referentiel_id):
        raise PermissionError("Action réservée à l'auditeur de cette collectivité sur ce référentiel.")
    demande = current_demande(collectivite_id, referentiel_id)
    current = statut_of(demande)
    if current != statut:
        raise InvalidEdit({
            DEMANDE_ENVOYEE: "L'audit ne peut démarrer que sur une demande envoyée ; statut actuel : ",
            AUDIT_EN_COURS: "Cette action n'est possible que pendant l'audit ; statut actuel : ",
        }[statut] + STATUT_LABELS[current].lower() + ".")
    return demande


def _snapshot_nom(demande: LabellisationDemande, avant: bool, now) -> str:
    day = snapshots.paris_day_of(now).strftime("%d/%m/%Y")
    return f"{'Avant audit' if avant else 'Audit'} n° {demande.id} du {day}"


def start_audit(user, collectivite_id: int, referentiel_id: str) -> LabellisationDemande:
    """The auditeur starts the audit: statuts locked, pre-audit scores frozen, in one commit."""
    demande = _audited_demande(user, collectivite_id, referentiel_id, DEMANDE_ENVOYEE)
    now = utcnow()
    snapshot = snapshots.add_snapshot(user, collectivite_id, referentiel_id, _snapshot_nom(demande, True, now),
                                      snapshots.PRE_AUDIT, now, now)
    db.session.flush()
    demande.statut, demande.audit_debut, demande.pre_audit_id = AUDIT_EN_COURS, now, snapshot.id
    _record(user, demande, "Audit démarré : statuts verrouillés, scores avant audit figés")
    return demande


def save_mesure(user, collectivite_id: int, referentiel_id: str, action_id: str, statut: str, avis: str | None,
                a_discuter: bool) -> MesureRow:
    """The auditeur's record on one mesure; returns the row as saved."""
    demande = _audited_demande(user, collectivite_id, referentiel_id, AUDIT_EN_COURS)
    rows = mesure_rows(demande, True, only=action_id)
    if not rows:
        raise InvalidEdit(f"mesure inconnue dans ce référentiel : {action_id}")
    avis = (avis or "").strip()
    if statut not in MESURE_STATUTS:
        raise InvalidEdit("Statut d'audit inconnu : non audité, en cours ou audité.")
    if len(avis) > AVIS_MAX_LENGTH:
        raise InvalidEdit(f"L'avis ne doit pas dépasser {AVIS_MAX_LENGTH} caractères (il en compte {len(avis)}).")
    record = db.session.scalars(select(AuditMesure).where(AuditMesure.demande_id == demande.id,
                                                          AuditMesure.action_id == action_id)).first()
    if record is None:
        record = AuditMesure(collectivite_id=collectivite_id, demande_id=demande.id, action_id=action_id)
        db.session.add(record)
    record.statut, record.avis, record.a_discuter = statut, avis, a_discuter
    record.modified_by_id, record.modified_at = user.id, utcnow()
    text = MESURE_STATUTS[statut] + (" · à discuter" if a_discuter else "")
    commit_edit(user, collectivite_id, "audit_mesure", action_id, None, json.dumps(text))
    row = rows[0]
    return MesureRow(**{**row.__dict__, "statut": statut, "avis": avis, "a_discuter": a_discuter})


def add_rapport(user, collectivite_id: int, referentiel_id: str, stream, filename: str | None) -> PreuveFichier:
    """The auditeur uploads the audit report (a preuve of the audit; the latest one counts)."""
    demande = _audited_demande(user, collectivite_id, referentiel_id, AUDIT_EN_COURS)
    return preuves.store_fichier(user, collectivite_id, rapport_key(demande.id), stream, filename)


def validate_audit(user, collectivite_id: int, referentiel_id: str) -> LabellisationDemande:
    """The auditeur validates the audit: post-audit scores frozen and, unless the sujet is COT, the
    labellisation recorded (star asked for, today, scores of the post-audit snapshot), in one commit."""
    demande = _audited_demande(user, collectivite_id, referentiel_id, AUDIT_EN_COURS)
    if not _fichiers(collectivite_id, rapport_key(demande.id)):
        raise InvalidEdit("Déposez le rapport d'audit avant de valider l'audit.")
    now = utcnow()
    snapshot = snapshots.add_snapshot(user, collectivite_id, referentiel_id, _snapshot_nom(demande, False, now),
                                      snapshots.POST_AUDIT, now, now)
    db.session.flush()
    demande.statut, demande.audit_fin, demande.post_audit_id = AUDIT_VALIDE, now, snapshot.id
    text = "Audit validé"
    if demande.sujet != "cot":
        potentiel = snapshot.point_potentiel or 1
        db.session.add(Labellisation(
            collectivite_id=collectivite_id, referentiel_id=referentiel_id, etoiles=demande.etoiles,
            obtenue_le=snapshots.paris_day_of(now),
            score_realise=round(100 * snapshot.point_fait / potentiel, 1),
            score_programme=round(100 * snapshot.point_programme / potentiel, 1), demande_id=demande.id))
        text += f" : {etoiles_label(demande.etoiles)} obtenue{'s' if demande.etoiles > 1 else ''}"
    _record(user, demande, text)
    return demande


# Auditeurs (platform administrators) -------------------------------------------------------------


def _require_platform_admin(user) -> None:
    if not getattr(user, "is_platform_admin", False):
        raise PermissionError("Réservé aux administrateurs de la plateforme.")


def auditeurs_page() -> dict:
    """Every auditeur named: (Auditeur, user name, user email, collectivité name), by collectivité."""
    rows = db.session.execute(
        select(Auditeur, User.name, User.email, Collectivite.nom)
        .join(User, User.id == Auditeur.user_id).join(Collectivite, Collectivite.id == Auditeur.collectivite_id)
        .order_by(Collectivite.nom, Auditeur.referentiel_id, User.name)).all()
    referentiels = db.session.scalars(select(Referentiel.id).where(Referentiel.archived.is_(False))
                                      .order_by(Referentiel.id)).all()
    return {"auditeurs": rows, "referentiels": referentiels}


def name_auditeur(admin, email: str, collectivite_text: str, referentiel_id: str) -> Auditeur:
    """A platform administrator names the user of `email` auditeur of the collectivité (its id)."""
    _require_platform_admin(admin)
    return add_auditeur(email, collectivite_text, referentiel_id)


def add_auditeur(email: str, collectivite_text: str, referentiel_id: str) -> Auditeur:
    """Name an auditeur and commit (the caller checked the right: name_auditeur, or an operator's
    `flask audits auditeur`)."""
    user = db.session.scalars(select(User).where(User.email == (email or "").strip().lower())).first()
    if user is None:
        raise InvalidEdit("Aucun compte n'a cette adresse e-mail : la personne doit d'abord créer son compte.")
    text = (collectivite_text or "").strip()
    collectivite = db.session.get(Collectivite, int(text)) if text.isdigit() else None
    if collectivite is None:
        raise InvalidEdit("Collectivité inconnue : indiquez son identifiant (le nombre de l'adresse de ses pages).")
    if _live_referentiel(referentiel_id) is None:
        raise InvalidEdit(f"Référentiel inconnu : {referentiel_id}")
    if audits(user, collectivite.id, referentiel_id):
        raise InvalidEdit(f"{user.name} est déjà auditeur de {collectivite.nom} sur ce référentiel.")
    auditeur = Auditeur(user_id=user.id, collectivite_id=collectivite.id, referentiel_id=referentiel_id,
                        created_at=utcnow())
    db.session.add(auditeur)
    db.session.commit()
    return auditeur


def remove_auditeur(admin, auditeur_id: int) -> None:
    _require_platform_admin(admin)
    auditeur = db.session.get(Auditeur, auditeur_id)
    if auditeur is None:
        raise InvalidEdit("Cet auditeur n'existe pas ou plus.")
    db.session.delete(auditeur)
    db.session.commit()


def set_platform_admin(email: str, value: bool) -> User:
    """An operator's `flask audits admin`: give (or take back) the platform administrator flag."""
    user = db.session.scalars(select(User).where(User.email == (email or "").strip().lower())).first()
    if user is None:
        raise InvalidEdit(f"Aucun compte n'a l'adresse {email}.")
    user.is_platform_admin = value
    db.session.commit()
    return user
