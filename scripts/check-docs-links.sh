#!/usr/bin/env bash
# check-docs-links.sh [BUILD] — build the documentation site and check that
# every local link and image in it resolves.
#
#   scripts/check-docs-links.sh build      (ctest runs it as docs-links)
#   scripts/check-docs-links.sh --no-build build    (check the site as it is)
#
# Builds the `docs` target of the build tree BUILD (default: build), then
# walks BUILD/docs/html: every href= and src= of every .html page, and the
# pages named in the sidebar's .js files, must name a file (or a folder with
# an index.html) of the site.  External links (http:, https:, mailto:) are
# not fetched; in-page anchors (#...) are not checked.  An absolute path
# (/..., file:) is an error too: the site must work wherever it is copied.
# A page that shows Doxygen's own markup as text (&lt;tt&gt;: a code span in
# a heading, or a code span with an odd number of double quotes, which
# Doxygen 1.9 mangles) is an error as well.
#
# Exit status: 0 = every link resolves, 1 = broken links (listed), 2 = the
# site could not be built.
set -euo pipefail
export LC_ALL=C

no_build=0
if [[ ${1-} == --no-build ]]; then no_build=1; shift; fi
build=${1:-build}
if ((!no_build)) && ! cmake --build "$build" --target docs >"$build/docs-build.log" 2>&1; then
    grep -v '^gmake' "$build/docs-build.log" | tail -40 >&2
    echo "check-docs-links: make docs failed (log: $build/docs-build.log)" >&2
    exit 2
fi
html="$build/docs/html"
[[ -f $html/index.html ]] || { echo "check-docs-links: $html/index.html was not generated" >&2; exit 2; }

find "$html" -type f \( -name '*.html' -o -name '*.js' \) -print0 | perl -0 -ne '
    BEGIN { $pages = 0; $links = 0; $broken = 0; }
    chomp; my $file = $_;
    open(my $fh, "<", $file) or die "check-docs-links: cannot read $file: $!\n";
    my $text = do { local $/; <$fh> }; close $fh;
    (my $dir = $file) =~ s{/[^/]*$}{};
    my @targets;
    if ($file =~ /\.html$/) {
        $pages++;
        push @targets, $2 while $text =~ /\b(href|src)\s*=\s*"([^"]*)"/g;
        if ($text =~ /(.{0,60})&lt;(\/?tt)&gt;/) {
            print "$file: Doxygen markup shown as text: \"$1<$2>\"\n"; $broken++;
        }
    } else {
        # the sidebar: navtreedata.js and the per-page .js name pages as "x.html"
        push @targets, $1 while $text =~ /"([A-Za-z0-9_.\/-]+\.html)(?:#[^"]*)?"/g;
    }
    for my $t (@targets) {
        next if $t eq "" || $t =~ /^#/;
        next if $t =~ /^(https?|mailto|ftp|javascript|data):/i;
        $links++;
        my $path = $t;
        $path =~ s/[#?].*//s;
        next if $path eq "";
        if ($path =~ m{^(/|file:)}) { print "$file: absolute link \"$t\"\n"; $broken++; next; }
        $path =~ s/%([0-9A-Fa-f]{2})/chr(hex($1))/ge;
        $path =~ s/&amp;/&/g;
        my $full = "$dir/$path";
        next if -f $full || -f "$full/index.html";
        print "$file: broken link \"$t\"\n"; $broken++;
    }
    END {
        print "check-docs-links: $pages pages, $links local links, $broken broken links or pages\n";
        exit($broken ? 1 : 0);
    }'
