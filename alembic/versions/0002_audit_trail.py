# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.
"""Audit trail: vmexpire_event.

Revision ID: 0002_audit_trail
Revises: 0001_initial
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa
from oslo_db.sqlalchemy import types as db_types

revision = '0002_audit_trail'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'vmexpire_event',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer, 'sqlite'),
                  primary_key=True, autoincrement=True),
        sa.Column('vmexpire_id', sa.String(36), nullable=True),
        sa.Column('instance_id', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(64), nullable=True),
        sa.Column('event', sa.String(16), nullable=False),
        sa.Column('actor', sa.String(255), nullable=False),
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.Column('detail', db_types.JsonEncodedDict(mysql_as_long=True),
                  nullable=True),
        mysql_engine='InnoDB', mysql_charset='utf8mb4',
    )
    op.create_index('ix_vmexpire_event_instance', 'vmexpire_event',
                    ['instance_id', 'id'])
    op.create_index('ix_vmexpire_event_vmexpire', 'vmexpire_event',
                    ['vmexpire_id', 'id'])
    op.create_index('ix_vmexpire_event_kind_created', 'vmexpire_event',
                    ['event', 'created_at'])


def downgrade():
    op.drop_table('vmexpire_event')
