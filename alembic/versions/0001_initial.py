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
"""Initial schema: vmexpire and vmexclude.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa

revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'vmexpire',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('instance_id', sa.String(36), nullable=False),
        sa.Column('instance_name', sa.String(255), nullable=False),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('user_id', sa.String(64), nullable=True),
        sa.Column('domain_id', sa.String(64), nullable=True),
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.Column('updated_at', sa.DateTime, nullable=True),
        sa.Column('expire_at', sa.DateTime, nullable=False),
        sa.Column('notified_at', sa.DateTime, nullable=True),
        sa.Column('notified_last_at', sa.DateTime, nullable=True),
        sa.Column('extensions', sa.Integer, nullable=False),
        sa.Column('next_action_at', sa.DateTime, nullable=False),
        sa.Column('version', sa.Integer, nullable=False),
        sa.Column('deleting_at', sa.DateTime, nullable=True),
        sa.Column('claimed_by', sa.String(255), nullable=True),
        sa.Column('claimed_until', sa.DateTime, nullable=True),
        sa.Column('failures', sa.Integer, nullable=False),
        sa.Column('last_error', sa.String(1024), nullable=True),
        sa.Column('extend_notice_pending', sa.Boolean, nullable=False),
        sa.UniqueConstraint('instance_id', name='uniq_vmexpire0instance_id'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4',
    )
    op.create_index('ix_vmexpire_project_expire', 'vmexpire',
                    ['project_id', 'expire_at'])
    op.create_index('ix_vmexpire_next_action', 'vmexpire',
                    ['next_action_at'])
    op.create_index('ix_vmexpire_expire_at', 'vmexpire', ['expire_at'])
    op.create_index('ix_vmexpire_user_id', 'vmexpire', ['user_id'])

    op.create_table(
        'vmexclude',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('exclude_type', sa.String(16), nullable=False),
        sa.Column('exclude_id', sa.String(64), nullable=False),
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.UniqueConstraint('exclude_type', 'exclude_id',
                            name='uniq_vmexclude0type0id'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4',
    )


def downgrade():
    op.drop_table('vmexclude')
    op.drop_table('vmexpire')
