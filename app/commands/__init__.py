"""Flask CLI: the command groups, filled by the command modules beside this file."""

from flask.cli import AppGroup

content_cli = AppGroup("content", help="Contenu markdown : vérifier, charger, tester.")
demo_cli = AppGroup("demo", help="Données de démonstration.")
collectivites_cli = AppGroup("collectivites", help="Annuaire des collectivités.")
scores_cli = AppGroup("scores", help="Scores des collectivités : recalcul.")
database_cli = AppGroup("database", help="Base PostgreSQL : droits du rôle de l'application.")
export_cli = AppGroup("export", help="Exports XLSX / CSV de l'état d'une collectivité.")
indicateurs_cli = AppGroup("indicateurs", help="Indicateurs : définitions.")
audits_cli = AppGroup("audits", help="Labellisation : administrateurs de la plateforme et auditeurs.")
