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
"""Sphinx configuration of the os-vm-expire documentation.

Build from the repository root (the generator config paths are relative to
it): ``sphinx-build -W --keep-going -b html doc/source doc/build/html``
(``tox -e docs``). The configuration and policy references are generated
from the code (oslo.config and oslo.policy Sphinx extensions), so the
package must be installed in the build environment.
"""

import os

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
# _static holds only generated files (samples, screenshots), none tracked:
# make sure it exists in a fresh clone.
os.makedirs(os.path.join(HERE, '_static'), exist_ok=True)

extensions = [
    'oslo_config.sphinxext',
    'oslo_config.sphinxconfiggen',
    'oslo_policy.sphinxext',
    'oslo_policy.sphinxpolicygen',
    'reno.sphinxext',
]

# oslo.config: sample file written to _static/ at build time (git-ignored)
config_generator_config_file = os.path.join(
    ROOT, 'etc', 'oslo-config-generator',
    'osvmexpire-config-generator.conf')
sample_config_basename = '_static/osvmexpire'
# oslo.policy: sample policy file, same way
policy_generator_config_file = os.path.join(
    ROOT, 'etc', 'oslo-config-generator', 'policy.conf')
sample_policy_basename = '_static/osvmexpire'

project = 'os-vm-expire'
copyright = '2026, os-vm-expire developers'
source_suffix = {'.rst': 'restructuredtext'}
master_doc = 'index'
exclude_patterns = []
pygments_style = 'sphinx'
html_theme = 'alabaster'
html_theme_options = {'fixed_sidebar': True, 'show_relbars': True}
html_static_path = ['_static']
html_title = 'os-vm-expire'
add_module_names = False

LOG = logging.getLogger(__name__)


class Screenshot(SphinxDirective):
    """A figure of a file in _static/ that exists only after a build step.

    The Horizon screenshots are taken by the browser test of the Horizon
    plugin (tools/cloud.d/20-horizon-browser.sh). In a tree where that
    test has not run, the figure is left out (and the build says so)
    instead of failing a warnings-are-errors build.
    """

    required_arguments = 1
    has_content = True
    option_spec = {'alt': directives.unchanged, 'width': directives.unchanged}

    def run(self):
        name = self.arguments[0]
        if not os.path.exists(os.path.join(HERE, '_static', name)):
            LOG.info('screenshot _static/%s missing: left out', name)
            return []
        image = nodes.image(uri='/_static/' + name,
                            alt=self.options.get('alt', name))
        if 'width' in self.options:
            image['width'] = self.options['width']
        figure = nodes.figure('', image)
        if self.content:
            caption = nodes.caption()
            self.state.nested_parse(self.content, self.content_offset,
                                    caption)
            figure += nodes.caption('', '', *caption.children[0].children)
        return [figure]


def setup(app):
    app.add_directive('screenshot', Screenshot)
