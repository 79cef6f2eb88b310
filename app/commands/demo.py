"""`flask demo seed`: a handful of demo collectivités and the demo account (used by `make run`)."""
import click

from app.commands import demo_cli
from app.rls import system_work
from app.services.collectivites import DEMO_COLLECTIVITES, DEMO_EMAIL, DEMO_PASSWORD, seed_demo
from app.services.indicateurs import seed_demo_values


@demo_cli.command("seed")
def seed() -> None:
    """Crée (ou remet en état) les collectivités et le compte de démonstration."""
    with system_work():
        commune = seed_demo()
        seed_demo_values(commune.id)
    click.echo(f"{len(DEMO_COLLECTIVITES)} collectivités de démonstration.")
    click.echo(f"Compte : {DEMO_EMAIL} / {DEMO_PASSWORD} (administrateur de {commune.nom}).")
