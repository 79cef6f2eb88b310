"""rls: row-level security on the collectivités' data (PostgreSQL only)

Revision ID: 0004_rls
Revises: 0004_auth_sessions

A second wall behind app/policy.py: PostgreSQL refuses a write on a collectivité's data unless the
transaction (set_config(..., true), see app/rls.py) names a user with the right role there
(`app.user_id`) or declares system work (`app.system` = 'on'). Reads stay open to the app's role:
app/policy.py checks them. Owners and superusers bypass these policies (no FORCE): migrations and
ops run as the owner, the app as another role (README, "Base PostgreSQL : rôles et sécurité au
niveau des lignes"). Nothing to do on SQLite, where the application check stands alone.

Who may write:
  statuts, réponses, précisions, preuves, history, score_state   édition or admin (score_state:
      the edit bumps its revision), or system work
  score_history                          system work only (re-scores)
  membership                             admin, or system work; a user adds himself only as the
      first member (admin) of a collectivité without members, or with the role of an invitation
      used by him whose token the transaction presents (`app.invitation_token`)
  join_request                           a user's own pending request; admin for the rest
  invitation                             admin; marking an unused, unexpired one used by oneself
      needs its token, and a trigger keeps its collectivité, role, token and expiry then
The functions reading membership are SECURITY DEFINER (run as the owner, who bypasses RLS): the
policies stay short and never recurse into membership's own policies.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004_rls'
down_revision = '0004_auth_sessions'
branch_labels = None
depends_on = None

EDITORS = "'{edition,admin}'"
ADMINS = "'{admin}'"
SYSTEM_ONLY = "'{}'"
# table -> roles (besides system work) that may write it
SUIVI_TABLES = {
    "action_statut": EDITORS,
    "reponse": EDITORS,
    "precision": EDITORS,
    "preuve_fichier": EDITORS,
    "preuve_lien": EDITORS,
    "history_entry": EDITORS,
    "score_state": EDITORS,
    "score_history": SYSTEM_ONLY,
}
ACCOUNT_TABLES = ("membership", "join_request", "invitation")
FUNCTIONS = ("app_may_join(integer, integer, text)", "app_may_write(integer, text[])", "app_invitation_unchanged()",
             "app_invitation_token_hash()", "app_is_system()", "app_user_id()")
NOW_UTC = "(now() AT TIME ZONE 'UTC')"  # the app stores naive UTC timestamps


def _functions(schema: str) -> list[str]:
    # SECURITY DEFINER functions get a fixed search_path, pg_temp last: no object of the caller's
    # (a temporary table named membership...) can stand in for ours.
    # PL/pgSQL rather than SQL: a session plans their query once, not at every statement.
    definer = f'LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = "{schema}", pg_temp'
    return [
        """CREATE FUNCTION app_user_id() RETURNS integer LANGUAGE sql STABLE
           AS $$ SELECT nullif(current_setting('app.user_id', true), '')::integer $$""",
        """CREATE FUNCTION app_is_system() RETURNS boolean LANGUAGE sql STABLE
           AS $$ SELECT coalesce(current_setting('app.system', true) = 'on', false) $$""",
        """CREATE FUNCTION app_invitation_token_hash() RETURNS text LANGUAGE sql STABLE
           AS $$ SELECT encode(sha256(convert_to(nullif(current_setting('app.invitation_token', true), ''),
                                                 'UTF8')), 'hex') $$""",
        f"""CREATE FUNCTION app_may_write(collectivite integer, roles text[]) RETURNS boolean {definer}
            AS $$ BEGIN
                RETURN app_is_system() OR EXISTS (
                    SELECT 1 FROM membership
                    WHERE membership.collectivite_id = collectivite AND membership.user_id = app_user_id()
                      AND membership.role = ANY (roles));
            END $$""",
        f"""CREATE FUNCTION app_may_join(collectivite integer, member integer, member_role text) RETURNS boolean {definer}
            AS $$ BEGIN
                RETURN member = app_user_id() AND (
                    (member_role = 'admin'
                     AND NOT EXISTS (SELECT 1 FROM membership WHERE membership.collectivite_id = collectivite))
                    OR EXISTS (
                        SELECT 1 FROM invitation
                        WHERE invitation.collectivite_id = collectivite AND invitation.role = member_role
                          AND invitation.used_by_id = member
                          AND invitation.token_hash = app_invitation_token_hash()));
            END $$""",
        # Who accepts an invitation may mark it used, nothing more: app_may_join trusts its role.
        f"""CREATE FUNCTION app_invitation_unchanged() RETURNS trigger LANGUAGE plpgsql
           AS $$ BEGIN
               IF NOT app_may_write(OLD.collectivite_id, {ADMINS})
                  AND (NEW.collectivite_id, NEW.role, NEW.token_hash, NEW.expires_at)
                      IS DISTINCT FROM (OLD.collectivite_id, OLD.role, OLD.token_hash, OLD.expires_at) THEN
                   RAISE EXCEPTION 'an invitation only changes by being used' USING ERRCODE = 'insufficient_privilege';
               END IF;
               RETURN NEW;
           END $$""",
        """CREATE TRIGGER invitation_unchanged BEFORE UPDATE ON invitation
           FOR EACH ROW EXECUTE FUNCTION app_invitation_unchanged()""",
    ]


def _policies(table: str, insert: str, update_old: str, update_new: str, delete: str) -> list[str]:
    """Reads open (app/policy.py checks them); each write checked. UPDATE checks the row before
    (USING: a refused row is left out, 0 rows updated) and after (WITH CHECK: an error)."""
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'CREATE POLICY "{table}_read" ON "{table}" FOR SELECT USING (true)',
        f'CREATE POLICY "{table}_insert" ON "{table}" FOR INSERT WITH CHECK ({insert})',
        f'CREATE POLICY "{table}_update" ON "{table}" FOR UPDATE USING ({update_old}) WITH CHECK ({update_new})',
        f'CREATE POLICY "{table}_delete" ON "{table}" FOR DELETE USING ({delete})',
    ]


def _all_policies() -> list[str]:
    statements = []
    for table, roles in SUIVI_TABLES.items():
        may = f"app_may_write(collectivite_id, {roles})"
        statements += _policies(table, may, may, may, may)
    admin = f"app_may_write(collectivite_id, {ADMINS})"
    statements += _policies("membership", f"{admin} OR app_may_join(collectivite_id, user_id, role)", admin, admin, admin)
    statements += _policies("join_request", f"{admin} OR (user_id = app_user_id() AND status = 'pending')",
                            admin, admin, admin)
    token = "token_hash = app_invitation_token_hash()"
    statements += _policies("invitation", admin, f"{admin} OR (used_at IS NULL AND expires_at > {NOW_UTC} AND {token})",
                            f"{admin} OR (used_at IS NOT NULL AND used_by_id = app_user_id() AND {token})", admin)
    return statements


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    for statement in _functions(schema) + _all_policies():
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in (*SUIVI_TABLES, *ACCOUNT_TABLES):
        for action in ("read", "insert", "update", "delete"):
            op.execute(f'DROP POLICY "{table}_{action}" ON "{table}"')
        op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
    op.execute("DROP TRIGGER invitation_unchanged ON invitation")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
