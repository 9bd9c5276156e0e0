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
"""[smtp] options: how warnings and deletion notices are mailed.

Option names are kept from the original project, so existing configuration
files keep working.
"""

from oslo_config import cfg

GROUP = 'smtp'

OPTS = [
    cfg.HostAddressOpt('email_smtp_host', default='localhost',
                       help='SMTP server that relays the mails.'),
    cfg.PortOpt('email_smtp_port', default=25,
                help='TCP port of the SMTP server (25, 587 for STARTTLS, '
                     '465 for implicit TLS).'),
    cfg.BoolOpt('email_smtp_tls', default=False,
                help='Upgrade the connection with STARTTLS before '
                     'sending.'),
    cfg.BoolOpt('email_smtp_ssl', default=False,
                help='Connect with implicit TLS (SMTPS, usually port '
                     '465). Excludes email_smtp_tls.'),
    cfg.StrOpt('email_smtp_user',
               help='User name for SMTP AUTH; unset means no login.'),
    cfg.StrOpt('email_smtp_password', secret=True,
               help='Password for SMTP AUTH.'),
    cfg.StrOpt('email_smtp_from', default='os-vm-expire@localhost',
               help='Sender address (From:) of every mail.'),
    cfg.ListOpt('email_smtp_copy_expire_notif_to', default=[],
                help='Addresses that get a blind copy (Bcc) of every '
                     'expiry warning.'),
    cfg.ListOpt('email_smtp_copy_delete_notif_to', default=[],
                help='Addresses that get a blind copy (Bcc) of every '
                     'deletion notice.'),
    cfg.ListOpt('email_operator_to', default=[],
                help='Operator addresses told when an owner cannot be '
                     'warned (no e-mail address in Keystone, user gone, '
                     'mail refused); such a server is not deleted.'),
    cfg.FloatOpt('email_smtp_timeout', default=30.0, min=1.0,
                 help='Seconds to wait for the SMTP server on connect and '
                      'on each command.'),
    cfg.StrOpt('template_dir',
               help='Directory with Jinja2 templates that override the '
                    'built-in ones (same file names).'),
    cfg.StrOpt('horizon_url',
               help='URL of the Horizon expirations panel, shown in mails '
                    'as the place to extend a server.'),
    cfg.BoolOpt('send_extend_confirmation', default=True,
                help='Mail the owner a confirmation after each extension '
                     '(sent by the cleaner on its next cycle).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return [(GROUP, OPTS)]
