#!/bin/bash
# Documentation: the Sphinx docs (doc/source) and the release notes
# (releasenotes/source), built the way tox -e docs / tox -e releasenotes
# build them, warnings as errors, from scratch (-E: a saved environment
# would skip unchanged pages and hide their warnings). The configuration
# and policy references are generated from the installed package, and the
# API samples are the ones tests/functional/api/test_samples.py keeps true.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=$ROOT/.venv
export PIP_DISABLE_PIP_VERSION_CHECK=1

"$VENV/bin/pip" install -q -r doc/requirements.txt 2>&1 | grep -v '^WARNING: Location' || true

build() {   # build NAME SOURCE DEST
    local log
    log=$(mktemp)
    local start=$SECONDS
    if ! "$VENV/bin/sphinx-build" -E -W --keep-going -b html "$2" "$3" > "$log" 2>&1; then
        cat "$log"
        echo "ERROR: sphinx-build of $1 failed (warnings are errors)" >&2
        rm -f "$log"
        exit 1
    fi
    grep -E 'WARNING|ERROR' "$log" && { echo "ERROR: $1 has warnings" >&2; exit 1; }
    grep -E '^screenshot ' "$log" || true
    rm -f "$log"
    echo "$1: built in $((SECONDS - start)) s, entry page $3/index.html"
}

rm -rf doc/build releasenotes/build
build docs doc/source doc/build/html
build releasenotes releasenotes/source releasenotes/build/html

# The generated parts really are there.
grep -q '^\[cleaner\]' doc/source/_static/osvmexpire.conf.sample
grep -q '^#notify_before_days = 10' doc/source/_static/osvmexpire.conf.sample
grep -q '"vmexpire:extend"' doc/source/_static/osvmexpire.policy.yaml.sample
grep -q 'id="cleaner.dry_run"' doc/build/html/configuration/config.html
grep -q 'vmexclude:create' doc/build/html/configuration/policy.html
for sample in doc/source/api/samples/*.json; do
    grep -q "samples/$(basename "$sample")" doc/source/api/index.rst \
        || { echo "ERROR: $sample is not in the API reference" >&2; exit 1; }
done
grep -q 'Current Series Release Notes' releasenotes/build/html/unreleased.html
echo "docs: configuration, policy, API samples and release notes present"
