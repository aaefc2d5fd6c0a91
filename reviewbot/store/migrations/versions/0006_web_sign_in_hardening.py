"""web console sign-in hardening: failed password attempts (for the rate limit) and a per-person credential stamp
(sessions end when the password changes)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sign_in_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("client", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sign_in_failure")),
    )
    op.create_index(op.f("ix_web_sign_in_failure_person"), "web_sign_in_failure", ["person"])
    op.create_index(op.f("ix_web_sign_in_failure_client"), "web_sign_in_failure", ["client"])
    op.create_index(op.f("ix_web_sign_in_failure_at"), "web_sign_in_failure", ["at"])
    with op.batch_alter_table("web_credential") as batch:
        batch.add_column(
            sa.Column("stamp", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("web_credential") as batch:
        batch.drop_column("stamp")
    op.drop_index(op.f("ix_web_sign_in_failure_at"), table_name="web_sign_in_failure")
    op.drop_index(op.f("ix_web_sign_in_failure_client"), table_name="web_sign_in_failure")
    op.drop_index(op.f("ix_web_sign_in_failure_person"), table_name="web_sign_in_failure")
    op.drop_table("web_sign_in_failure")
