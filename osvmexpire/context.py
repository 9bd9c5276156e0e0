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
"""Request context: who acts, and the database session they act in."""

from oslo_context import context
from oslo_db.sqlalchemy import enginefacade

SERVICE_USER = 'os-vm-expire'


@enginefacade.transaction_context_provider
class RequestContext(context.RequestContext):
    """An oslo context that can carry an enginefacade session."""

    @property
    def actor(self) -> str:
        """Who is recorded in the audit trail for this context."""
        return self.user_id or SERVICE_USER


def get_admin_context(actor: str = SERVICE_USER) -> RequestContext:
    """Context of the service itself (worker, cleaner, manage CLI)."""
    return RequestContext(user_id=actor, is_admin=True, overwrite=False)
