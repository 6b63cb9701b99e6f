# Shared start of the capture generators (sourced, not run): root check, paths, required tools.
# Usage: source lib.sh; peers_setup NAME OUTDIR_ARG TOOL...   -> sets HERE, REPO, OUT

peers_fail() { echo "$PEERS_NAME: $*" >&2; exit 1; }

peers_setup() {
    PEERS_NAME=$1; local outdir=$2; shift 2
    [[ $EUID -eq 0 ]] || peers_fail "must run as root (network namespaces, raw sockets)"
    HERE=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
    REPO=$(cd "$HERE/../.." && pwd)
    OUT=$(mkdir -p "${outdir:-$REPO/captures}" && cd "${outdir:-$REPO/captures}" && pwd)
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || peers_fail "$tool not found"
    done
}
