#!/usr/bin/env bash
# `make install` into a temporary prefix, then use only what it installed, as
# someone who installed radarflow would: the binary, the man page, bash
# completion, pkg-config, a C program (open_capture.c) built against the
# installed headers and library - shared, and static - that opens a capture
# the installed binary simulated (its dimensions and first sample checked
# against h5py's reading when python3-h5py is there), and the README's "Using
# it" commands run in a scratch folder with only the prefix's bin/ added to
# PATH. Then DESTDIR staging gives the same files, and `make uninstall`
# removes exactly what was installed: files planted beside them stay.
#   tests/install/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$(pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
prefix=$scratch/prefix
jobs=$(nproc 2>/dev/null || echo 2)
fail() { echo "install: $*" >&2; exit 1; }

# Files that are not radarflow's, in the folders install writes to.
mkdir -p "$prefix/bin" "$prefix/share/doc" "$prefix/lib/pkgconfig"
echo keep > "$prefix/bin/other-tool"
echo keep > "$prefix/share/doc/other.txt"
echo keep > "$prefix/lib/pkgconfig/other.pc"

echo "== make install PREFIX=$prefix"
make --no-print-directory -j"$jobs" all >/dev/null
make --no-print-directory install PREFIX="$prefix" >/dev/null
(cd "$prefix" && find . \( -type f -o -type l \) ! -name 'other*' | sort) | tee "$scratch/installed.txt"

echo "== $prefix/bin/radarflow --version"
"$prefix/bin/radarflow" --version
version=$("$prefix/bin/radarflow" --version | awk 'NR == 1 { print $2 }')

echo "== man -l share/man/man1/radarflow.1 (first lines)"
page=$prefix/share/man/man1/radarflow.1
MANWIDTH=80 MANPAGER=cat man -l "$page" > "$scratch/man.txt"
head -n 20 "$scratch/man.txt"
grep -q "radarflow process" "$scratch/man.txt" || fail "man page lacks the process command"
grep -q "cfar.method" "$scratch/man.txt" || fail "man page lacks the settings"
groff -man -ww -z "$page" 2> "$scratch/groff.txt" || true
[ ! -s "$scratch/groff.txt" ] || { cat "$scratch/groff.txt"; fail "groff warns about the man page"; }

echo "== pkg-config --cflags --libs radarflow"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
pkg-config --cflags --libs radarflow
[ "$(pkg-config --modversion radarflow)" = "$version" ] || fail "pkg-config version is not $version"

echo "== every installed header compiles on its own (-std=c11 -pedantic -Werror)"
for h in $(cd "$prefix/include/radarflow" && find . -name '*.h' | sed 's|^\./||' | sort); do
  printf '#include <radarflow/%s>\nint main(void) { return 0; }\n' "$h" |
    cc -std=c11 -Wall -Wextra -pedantic -Werror -fsyntax-only $(pkg-config --cflags radarflow) -x c - ||
    fail "header $h does not compile alone"
done

echo "== a C program against the installed library"
cap=$scratch/demo.h5
"$prefix/bin/radarflow" simulate "$prefix/share/radarflow/scenarios/demo.ini" -o "$cap" --seed 1 -q
cc -std=c11 -Wall -Wextra -Werror -O2 tests/install/open_capture.c $(pkg-config --cflags --libs radarflow) \
  -Wl,-rpath,"$prefix/lib" -o "$scratch/open_shared"
readelf -d "$scratch/open_shared" > "$scratch/needed_shared.txt"
grep -q "NEEDED.*libradarflow.so" "$scratch/needed_shared.txt" || fail "not linked to libradarflow.so"
# Static: libradarflow.a, the other libraries as pkg-config --static lists them.
static_libs=$(pkg-config --static --libs radarflow | sed 's/\(^\| \)-lradarflow\( \|$\)/ /')
cc -std=c11 -Wall -Wextra -Werror -O2 tests/install/open_capture.c $(pkg-config --cflags radarflow) \
  "$(pkg-config --variable=libdir radarflow)/libradarflow.a" $static_libs -o "$scratch/open_static"
