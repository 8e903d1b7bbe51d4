#!/bin/sh
# mkdeb.sh BINARY OUTDIR — assemble OUTDIR/pushwire_VERSION_ARCH.deb with
# dpkg-deb from BINARY (built by `make deb` with dpkg-buildflags), man/,
# completions/ and packaging/.  Prints the path of the .deb.
#
# The version is PW_VERSION in cmd/main.c, the one place it is written; the
# binary must say the same.  Depends: comes from dpkg-shlibdeps, so it
# follows what the binary really links.  Timestamps come from
# SOURCE_DATE_EPOCH (default: the last commit), so two runs on the same
# commit give the same package.
set -eu
umask 022
[ $# = 2 ] || { echo "usage: packaging/mkdeb.sh BINARY OUTDIR" >&2; exit 2; }
bin=$1 out=$2
top=$(cd "$(dirname "$0")/.." && pwd)
pkg=$top/packaging

for t in dpkg-deb dpkg-shlibdeps strip gzip; do
    command -v $t >/dev/null 2>&1 ||
        { echo "mkdeb: '$t' not found: run 'make deps' (dpkg-dev, binutils)" >&2; exit 1; }
done

version=$(sed -n 's/^#define PW_VERSION "\([^"]*\)"$/\1/p' "$top/cmd/main.c")
case $version in
[0-9]*) ;;
*) echo "mkdeb: no PW_VERSION in cmd/main.c (found '$version')" >&2; exit 1 ;;
esac
said=$("$bin" --version)
[ "$said" = "pushwire $version" ] ||
    { echo "mkdeb: '$bin' says '$said', cmd/main.c says '$version': rebuild" >&2; exit 1; }

arch=$(dpkg --print-architecture)
maint=${DEB_MAINTAINER:-pushwire maintainers <maintainers@users.noreply.r-seed-fb098da7.example>}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

mkdir -p "$out"
out=$(cd "$out" && pwd)
# stage outside the tree: a directory named *.d under build/ would be taken
# for a dependency file by the Makefile
stage=$(mktemp -d "${TMPDIR:-/tmp}/pushwire-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root
doc=$root/usr/share/doc/pushwire
install -d "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man1" "$doc" \
    "$root/usr/lib/systemd/system" "$root/etc/default" \
    "$root/usr/share/bash-completion/completions" \
    "$root/usr/share/zsh/vendor-completions" "$root/usr/share/fish/vendor_completions.d"

# what dh_strip does: no debug info, no .comment/.note in the package
install -m 755 "$bin" "$root/usr/bin/pushwire"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/pushwire"

for m in "$top"/man/*.1; do
    gzip -9n <"$m" >"$root/usr/share/man/man1/${m##*/}.gz"
    chmod 644 "$root/usr/share/man/man1/${m##*/}.gz"
done
install -m 644 "$top/completions/pushwire.bash" "$root/usr/share/bash-completion/completions/pushwire"
install -m 644 "$top/completions/_pushwire" "$root/usr/share/zsh/vendor-completions/_pushwire"
install -m 644 "$top/completions/pushwire.fish" "$root/usr/share/fish/vendor_completions.d/pushwire.fish"

sed 's|@BINDIR@|/usr/bin|g' "$pkg/pushwire.service.in" >"$root/usr/lib/systemd/system/pushwire.service"
chmod 644 "$root/usr/lib/systemd/system/pushwire.service"
install -m 644 "$pkg/pushwire.default" "$root/etc/default/pushwire"

install -m 644 "$pkg/copyright" "$doc/copyright"
{
    printf 'pushwire (%s) unstable; urgency=medium\n\n' "$version"
    printf '  * Built from the pushwire source by "make deb".\n\n'
    printf ' -- %s  %s\n' "$maint" "$(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$doc/changelog.gz"
chmod 644 "$doc/changelog.gz"

install -m 755 "$pkg/postinst" "$pkg/prerm" "$pkg/postrm" "$root/DEBIAN/"
echo /etc/default/pushwire >"$root/DEBIAN/conffiles"
chmod 644 "$root/DEBIAN/conffiles"
(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' |
    LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/md5sums"

# dpkg-shlibdeps reads debian/control from where it runs: give it a minimal one
sh=$stage/shlibdeps
mkdir -p "$sh/debian"
printf 'Source: pushwire\n\nPackage: pushwire\nArchitecture: any\n' >"$sh/debian/control"
depends=$(cd "$sh" && dpkg-shlibdeps -O "$root/usr/bin/pushwire" | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "mkdeb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maint|" \
    -e "s|@SIZE@|$size|" -e "s|@DEPENDS@|$depends|" "$pkg/control.in" >"$root/DEBIAN/control"
chmod 644 "$root/DEBIAN/control"

find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
deb=$out/pushwire_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
