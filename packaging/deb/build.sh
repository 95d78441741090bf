#!/usr/bin/env bash
# build.sh ROOT OUT: turn a `make install` tree (ROOT, installed with
# PREFIX=/usr) into the packages hags, libha-gs1 and libha-gs-dev in OUT.
# `make deb` runs it from the repository's root with these variables set:
#   NFPM            the nfpm program (pinned by the Makefile)
#   DEB_VERSION     the packages' version, e.g. 0.1.0~git20261206.c328291-1
#   DEB_ARCH        dpkg's architecture, e.g. amd64
#   DEB_MULTIARCH   the library directory's triplet, e.g. x86_64-linux-gnu
#   DEB_MAINTAINER  "Name <address>"
#   LIBVER          the library's full version (the file libha_gs.so.LIBVER)
#
# nfpm builds each package. Two steps are Debian's own tools, because nfpm
# has no notion of them: dpkg-shlibdeps computes the libc6 dependency of
# the binaries, and dpkg-deb adds the shlibs control file to libha-gs1 (so
# that packages built against libha_gs depend on it).
set -euo pipefail

root=$(realpath "${1:?usage: build.sh ROOT OUT}")
out=$(realpath -m "${2:?usage: build.sh ROOT OUT}")
: "${NFPM:?}" "${DEB_VERSION:?}" "${DEB_ARCH:?}" "${DEB_MULTIARCH:?}" "${DEB_MAINTAINER:?}" "${LIBVER:?}"
for tool in dpkg-deb dpkg-shlibdeps strip; do
	command -v "$tool" >/dev/null || { echo "build.sh: $tool is needed (apt-get install dpkg-dev binutils)" >&2; exit 1; }
done
work=$out/work
rm -rf "$work" && mkdir -p "$work" "$out"

# Strip as dh_strip does: the symbols and notes of executables and of the
# shared library, the debugging information of the static one.
for f in "$root"/usr/sbin/* "$root"/usr/bin/*; do
	strip --remove-section=.comment --remove-section=.note "$f"
done
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/lib/$DEB_MULTIARCH/libha_gs.so.$LIBVER"
strip --strip-debug --remove-section=.comment --remove-section=.note --enable-deterministic-archives \
	"$root/usr/lib/$DEB_MULTIARCH/libha_gs.a"

# Manual pages are shipped compressed, without a name or time stamp.
shopt -s nullglob
pages=("$root"/usr/share/man/man*/*.[378])
[ ${#pages[@]} -eq 0 ] || gzip -9nf "${pages[@]}"

# The libc6 dependency, from the symbol versions the binaries use.
mkdir -p "$work/shlibdeps/debian"
printf 'Source: hags\n\nPackage: hags\nArchitecture: any\n' >"$work/shlibdeps/debian/control"
bins=("$root"/usr/sbin/* "$root"/usr/bin/* "$root/usr/lib/$DEB_MULTIARCH/libha_gs.so.$LIBVER")
DEB_LIBC_DEPENDS=$(cd "$work/shlibdeps" && dpkg-shlibdeps -O "${bins[@]}" 2>"$work/shlibdeps.log" | sed -n 's/^shlibs:Depends=//p') ||
	{ cat "$work/shlibdeps.log" >&2; exit 1; }
case "$DEB_LIBC_DEPENDS" in
libc6*) ;;
*) echo "build.sh: dpkg-shlibdeps gave no libc6 dependency: '$DEB_LIBC_DEPENDS'" >&2; exit 1 ;;
esac
export DEB_LIBC_DEPENDS DEB_ROOT="$root" DEB_VERSION DEB_ARCH DEB_MULTIARCH DEB_MAINTAINER LIBVER

# changelog.Debian.gz: one entry, dated by the commit packaged.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
date=$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
sed -e "s|@VERSION@|$DEB_VERSION|" -e "s|@DATE@|$date|" -e "s|@MAINTAINER@|$DEB_MAINTAINER|" -e "s|@COMMIT@|$commit|" \
	packaging/deb/changelog.yaml.in >"$out/changelog.yaml"

for pkg in hags libha-gs1 libha-gs-dev; do
	"$NFPM" package --config "packaging/deb/$pkg.yaml" --packager deb --target "$out/${pkg}_${DEB_VERSION}_${DEB_ARCH}.deb"
done

# libha-gs1's shlibs: a package linked with -lha_gs depends on
# libha-gs1 of this version or later.
lib="$out/libha-gs1_${DEB_VERSION}_${DEB_ARCH}.deb"
dpkg-deb --raw-extract "$lib" "$work/libha-gs1"
upstream=${DEB_VERSION%-*}
printf 'libha_gs 1 libha-gs1 (>= %s)\n' "$upstream" >"$work/libha-gs1/DEBIAN/shlibs"
chmod 0644 "$work/libha-gs1/DEBIAN/shlibs"
dpkg-deb --root-owner-group --build "$work/libha-gs1" "$lib" >/dev/null

ls -1 "$out"/*.deb
