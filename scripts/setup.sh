#!/usr/bin/env bash
# Create (once) the project virtual environment .venv and install the package with
# its book and test extras.  Idempotent: a second run only compares a stamp file
# (hash of pyproject.toml + repository path) and returns in well under a second.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV=.venv
STAMP="$VENV/.ownlatents-setup-stamp"

# Python 3.11 preferred; fall back to whatever python3 is (must be >= 3.11).
if [[ ! -x "$VENV/bin/python" ]]; then
    PY=$(command -v python3.11 || command -v python3)
    "$PY" -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 needed"'
    echo "setup: creating $VENV with $PY"
    "$PY" -m venv "$VENV"
fi

# The stamp changes whenever the dependency list or the checkout location changes.
WANT=$( (sha256sum pyproject.toml; pwd) | sha256sum | cut -d' ' -f1 )
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
    echo "setup: $VENV up to date"
    exit 0
fi

echo "setup: installing ownlatents[book,test] into $VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# torch is pinned to the CPU build: an unpinned torch pulls a multi-GB CUDA wheel.
"$VENV/bin/python" -m pip install --quiet "torch==2.13.0" -e ".[book,test]"
echo "$WANT" > "$STAMP"
echo "setup: done"
