"""users, roles and an append-only audit trail (sign-in and roles)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 18:00:00

`app_user` holds local accounts (argon2id hashes) and accounts made by single sign-on;
`audit_event` records who did what. Triggers make `audit_event` append-only: an UPDATE is
always refused, a DELETE only allowed for rows older than the retention cut-off kept in
`app_meta['audit_purge_before']` (data_access.audit.purge), which nothing sets unless
AUDIT_RETENTION_DAYS is configured. `import_log.actor` says who ran each import.
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       WHEN OLD.at >= COALESCE((SELECT value FROM app_meta WHERE key = 'audit_purge_before'),
                               '0000')
       BEGIN SELECT RAISE(ABORT, 'audit_event rows are kept for the retention period'); END""",
)
PG_GUARD = """
CREATE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION 'audit_event is append-only';
  END IF;
  IF TG_OP = 'TRUNCATE' OR OLD.at >= COALESCE(
      (SELECT value::timestamp FROM app_meta WHERE key = 'audit_purge_before'),
      '-infinity'::timestamp) THEN
    RAISE EXCEPTION 'audit_event rows are kept for the retention period';
  END IF;
  RETURN OLD;
END $$"""
PG_TRIGGERS = (
    PG_GUARD,
    """CREATE TRIGGER audit_event_guard BEFORE UPDATE OR DELETE ON audit_event
       FOR EACH ROW EXECUTE FUNCTION audit_event_guard()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
       FOR EACH STATEMENT EXECUTE FUNCTION audit_event_guard()""",
)


def upgrade() -> None:
    op.create_table(
        'app_user',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('username', sa.String(length=120), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('display_name', sa.String(length=120), nullable=False),
        sa.Column('role', sa.String(length=8), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=True),
        sa.Column('must_change_password', sa.Boolean(), nullable=False),
        sa.Column('oidc_subject', sa.String(length=400), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_sign_in_at', sa.DateTime(), nullable=True),
        sa.Column('failed_sign_ins', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('session_epoch', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username'),
        sa.UniqueConstraint('email'),
        sa.UniqueConstraint('oidc_subject'),
        sa.CheckConstraint("role IN ('viewer', 'staff', 'admin')", name='ck_app_user_role'),
    )
    op.create_table(
        'audit_event',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('target', sa.String(length=300), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('import_log_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_event_at', 'audit_event', ['at'])
    op.create_index('ix_audit_event_action', 'audit_event', ['action'])
    with op.batch_alter_table('import_log') as batch:
        batch.add_column(sa.Column('actor', sa.String(length=120), nullable=True))
    triggers = PG_TRIGGERS if op.get_bind().dialect.name == 'postgresql' else SQLITE_TRIGGERS
    for ddl in triggers:
        op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TABLE audit_event')
        op.execute('DROP FUNCTION audit_event_guard()')
    else:
        op.drop_table('audit_event')
    with op.batch_alter_table('import_log') as batch:
        batch.drop_column('actor')
    op.drop_table('app_user')
