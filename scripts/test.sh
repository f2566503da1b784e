#!/usr/bin/env bash
# Set up the environment, then run the unit tests and execute every chapter
# notebook, all in ONE pytest session (nbval-lax: every cell must run without
# error; outputs are not compared).  Extra arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
source .venv/bin/activate

# Notebooks are committed as MyST Markdown; convert them to .ipynb in a scratch
# copy of notebooks/ so that relative paths (e.g. ../results) resolve as they do
# in the book (nbval starts each kernel in the notebook's own directory).
SCRATCH=_build/nbtest/notebooks
rm -rf _build/nbtest
mkdir -p "$SCRATCH"
cp -r notebooks/. "$SCRATCH/"          # data files/images next to the chapters
rm -f "$SCRATCH"/*.md "$SCRATCH"/*.ipynb
ln -s ../../results _build/nbtest/results   # ../results as seen from notebooks/
shopt -s nullglob
NOTEBOOKS=()
for md in notebooks/*.md; do
    out="$SCRATCH/$(basename "${md%.md}").ipynb"
    jupytext --quiet --from md:myst --to ipynb --output "$out" "$md"
    NOTEBOOKS+=("$out")
done
echo "test: ${#NOTEBOOKS[@]} notebook(s) converted into $SCRATCH"

# conftest.py (repository root) prints the per-notebook execution times at the end.
python -m pytest tests "${NOTEBOOKS[@]}" \
    --nbval-lax --nbval-current-env --nbval-cell-timeout=900 \
    -p no:cacheprovider "$@"
