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

# logged LOG COMMAND...: runs COMMAND with its output in LOG (one step's pages of pip or apt
# output stay out of the terminal); on failure prints the last 30 lines and where the whole log
# is, and returns COMMAND's status.
logged() {
    local log="$1"
    shift
    mkdir -p "$(dirname "$log")"
    if "$@" >"$log" 2>&1; then
        return 0
    else
        local status=$?
        echo "$NAME: the command failed (status $status): $*" >&2
        tail -n 30 "$log" | sed "s/^/$NAME: | /" >&2
        echo "$NAME: the whole log: ${log#"$ROOT"/}" >&2
        return "$status"
    fi
}
