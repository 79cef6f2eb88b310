"""SQLAlchemy models, one module per area; importing this package registers every table."""
from app.models.content import (  # noqa: F401
    Action,
    ContentVersion,
    Indicateur,
    IndicateurAction,
    Personnalisation,
    PersonnalisationRegle,
    Preuve,
    PreuveAction,
    Question,
    QuestionAction,
    QuestionChoix,
    Referentiel,
    Thematique,
)
from app.models.accounts import (  # noqa: F401
    Invitation,
    JoinRequest,
    Membership,
    RateLimitedAttempt,
    User,
    UserSession,
)
from app.models.collectivites import Collectivite  # noqa: F401
from app.models.suivi import (  # noqa: F401
    ActionStatut,
    HistoryEntry,
    Precision,
    PreuveFichier,
    PreuveLien,
    Reponse,
    ScoreHistory,
    ScoreSnapshot,
    ScoreState,
)
from app.models.indicateurs import (  # noqa: F401
    IndicateurDefinition,
    IndicateurDefinitionAction,
    IndicateurPerso,
    IndicateurValeur,
)
from app.models.partage import PartagePreference, ScoreSummary  # noqa: F401
from app.models.plans import (  # noqa: F401
    Axe,
    Fiche,
    FicheAction,
    FicheAxe,
    FicheBudget,
    FicheEtape,
    FicheIndicateur,
    FicheNote,
    Plan,
)
from app.models.labellisation import Auditeur, AuditMesure, Labellisation, LabellisationDemande  # noqa: F401
