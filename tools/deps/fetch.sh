#!/bin/sh
# tools/deps/fetch.sh: make every dependency of certwiz present, and do nothing when it is.
#
#   1. Debian packages (tools/deps/debian-packages.txt): installed with apt-get only when missing.
#   2. Source packages of mbedTLS and lwIP (tools/deps/pins.txt): fetched from Debian's trixie
#      suite with `apt-get source --download-only`, through a private sources list and apt state
#      under third_party/apt/ (the machine's /etc/apt is only read, never written), checked against
#      the pinned sha256 of the orig tarball, and unpacked with Debian's patches by dpkg-source.
#
# The mirror is the one the machine's apt already uses; no host name is written in this repository.
# Downloads are cached in third_party/downloads/, so a second run needs no network.
#
# Usage: tools/deps/fetch.sh [--no-packages] [--no-sources]
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
deps="$top/tools/deps"
# Overridable for tests of this script: the pin file and the third_party directory.
pins=${CW_PINS:-$deps/pins.txt}
tp=${CW_THIRD_PARTY:-$top/third_party}
do_pkgs=1
do_srcs=1
for a in "$@"; do
  case "$a" in
    --no-packages) do_pkgs=0 ;;
    --no-sources) do_srcs=0 ;;
    *) echo "fetch.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

say() { echo "deps: $*"; }
die() { echo "deps: error: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ---- 1. Debian packages -------------------------------------------------------------------
install_packages() {
  missing=""
  for p in $(grep -v '^[[:space:]]*#' "$deps/debian-packages.txt"); do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
      *"ok installed") ;;
      *) missing="$missing $p" ;;
    esac
  done
  [ -z "$missing" ] && return 0
  say "installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine may have empty package lists; update once, then install.
  as_root apt-get update -q || die "apt-get update failed"
  # shellcheck disable=SC2086
  as_root apt-get install -y -q --no-install-recommends $missing \
    || die "apt-get install failed for:$missing"
}

# ---- 2. pinned source packages --------------------------------------------------------------

# The first Debian archive URI from apt's own configuration (deb822 .sources, then sources.list),
# skipping the security archive, which does not carry trixie's main suite.
find_mirror() {
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f"
  done
}

pick_mirror() {
  find_mirror | grep -v -- '-security' | grep -E '/debian/?$' | head -n 1
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# unpacked_ok <pkg> <sha>: the stamp says this exact tarball is unpacked in third_party/<pkg>.
unpacked_ok() {
  [ -f "$tp/$1/.certwiz-pin" ] && [ "$(cat "$tp/$1/.certwiz-pin")" = "$2" ]
}

apt_private() {
  apt-get -q \
    -o Dir::Etc::SourceList=/dev/null \
    -o Dir::Etc::SourceParts="$tp/apt/sources" \
    -o Dir::State::Lists="$tp/apt/lists" \
    -o Dir::Cache="$tp/apt/cache" \
    -o Debug::NoLocking=1 \
    -o APT::Sandbox::User="$(id -un)" \
    "$@"
}

fetch_sources() {
  need=""
  while read -r pkg file sha; do
    case "$pkg" in ''|\#*) continue ;; esac
    unpacked_ok "$pkg" "$sha" || need="$need $pkg"
  done < "$pins"
  [ -z "$need" ] && return 0

  mkdir -p "$tp/downloads" "$tp/apt/sources" "$tp/apt/lists/partial" "$tp/apt/cache/archives/partial"
  have_all=1
  for pkg in $need; do
    file=$(awk -v p="$pkg" '$1 == p { print $2 }' "$pins")
    ls "$tp/downloads/${pkg}_"*.dsc >/dev/null 2>&1 && [ -f "$tp/downloads/$file" ] || have_all=0
  done

  if [ "$have_all" -eq 0 ]; then
    mirror=$(pick_mirror) || true
    [ -n "$mirror" ] || die "no Debian mirror found in /etc/apt (sources.list or sources.list.d/*.sources)"
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -f "$keyring" ] || die "$keyring is missing (package debian-archive-keyring)"
    cat > "$tp/apt/sources/certwiz-trixie.sources" <<EOF
Types: deb-src
URIs: $mirror
Suites: trixie
Components: main
Signed-By: $keyring
EOF
    say "fetching source index of trixie from the machine's Debian mirror"
    apt_private update >/dev/null || die "apt-get update of the private trixie deb-src list failed"
    for pkg in $need; do
      say "downloading source package $pkg (trixie)"
      (cd "$tp/downloads" && apt_private source --download-only "$pkg" >/dev/null) \
        || die "apt-get source --download-only $pkg failed"
    done
  fi

  while read -r pkg file sha; do
    case "$pkg" in ''|\#*) continue ;; esac
    unpacked_ok "$pkg" "$sha" && continue
    if [ ! -f "$tp/downloads/$file" ]; then
      got=$(cd "$tp/downloads" && ls "${pkg}_"*.orig.tar.* 2>/dev/null | tr '\n' ' ')
      die "$pkg: Debian now ships '${got:-nothing}', not the pinned $file.
  The upstream release changed. Review the new release (changelog, security notes), then
  update the line for $pkg in tools/deps/pins.txt with the new file name and its sha256
  (sha256sum third_party/downloads/<file>), rebuild and run make check."
    fi
    actual=$(sha256_of "$tp/downloads/$file")
    if [ "$actual" != "$sha" ]; then
      die "$pkg: checksum mismatch for $file
  pinned:  $sha
  fetched: $actual
  The same upstream file name now has different contents. Do not build with it. Compare it
  with the pinned release (diff the unpacked trees), and only if the change is understood and
  wanted, put the new sha256 into tools/deps/pins.txt."
    fi
    dsc=$(ls "$tp/downloads/${pkg}_"*.dsc | sort -V | tail -n 1)
    say "$pkg: $file verified (sha256 $sha); unpacking $(basename "$dsc") with Debian's patches"
    rm -rf "$tp/$pkg" "$tp/$pkg.tmp"
    dpkg-source -x --no-check "$dsc" "$tp/$pkg.tmp" >/dev/null || die "dpkg-source -x $dsc failed"
    echo "$sha" > "$tp/$pkg.tmp/.certwiz-pin"
    basename "$dsc" > "$tp/$pkg.tmp/.certwiz-dsc"
    mv "$tp/$pkg.tmp" "$tp/$pkg"
    rm -f "$tp/$file" # dpkg-source leaves a link to the orig tarball beside the tree
  done < "$pins"
}

[ "$do_pkgs" -eq 1 ] && install_packages
[ "$do_srcs" -eq 1 ] && fetch_sources
exit 0
