"""interactions.recorded_by, recorded_via, model_version, shown_score: who recorded an outcome and what the
model showed them

Every outcome HR records keeps the key that recorded it (a person's: no outcome is recorded automatically),
the surface it came through (api, web), and the model version and score the service gave the pair at that
moment, for an audit of the decisions (docs/accountability.md). Events imported from a bundle (history) have
none of them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("recorded_via", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("model_version", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("shown_score", sa.Float(), nullable=True))
        batch_op.create_index("ix_interactions_recorded_by", ["recorded_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_interactions_recorded_by")
        batch_op.drop_column("shown_score")
        batch_op.drop_column("model_version")
        batch_op.drop_column("recorded_via")
        batch_op.drop_column("recorded_by")
