"""`python -m tests.slow_worker worker`: `flask worker` whose jobs leave time to kill it (fault
recovery tests): each computation first touches the file named by SCORING_STARTED then takes
SCORING_SECONDS more."""
import os
import sys
import time
from pathlib import Path

from flask.cli import main

from app.services import evaluation

_score_referentiel = evaluation.score_referentiel


def _slow_score_referentiel(*args):
    Path(os.environ["SCORING_STARTED"]).touch()
    time.sleep(float(os.environ.get("SCORING_SECONDS", "5")))
    return _score_referentiel(*args)


evaluation.score_referentiel = _slow_score_referentiel

if __name__ == "__main__":
    sys.argv[0] = "flask"
    main()
