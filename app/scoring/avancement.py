"""The avancement of a statut as the engine reads it: fractions fait / programmé / pas fait
(scoring.md §2). The one table of the simple statuts' fractions.

Pure: imports only the standard library and app.scoring.*.
"""
AVANCEMENT_FRACTIONS = {"fait": (1.0, 0.0, 0.0), "programme": (0.0, 1.0, 0.0), "pas_fait": (0.0, 0.0, 1.0)}


def avancement_fractions(avancement: str, concerne: bool, fait: float | None = None, programme: float | None = None,
                         pas_fait: float | None = None) -> tuple[float, float, float] | None:
    """The fractions of a stored statut; None when it counts for nothing (non renseigné or non
    concerné). A détaillé statut carries its own fractions."""
    if not concerne:
        return None
    if avancement == "detaille":
        return (fait, programme, pas_fait)
    return AVANCEMENT_FRACTIONS.get(avancement)
