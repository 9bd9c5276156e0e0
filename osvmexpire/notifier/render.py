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
"""Mail bodies from Jinja2 templates that operators can override.

Each kind of mail is three files: ``<kind>.subject`` (one line),
``<kind>.txt`` and, optionally, ``<kind>.html`` (sent as an alternative
part). A file of the same name in ``[smtp] template_dir`` replaces the
built-in one, so an operator can change the wording without touching the
package. Kinds: ``warning``, ``deleted``, ``extended``, ``operator``.
"""

import dataclasses
import datetime

import jinja2

PACKAGE_TEMPLATES = 'templates'


@dataclasses.dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def relative(when: datetime.datetime, now: datetime.datetime) -> str:
    """'in 9 days', 'in 5 hours', '3 days ago': for humans, not machines."""
    delta = when - now
    seconds = abs(delta.total_seconds())
    units = [(name, size) for name, size in
             (('day', 86400), ('hour', 3600), ('minute', 60))
             if seconds >= size]
    if not units:
        return 'now'
    name, size = units[0]
    count = int(seconds // size)
    text = '%d %s%s' % (count, name, '' if count == 1 else 's')
    return 'in %s' % text if delta.total_seconds() > 0 else '%s ago' % text


def utc_text(value: datetime.datetime | None) -> str:
    return value.strftime('%Y-%m-%d %H:%M UTC') if value else '-'


class Renderer:
    """Renders the mails of one configuration."""

    def __init__(self, template_dir: str | None = None):
        loaders = []
        if template_dir:
            loaders.append(jinja2.FileSystemLoader(template_dir))
        loaders.append(jinja2.PackageLoader('osvmexpire.notifier',
                                            PACKAGE_TEMPLATES))
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(['html']),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True, trim_blocks=True,
            lstrip_blocks=True)
        self.env.filters['utc'] = utc_text

    def render(self, kind: str, **values) -> Rendered:
        subject = self.env.get_template(kind + '.subject').render(**values)
        text = self.env.get_template(kind + '.txt').render(**values)
        try:
            html_tmpl = self.env.get_template(kind + '.html')
        except jinja2.TemplateNotFound:
            html = None
        else:
            html = html_tmpl.render(**values)
        # A header must be one line; templates may end with a newline.
        subject = ' '.join(subject.split())
        return Rendered(subject, text, html)
