"""SQLAlchemy models, one module per area; importing this package registers every table."""
from app.models.content import (  # noqa: F401
    Action,
    ContentVersion,
    Indicateur,
    IndicateurAction,
    PersonnalisationRegle,
    Preuve,
    PreuveAction,
    Question,
    QuestionAction,
    QuestionChoix,
    Referentiel,
    Thematique,
)
