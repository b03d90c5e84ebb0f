"""graduates.student_id: the school's own id for a graduate, unique within its school only

Graduate ids uploaded by a school are the school's own (two schools may use the same student number); the
service keys graduates by its own graduate_id. Existing graduates keep student_id NULL, meaning "the same as
graduate_id".

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("graduates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("student_id", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_graduates_student_id", ["student_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("graduates", schema=None) as batch_op:
        batch_op.drop_index("ix_graduates_student_id")
        batch_op.drop_column("student_id")
