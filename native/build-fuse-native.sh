#!/usr/bin/env bash
# Build fuse-native 2.2.6 with our patch (native/fuse-native.patch) into
# node_modules/fuse-native/build/Release/fuse.node, which node-gyp-build loads before the
# package's prebuilds.
#
# The patch makes the binding keep POSIX semantics the stock build loses: utimens gets atime and
# mtime (not atime twice) in seconds + nanoseconds with UTIME_NOW / UTIME_OMIT told apart, stat
# times carry nanoseconds, create/mkdir/mknod/symlink/link/rename get the caller's uid, gid
# and pid from fuse_get_context(), a NULL path reaches JS as null (flag_nullpath_ok), so an
# open file that libfuse has no name for any more is still served through its handle, and
# names cross as latin1 strings, one char per byte, so a name that is not UTF-8 is kept exactly.
# The patched index.js exports Fuse.SCOUTFS_PATCH, the patch's version (patch_version below).
#
# Idempotent: the package's pristine fuse-native.c and index.js are saved once under
# node_modules/fuse-native/.scoutfs-pristine/, every build patches fresh copies of them in a
# staging directory, compiles with gcc directly (no node-gyp, no network), checks the result
# loads, and only then installs index.js, fuse-native.c and fuse.node. A build whose inputs have
# not changed is skipped. `npm ci` replaces node_modules, so run this again after it.
#
# Needs: gcc and the C library headers (Debian: gcc libc6-dev), patch, Node's headers
# (node_api.h, uv.h: /usr/include/node with NodeSource's nodejs package, <prefix>/include/node
# with a release tarball, or $NODE_INCLUDE_DIR), and libfuse.so.2 at run time (Debian: libfuse2).
set -euo pipefail

