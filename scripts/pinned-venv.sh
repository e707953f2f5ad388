# Sourced by the scripts that need Python tools (deploy/venv.sh, scripts/schemathesis.sh,
# scripts/console-test.sh). `pinned_venv DIR REQUIREMENT...` makes DIR a venv holding exactly these
# pinned requirements, installed from PyPI on first use or when a pin changes (DIR/.versions keeps the
# list it was built from).
pinned_venv() {
    local dir=$1
    shift
    local want="$*"
    if [[ ! -x "$dir/bin/python" || "$(cat "$dir/.versions" 2>/dev/null)" != "$want" ]]; then
        echo "== installing $want into $dir"
        mkdir -p "$(dirname "$dir")"
        python3 -m venv "$dir"
        "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
        echo "$want" > "$dir/.versions"
    fi
}
