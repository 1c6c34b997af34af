"""coupons: an index of the codes an imported pool can still hand out

Drawing the next free code of a pool (``ORDER BY code LIMIT 1``) would
otherwise walk past every code already issued, on every draw.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_FREE = sa.text("issued_at IS NULL AND redeemed_at IS NULL")


def upgrade() -> None:
    op.create_index("ix_coupons_pool_free", "coupons", ["pool", "code"],
                    postgresql_where=_FREE, sqlite_where=_FREE)


def downgrade() -> None:
    op.drop_index("ix_coupons_pool_free", table_name="coupons")
