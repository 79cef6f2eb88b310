"""`python -m tests.slow_worker worker`: `flask worker` whose jobs leave time to kill it (fault
recovery tests). A burst wait lasts until no edit came for 1 s (5 s at most), and each
computation first touches the file named by SCORING_STARTED then takes SCORING_SECONDS more."""
import os
import sys
import time
from pathlib import Path

from flask.cli import main

import app.queue
from app.services import evaluation

app.queue.DEFAULT_COALESCE_SECONDS, app.queue.DEFAULT_COALESCE_MAX_SECONDS = 1.0, 5.0
_score_referentiel = evaluation.score_referentiel


def _slow_score_referentiel(*args):
    Path(os.environ["SCORING_STARTED"]).touch()
    time.sleep(float(os.environ.get("SCORING_SECONDS", "5")))
    return _score_referentiel(*args)


evaluation.score_referentiel = _slow_score_referentiel

if __name__ == "__main__":
    sys.argv[0] = "flask"
    main()
