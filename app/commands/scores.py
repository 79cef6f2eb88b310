"""`flask scores rescore --stale`: re-score what is stale (after a content update, a worker outage...)."""
import click

from app.jobs import rescore_pair
from app.commands import scores_cli
from app.services.evaluation import stale_score_keys


@scores_cli.command("rescore")
@click.option("--stale", is_flag=True, required=True,
              help="Les scores périmés : modifiés depuis le calcul, calculés sur un autre contenu, ou absents.")
def rescore_command(stale: bool) -> None:
    """Recalcule ici et maintenant (sans passer par la file) les scores périmés, et les pousse aux pages ouvertes."""
    keys = stale_score_keys()
    with click.progressbar(keys, label=f"{len(keys)} score(s) à recalculer") as bar:
        for collectivite_id, referentiel_id in bar:
            rescore_pair(collectivite_id, referentiel_id)
    click.echo(f"{len(keys)} score(s) recalculé(s).")
