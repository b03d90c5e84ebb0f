"""data_changes: the graduates and vacancies each write touched, by data version

The service brings its candidate index up to date by re-reading only the rows named after the version it
holds, instead of rebuilding the index from the whole store on every write.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_changes",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("data_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_changes_version"), ["version"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_changes_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("data_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_changes_at"))
        batch_op.drop_index(batch_op.f("ix_data_changes_version"))
    op.drop_table("data_changes")
