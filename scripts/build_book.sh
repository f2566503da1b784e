#!/usr/bin/env bash
# Set up the environment, then build the HTML book, executing every chapter
# (fast preset unless OWNLATENTS_PRESET says otherwise).  Warnings are errors.
# Extra arguments are passed to `jupyter-book build` (e.g. --config FILE).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
source .venv/bin/activate

rm -f _build/html/index.html   # so a stale page cannot hide a failed build
jupyter-book build --all -W -n --keep-going "$@" .

if [[ ! -f _build/html/index.html ]]; then
    echo "build_book: _build/html/index.html is missing" >&2
    exit 1
fi
echo "build_book: open _build/html/index.html"
