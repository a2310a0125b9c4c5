#!/bin/sh
# chapter-filter.sh FILE: Doxygen's input filter for the chapters
# (steps/NN-name/README.md; see FILTER_PATTERNS in Doxyfile.in).
#
# On disk a chapter names its picture as the file next to it, topology.svg
# (rendered from topology.dot: `make docs`, or dot -Tsvg).  On the site the
# chapter is a page at the top of build/docs/html/ and the picture is rendered
# into the step's folder, html/steps/NN-name/; rewrite the relative .svg
# references of the chapter to point there.  Everything else passes through.
set -eu
step=$(basename "$(dirname "$1")")
exec sed -E "s#(\]\(|src=\")([A-Za-z0-9_.-]+\.svg)([)\"])#\1steps/$step/\2\3#g" "$1"
