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
"""Performance scripts; each prints its figures beside a baseline.

Run them from the repository root, e.g.
``.venv/bin/python -m benchmarks.cleaner_cycle``; see README.rst here.
"""

import warnings

# futurist (via oslo.messaging and oslo.db) imports eventlet when present,
# and eventlet warns about its own deprecation on import: noise in figures.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
