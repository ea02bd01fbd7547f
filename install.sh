#!/usr/bin/env bash
# Builds flowhook in release mode and installs it onto PATH.
#   ./install.sh               build and install (again: replaces the binary in place)
#   ./install.sh --uninstall   remove the installed binary (your memory and settings stay)
# The destination is $FLOWHOOK_BIN_DIR, else /usr/local/bin when writable, else ~/.local/bin.
# Wherever cargo builds (CARGO_TARGET_DIR, build.target-dir), the binary is found there.
set -euo pipefail
cd "$(dirname "$0")"

if [[ -n "${FLOWHOOK_BIN_DIR:-}" ]]; then
  dest=$FLOWHOOK_BIN_DIR
elif [[ -w /usr/local/bin ]]; then
  dest=/usr/local/bin
else
  dest=$HOME/.local/bin
fi

case "${1:-}" in
  "") ;;
  --uninstall)
    if [[ -e "$dest/flowhook" ]]; then
      rm -f "$dest/flowhook"
      echo "install.sh: removed $dest/flowhook (run 'flowhook uninstall' first to take its hooks out of settings.json)" >&2
    else
      echo "install.sh: nothing to remove at $dest/flowhook" >&2
    fi
    exit 0 ;;
  -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "install.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
esac

if ! command -v cargo >/dev/null 2>&1; then
  echo "install.sh: cargo is not installed. Install Rust with rustup (https://rustup.rs):" >&2
  echo "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh" >&2
  exit 1
fi

echo "install.sh: building the release binary (a first build takes a few minutes)..." >&2
if [[ "$(rustc -vV | sed -n 's/^host: //p')" == *-linux-gnu ]]; then
  # Linked statically and at a fixed address, a hook process starts in half the time: no
  # shared libraries to load and bind, no relocations to apply (the sync code's tables would
  # add 0.2 ms): about 0.5 ms of every call. Only the final crate needs the flags.
  cargo rustc --release --locked --quiet --bin flowhook -- \
    -C target-feature=+crt-static -C relocation-model=static
else
  cargo build --release --locked --quiet
fi
# Cargo's own answer to where it built: CARGO_TARGET_DIR and configuration included.
target=$(cargo metadata --format-version 1 --no-deps --locked |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
built=${target:-target}/release/flowhook
mkdir -p "$dest"
install -m 0755 "$built" "$dest/flowhook.new"
mv -f "$dest/flowhook.new" "$dest/flowhook"

echo "install.sh: installed $("$dest/flowhook" --version) at $dest/flowhook" >&2
case ":$PATH:" in
  *":$dest:"*) echo "install.sh: next, wire a project: flowhook install --project <dir>" >&2 ;;
  *) echo "install.sh: $dest is not on your PATH; add it: export PATH=\"$dest:\$PATH\"" >&2 ;;
esac
