"""Flask CLI: the command groups, filled by the modules listed in COMMAND_MODULES."""

from flask.cli import AppGroup

content_cli = AppGroup("content", help="Contenu markdown : vérifier, charger, tester.")
bench_cli = AppGroup("bench", help="Mesures de performance (affiche des chiffres).")
demo_cli = AppGroup("demo", help="Données de démonstration.")
collectivites_cli = AppGroup("collectivites", help="Annuaire des collectivités.")
scores_cli = AppGroup("scores", help="Scores des collectivités : recalcul.")
database_cli = AppGroup("database", help="Base PostgreSQL : droits du rôle de l'application.")

COMMAND_MODULES = ["content", "collectivites", "demo", "scenarios", "bench_scoring", "bench_content", "bench_push", "worker", "scores",
                   "database"]