die() {
  echo "build-fuse-native: $*" >&2
  exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
patch_file="$root/native/fuse-native.patch"
pkg="$root/node_modules/fuse-native"
expected_version=2.2.6
# The version of native/fuse-native.patch: what the built binding must report as scoutfs_patch.
patch_version=9

# --- tools and inputs ------------------------------------------------------------------------

command -v node >/dev/null 2>&1 || die "node not found on PATH"
command -v gcc >/dev/null 2>&1 || die "gcc not found; install it (Debian: apt-get install gcc libc6-dev)"
command -v patch >/dev/null 2>&1 || die "patch not found; install it (Debian: apt-get install patch)"
echo '#include <stdio.h>' | gcc -E -x c - >/dev/null 2>&1 ||
  die "gcc cannot find the C library headers (stdio.h); install them (Debian: apt-get install libc6-dev)"
[ -f "$patch_file" ] || die "missing $patch_file"
grep -q "^scoutfs patch $patch_version " "$patch_file" ||
  die "$patch_file does not start with \"scoutfs patch $patch_version\"; bump patch_version here with the patch"
[ -f "$pkg/package.json" ] || die "missing $pkg; run npm ci first"

version="$(node -p "require(process.argv[1]).version" "$pkg/package.json")"
[ "$version" = "$expected_version" ] ||
  die "node_modules/fuse-native is $version; the patch is for $expected_version"

# Resolve a path the way fuse-native's binding.gyp does: from inside the package.
from_pkg() { (cd "$pkg" && node -e "$1" 2>/dev/null) || true; }

node_include=""
node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
node_version="$(node -p 'process.versions.node')"
tried=()
for dir in ${NODE_INCLUDE_DIR:+"$NODE_INCLUDE_DIR"} /usr/include/node "$node_prefix/include/node" \
  "${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/node-gyp/$node_version/include/node"; do
  tried+=("$dir")
  if [ -f "$dir/node_api.h" ] && [ -f "$dir/uv.h" ]; then
    node_include="$dir"
    break
  fi
done
[ -n "$node_include" ] ||
  die "Node $node_version headers (node_api.h, uv.h) not found in: ${tried[*]}; NodeSource's nodejs package and Node's release tarballs ship them (set NODE_INCLUDE_DIR to point elsewhere)"

napi_macros="$(from_pkg "console.log(require('path').dirname(require.resolve('napi-macros/napi-macros.h')))")"
[ -f "$napi_macros/napi-macros.h" ] || die "napi-macros.h not found (node_modules/napi-macros); run npm ci"

fuse_include="$(from_pkg "require('fuse-shared-library/include')")"
if [ ! -f "$fuse_include/fuse.h" ]; then
  fuse_include=/usr/include/fuse
  [ -f "$fuse_include/fuse.h" ] ||
    die "fuse.h not found in fuse-shared-library/include nor /usr/include/fuse; run npm ci (or apt-get install libfuse-dev)"
fi

fuse_lib="$(from_pkg "require('fuse-shared-library/lib')")"
if [ -f "$fuse_lib" ]; then link_fuse=("$fuse_lib"); else link_fuse=(-lfuse); fi

# --- pristine sources ------------------------------------------------------------------------

pristine="$pkg/.scoutfs-pristine"
if [ ! -f "$pristine/fuse-native.c" ] || [ ! -f "$pristine/index.js" ]; then
  if grep -q scoutfs_patch "$pkg/fuse-native.c" "$pkg/index.js"; then
    die "$pkg is already patched but has no pristine copy; reinstall it (npm ci) and run this again"
  fi
  mkdir -p "$pristine.tmp"
  cp "$pkg/fuse-native.c" "$pkg/index.js" "$pristine.tmp/"
  patch -p1 --dry-run --batch --silent -d "$pristine.tmp" <"$patch_file" >/dev/null ||
    die "the patch does not apply to $pkg/{fuse-native.c,index.js}; are they fuse-native $expected_version as published?"
  rm -rf "$pristine"
  mv "$pristine.tmp" "$pristine"
  echo "build-fuse-native: saved pristine sources in $pristine"
fi

# --- skip when nothing changed ---------------------------------------------------------------

release="$pkg/build/Release"
stamp="$pristine/stamp"
inputs="$(cat "$patch_file" "${BASH_SOURCE[0]}" "$pristine/fuse-native.c" "$pristine/index.js" | sha256sum | cut -d' ' -f1)"
outputs() { cat "$release/fuse.node" "$pkg/index.js" 2>/dev/null | sha256sum | cut -d' ' -f1; }
if [ -f "$stamp" ] && [ -f "$release/fuse.node" ] && [ "$(cat "$stamp")" = "$inputs $(outputs)" ]; then
  echo "build-fuse-native: $release/fuse.node is up to date"
  exit 0
fi

# --- patch and compile in a staging directory ------------------------------------------------

stage="$pkg/build/scoutfs-stage"
rm -rf "$stage"
mkdir -p "$stage"
cp "$pristine/fuse-native.c" "$pristine/index.js" "$stage/"
patch -p1 --batch --forward --silent -d "$stage" <"$patch_file" ||
  die "the patch does not apply to the pristine fuse-native $expected_version sources"

echo "build-fuse-native: compiling with $(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion)"
gcc -shared -fPIC -pthread -O2 -g -Wall -Wno-unused-parameter \
  -D_FILE_OFFSET_BITS=64 -D_LARGEFILE_SOURCE -DBUILDING_NODE_EXTENSION -DNODE_GYP_MODULE_NAME=fuse \
  -I"$node_include" -I"$napi_macros" -I"$fuse_include" \
  -o "$stage/fuse.node" "$stage/fuse-native.c" "${link_fuse[@]}" ||
  die "gcc failed to compile $stage/fuse-native.c"

loaded="$(node -e "process.stdout.write(String(require(process.argv[1]).scoutfs_patch))" "$stage/fuse.node" 2>&1)" ||
  die "the built fuse.node does not load (is libfuse.so.2 installed? Debian: apt-get install libfuse2): $loaded"
[ "$loaded" = "$patch_version" ] || die "the built fuse.node reports scoutfs_patch=$loaded, expected $patch_version"

# --- install ---------------------------------------------------------------------------------
# index.js first: a patched index.js beside a stock fuse.node refuses to load with a clear
# message, while the reverse would misread the binding's arguments. Each file is replaced by
# rename, so a running mount keeps its mapped copy.

mkdir -p "$release"
cp "$stage/index.js" "$pkg/index.js.scoutfs-tmp" && mv -f "$pkg/index.js.scoutfs-tmp" "$pkg/index.js"
cp "$stage/fuse-native.c" "$pkg/fuse-native.c.scoutfs-tmp" && mv -f "$pkg/fuse-native.c.scoutfs-tmp" "$pkg/fuse-native.c"
cp "$stage/fuse.node" "$release/fuse.node.scoutfs-tmp" && mv -f "$release/fuse.node.scoutfs-tmp" "$release/fuse.node"
rm -rf "$stage"
echo "$inputs $(outputs)" >"$stamp"
echo "build-fuse-native: installed $release/fuse.node (scoutfs patch $patch_version)"
