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
