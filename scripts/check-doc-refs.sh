#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# check-doc-refs.sh: every *.md a source, test, script or document names must exist in
# the repository. A reference is resolved relative to the referencing file's folder,
# then to the repository root. Two forms also name a section, and that section must
# exist in the target:
#   - a markdown link with an anchor:   [text](docs/SOCKMAP.md#no-backpressure)
#   - a citation in prose or comments:  docs/SOCKMAP.md, section "No backpressure"
# URLs (http://, https://) are not checked. Exit 0 when all is well, 1 with a list of
# offenders otherwise. Run by `make check`.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOTS=(user bpf include tests scripts docs README.md)
# Files the build writes, named by the code that writes them: not in the repository.
GENERATED=(results.md) # scripts/bench/report.py, into build/bench/<run>/
bad=0

# The file a reference names, or nothing when neither place has it.
resolve() { # from_file ref
	local dir
	dir=$(dirname "$1")
	if [[ -f "$dir/$2" ]]; then
		printf '%s\n' "$dir/$2"
	elif [[ -f "$2" ]]; then
		printf '%s\n' "$2"
	fi
}

# GitHub-style anchors of a markdown file's headings (fenced code skipped).
anchors() {
	awk '/^```/ { fence = !fence; next }
	     !fence && /^#+ / { h = $0; sub(/^#+ +/, "", h); h = tolower(h)
	                        gsub(/[^a-z0-9 _-]/, "", h); gsub(/ /, "-", h); print h }' "$1"
}

# Heading texts of a markdown file, as written.
headings() {
	awk '/^```/ { fence = !fence; next }
	     !fence && /^#+ / { h = $0; sub(/^#+ +/, "", h); print h }' "$1"
}

report() {
	printf '%s\n' "$1" >&2
	bad=1
}

mapfile -t files < <(git ls-files -- "${ROOTS[@]}" | while read -r f; do
	[[ -f "$f" ]] && grep -Iq . "$f" 2>/dev/null && printf '%s\n' "$f"
done)

for f in "${files[@]}"; do
	# File references, with an optional anchor; URLs are matched first and skipped.
	while IFS=: read -r line ref; do
		[[ "$ref" == http* ]] && continue
		path=${ref%%#*}
		target=$(resolve "$f" "$path")
		if [[ -z "$target" ]]; then
			[[ " ${GENERATED[*]} " == *" ${path##*/} "* ]] && continue
			report "$f:$line: $path: no such file in the repository"
			continue
		fi
		if [[ "$ref" == *#* ]]; then
			anchor=${ref#*#}
			anchors "$target" | grep -qxF -- "$anchor" ||
				report "$f:$line: $ref: $target has no section with anchor #$anchor"
		fi
	done < <(grep -noE 'https?://[^ )>"`]*|[A-Za-z0-9_./-]+\.md(#[A-Za-z0-9_-]+)?' "$f" || true)

	# Citations by heading; comment leaders are dropped and lines joined, so a
	# citation may wrap across comment lines.
	while IFS= read -r cite; do
		path=${cite%%,*}
		section=${cite#*\"}
		section=${section%\"}
		target=$(resolve "$f" "$path")
		[[ -z "$target" ]] && continue # reported above
		headings "$target" | grep -qxF -- "$section" ||
			report "$f: $path, section \"$section\": no such heading in $target"
	done < <(sed -E 's@^[[:space:]]*(/\*+|\*+|//+|#+)?[[:space:]]?@@' "$f" | tr '\n' ' ' |
		grep -oE '[A-Za-z0-9_./-]+\.md, section "[^"]+"' || true)
done

if ((bad)); then
	echo "check-doc-refs: references above name a missing file or section" >&2
	exit 1
fi
echo "check-doc-refs: ${#files[@]} files, every .md reference resolves"
