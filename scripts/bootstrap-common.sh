# What the bootstrap scripts share: the layout of .deps, their messages, and one run at a time.
# Sourced, not run: the script sets NAME (its name in messages) and DEST (its folder under .deps)
# first. Defines ROOT, DEPS, STAMP, PARTIAL, PYTHON, say, die and serialise.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPS="$ROOT/.deps"
DEST="$DEPS/$DEST"
STAMP="$DEST/.bootstrap-complete"
PARTIAL="$DEST.partial"
PYTHON="${PYTHON:-python3}"

say() { echo "$NAME: $*"; }
die() {
    echo "$NAME: error: $*" >&2
    exit 1
}

# serialise LOCKFILE MESSAGE: waits until no other run holds LOCKFILE (where flock exists; the
# lock is held until this script exits), then exits with MESSAGE if that run completed the
# install in the meantime (unless FORCE is set).
serialise() {
    command -v flock >/dev/null 2>&1 || return 0
    exec 9>"$1"
    flock 9
    if [[ -f "$STAMP" && -z "${FORCE:-}" ]]; then
        say "$2"
        exit 0
    fi
}