readelf -d "$scratch/open_static" > "$scratch/needed_static.txt"
! grep -q "libradarflow" "$scratch/needed_static.txt" || fail "static program needs libradarflow.so"
echo "-- shared:"
"$scratch/open_shared" "$cap" | tee "$scratch/shared.txt"
echo "-- static:"
"$scratch/open_static" "$cap" | tee "$scratch/static.txt"
cmp -s "$scratch/shared.txt" "$scratch/static.txt" || fail "shared and static programs differ"
py=${PYTHON:-/usr/bin/python3}
if "$py" -c 'import h5py' 2>/dev/null; then
  # The same facts read by h5py, an independent HDF5 reader.
  "$py" - "$cap" > "$scratch/h5py.txt" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    iq = f["iq"]
    name = f.attrs["radar_name"]
    print("radar", name.decode() if isinstance(name, bytes) else name)
    print("iq", *iq.shape, "int16" if iq.dtype.kind == "i" else "float32")
    print("dwells", len(f["dwell/first_pulse"]))
    i, q = iq[0, 0, 0, :]
    print("first", f"{i}" if iq.dtype.kind == "i" else f"{i:.9g}", f"{q}" if iq.dtype.kind == "i" else f"{q:.9g}")
PY
  diff "$scratch/h5py.txt" "$scratch/shared.txt" || fail "the C program and h5py disagree"
  echo "-- h5py reads the same"
else
  echo "-- (python3-h5py missing: not compared with h5py)"
fi

echo "== bash completion"
out=$(PATH=$prefix/bin:$PATH bash -c 'source "$1"
  for line in "radarflow pro" "radarflow process x.h5 --set cfar.me" "radarflow process x.h5 --set cfar.method=o" "radarflow process --de"; do
    COMP_LINE=$line; COMP_POINT=${#line}; _radarflow; echo "$line -> ${COMPREPLY[*]}"
  done' _ "$prefix/share/bash-completion/completions/radarflow")
echo "$out"
grep -qx 'radarflow pro -> process' <<<"$out" || fail "completion of a command"
grep -qx 'radarflow process x.h5 --set cfar.me -> cfar.method=' <<<"$out" || fail "completion of a setting"
grep -qx 'radarflow process x.h5 --set cfar.method=o -> os' <<<"$out" || fail "completion of a setting's choices"

echo "== README 'Using it', with only $prefix/bin added to PATH"
awk '/^## Using it/ { f = 1; next } f && /^## / { exit } f && /^    / { sub(/^    /, ""); print }' README.md |
  sed "s|^ex=.*|ex=$prefix/share/radarflow|" > "$scratch/readme.sh"
grep -q '^radarflow process' "$scratch/readme.sh" || fail "no commands found in README's Using it"
cat "$scratch/readme.sh"
mkdir -p "$scratch/tmp" "$scratch/home"
before=$(git status --porcelain --ignored 2>/dev/null | md5sum)
(export PATH="$prefix/bin:$PATH" TMPDIR="$scratch/tmp" XDG_CACHE_HOME="$scratch/home/.cache"
 cd "$scratch/home" && bash -euo pipefail "$scratch/readme.sh" > "$scratch/readme.log" 2>&1) ||
  { tail -n 30 "$scratch/readme.log"; fail "README's Using it failed"; }
[ "$before" = "$(git status --porcelain --ignored 2>/dev/null | md5sum)" ] ||
  fail "README's Using it changed the source tree"
echo "-- ran; the source tree is unchanged"

echo "== DESTDIR staging installs the same files"
make --no-print-directory install PREFIX="$prefix" DESTDIR="$scratch/stage" >/dev/null
(cd "$scratch/stage$prefix" && find . \( -type f -o -type l \) | sort) > "$scratch/staged.txt"
diff "$scratch/installed.txt" "$scratch/staged.txt" || fail "DESTDIR install differs"
make --no-print-directory uninstall PREFIX="$prefix" DESTDIR="$scratch/stage" >/dev/null

echo "== make uninstall"
make --no-print-directory uninstall PREFIX="$prefix" >/dev/null
left=$(cd "$prefix" && find . \( -type f -o -type l \) | sort)
echo "left in the prefix: $(echo $left)"
[ "$left" = "$(printf './bin/other-tool\n./lib/pkgconfig/other.pc\n./share/doc/other.txt')" ] ||
  fail "uninstall left or removed the wrong files"
for d in include/radarflow share/doc/radarflow share/radarflow; do
  [ ! -e "$prefix/$d" ] || fail "uninstall left $d"
done
echo "install: all checks passed"
