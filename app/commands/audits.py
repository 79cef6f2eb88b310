"""`flask audits admin EMAIL [--retirer]` and `flask audits auditeur EMAIL COLLECTIVITE_ID REFERENTIEL`:
an operator names the platform administrators (who then name auditeurs on /admin/auditeurs) or an
auditeur directly."""
import click

from app.commands import audits_cli
from app.rls import system_work
from app.services import audits
from app.services.suivi import InvalidEdit


@audits_cli.command("admin")
@click.argument("email")
@click.option("--retirer", is_flag=True, help="Retire le droit au lieu de le donner.")
def admin_command(email: str, retirer: bool) -> None:
    """Fait (ou défait) d'un compte un administrateur de la plateforme."""
    try:
        with system_work():
            user = audits.set_platform_admin(email, not retirer)
    except InvalidEdit as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{user.name} {'n’est plus' if retirer else 'est'} administrateur de la plateforme.")


@audits_cli.command("auditeur")
@click.argument("email")
@click.argument("collectivite_id")
@click.argument("referentiel_id")
def auditeur_command(email: str, collectivite_id: str, referentiel_id: str) -> None:
    """Nomme un compte auditeur d'une collectivité sur un référentiel."""
    try:
        with system_work():
            audits.add_auditeur(email, collectivite_id, referentiel_id)
    except InvalidEdit as error:
        raise click.ClickException(str(error)) from None
    click.echo("Auditeur nommé.")
