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
"""Sending mail over SMTP, with a deadline on every step.

One connection per mail: a cycle sends few mails (one digest per owner),
and a fresh connection means a server that dropped us between two mails
costs one failed mail, not the rest of the cycle. Every failure surfaces
as :class:`MailError`; the caller decides what it means (for a warning:
the owner was not warned, so nothing may be deleted).
"""

import email.message
import email.utils
import smtplib
import socket
import ssl

from oslo_config import cfg

from osvmexpire.notifier import render


class MailError(Exception):
    """The mail was not accepted for the owner (any reason).

    ``server_down`` says the server itself failed (unreachable, timeout,
    dropped connection), so other mails of this cycle would fail too.
    """

    def __init__(self, message: str, server_down: bool = False):
        super().__init__(message)
        self.server_down = server_down


def build_message(conf: cfg.ConfigOpts, to: str,
                  rendered: render.Rendered) -> email.message.EmailMessage:
    """A MIME message with Date and Message-ID; Bcc is envelope-only."""
    smtp = conf.smtp
    msg = email.message.EmailMessage()
    msg['From'] = smtp.email_smtp_from
    msg['To'] = to
    msg['Subject'] = rendered.subject
    msg['Date'] = email.utils.formatdate(localtime=False, usegmt=True)
    domain = smtp.email_smtp_from.rpartition('@')[2] or None
    msg['Message-ID'] = email.utils.make_msgid('osvmexpire', domain=domain)
    msg.set_content(rendered.text)
    if rendered.html:
        msg.add_alternative(rendered.html, subtype='html')
    return msg


class Mailer:
    """smtplib with the [smtp] options: TLS, login, timeout."""

    def __init__(self, conf: cfg.ConfigOpts):
        self.conf = conf

    def _connect(self) -> smtplib.SMTP:
        smtp = self.conf.smtp
        timeout = smtp.email_smtp_timeout
        if smtp.email_smtp_ssl:
            client = smtplib.SMTP_SSL(
                smtp.email_smtp_host, smtp.email_smtp_port,
                timeout=timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.email_smtp_host,
                                  smtp.email_smtp_port, timeout=timeout)
            if smtp.email_smtp_tls:
                client.starttls(context=ssl.create_default_context())
        if smtp.email_smtp_user:
            client.login(smtp.email_smtp_user, smtp.email_smtp_password or '')
        return client

    def send(self, msg: email.message.EmailMessage,
             bcc: list[str] | tuple[str, ...] = ()) -> None:
        """Deliver ``msg`` to its To address plus ``bcc``.

        Raises MailError unless the server accepted the To address;
        refused Bcc copies are not the owner's problem and do not fail
        the mail.
        """
        to = msg['To']
        recipients = [to] + [a for a in bcc if a and a != to]
        try:
            client = self._connect()
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            raise MailError('cannot connect to SMTP server %s:%s: %s'
                            % (self.conf.smtp.email_smtp_host,
                               self.conf.smtp.email_smtp_port,
                               _describe(exc)),
                            server_down=True)
        try:
            refused = client.send_message(msg, from_addr=msg['From'],
                                          to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError('recipients refused: %s'
                            % _refusals(exc.recipients))
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise MailError('SMTP error: %s' % _describe(exc),
                            server_down=True)
        except smtplib.SMTPException as exc:
            raise MailError('SMTP error: %s' % _describe(exc))
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
        if to in refused:
            raise MailError('recipient refused: %s'
                            % _refusals({to: refused[to]}))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return 'timed out'
    if isinstance(exc, smtplib.SMTPResponseException):
        return '%s %s' % (exc.smtp_code, _text(exc.smtp_error))
    return str(exc) or exc.__class__.__name__


def _text(value) -> str:
    return value.decode('utf-8', 'replace') if isinstance(
        value, bytes) else str(value)


def _refusals(recipients: dict) -> str:
    return ', '.join('%s (%s %s)' % (addr, code, _text(text))
                     for addr, (code, text) in recipients.items())
