#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# build-deb.sh: the Debian package from the tree as it is (committed or not), built in a
# copy under build/deb/ so that dpkg-buildpackage writes nothing beside the checkout;
# then lintian. `make deb` runs it. Needs the Build-Depends of debian/control plus
# dpkg-dev, debhelper, fakeroot and lintian (scripts/install-deps.sh installs them).
#   scripts/build-deb.sh            build/deb/sockgate_<version>_<arch>.deb
#   scripts/build-deb.sh --no-lint  skip lintian
set -euo pipefail
cd "$(dirname "$0")/.."
lint=1
[ "${1:-}" = --no-lint ] && lint=0

version=$(dpkg-parsechangelog -S Version)
out=$PWD/build/deb
src=$out/src/sockgate-$version
rm -rf "$out"
mkdir -p "$src"
# The tracked and the new, unignored files of the working tree, without build/.
git ls-files -z --cached --others --exclude-standard | grep -zv '^build/' |
	xargs -0 cp --parents -a -t "$src" 2>/dev/null || true
(cd "$src" && dpkg-buildpackage -us -uc -b -j"$(nproc)")
# dpkg-buildpackage writes beside the source directory: move the results up.
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out"/
rm -rf "$out/src"
ls -l "$out"/*.deb
if [ "$lint" -eq 1 ] && command -v lintian >/dev/null; then
	# Tags are printed; errors and warnings fail the build. debian/sockgate.lintian-overrides explains
	# the tags that stay.
	lintian --fail-on error,warning --info --display-info --pedantic --show-overrides "$out"/sockgate_"$version"_*.changes
fi
