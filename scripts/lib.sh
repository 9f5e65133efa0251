# Shared helpers for scripts/*: sourced, not run. Works on a fresh Debian machine that has
# only pyenv's Pythons: finds the Python named in .python-version, installs uv into it when
# missing, syncs .venv from uv.lock, and installs the npm front-end libraries.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export UV_PYTHON_DOWNLOADS=never  # never download a Python: use the machine's
export UV_PROJECT_ENVIRONMENT="$ROOT/.venv"
# Compile .pyc files at install time and let Python cache the project's: without them every
# manage.py/pytest start recompiles Django and friends (seconds each time on 2 cores).
export UV_COMPILE_BYTECODE=1
unset PYTHONDONTWRITEBYTECODE
VENV_PY="$ROOT/.venv/bin/python"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mERROR:\033[0m %s\n' "$*" >&2; exit 1; }

# The interpreter for .python-version (e.g. 3.12): pyenv's newest 3.12.x, else one on PATH.
find_python() {
    local want candidate
    want="$(tr -d '[:space:]' <"$ROOT/.python-version")"
    local roots=("${PYENV_ROOT:-}" "$HOME/.pyenv" /root/.pyenv /opt/pyenv)
    for root in "${roots[@]}"; do
        [ -n "$root" ] && [ -d "$root/versions" ] || continue
        for candidate in $(ls -d "$root/versions/$want"* 2>/dev/null | sort -V -r); do
            if [ -x "$candidate/bin/python$want" ]; then
                echo "$candidate/bin/python$want"
                return 0
            fi
        done
    done
    for candidate in "python$want" python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" = "$want" ]; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# Sets UV (an array) to a working uv, installing it with pip into that Python when missing.
ensure_uv() {
    local python
    python="$(find_python)" || die "no Python $(cat "$ROOT/.python-version") found (looked in pyenv's versions and on PATH)."
    export UV_PYTHON="$python"
    if "$python" -m uv --version >/dev/null 2>&1; then
        UV=("$python" -m uv)
    elif command -v uv >/dev/null 2>&1 && uv --version >/dev/null 2>&1; then
        UV=(uv)
    else
        say "installing uv into $python"
        "$python" -m pip install --quiet --disable-pip-version-check uv || die "could not pip-install uv"
        UV=("$python" -m uv)
    fi
}

# .venv exactly as uv.lock says (dev tools included: the same environment serves run and test).
sync_python() {
    ensure_uv
    say "uv sync --frozen ($UV_PYTHON)"
    (cd "$ROOT" && "${UV[@]}" sync --frozen --quiet) || die "uv sync failed"
}

# htmx and ECharts from the npm registry (package-lock.json); node_modules is never committed.
sync_npm() {
    local stamp="$ROOT/node_modules/.package-lock.json"
    if [ -f "$stamp" ] && [ "$stamp" -nt "$ROOT/package-lock.json" ]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        install_debian_packages nodejs npm || die "npm is missing and could not be installed (apt-get install nodejs npm)"
    fi
    say "npm ci (htmx, echarts)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
}

# Compiles the committed translation catalogs (shequn/**/locale/*/LC_MESSAGES/django.po) into the
# .mo files Django reads (never committed). msgfmt comes from Debian's gettext.
compile_messages() {
    if ! command -v msgfmt >/dev/null 2>&1; then
        install_debian_packages gettext || die "msgfmt is missing and could not be installed (apt-get install gettext)"
    fi
    say "compilemessages"
    (cd "$ROOT" && "$VENV_PY" manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0) ||
        die "compilemessages failed"
}

# Installs Debian packages that are missing; returns non-zero with a clear message when it cannot.
install_debian_packages() {
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            printf '\033[1;31mERROR:\033[0m missing system packages: %s\n' "${missing[*]}" >&2
            echo "  Not root and no password-less sudo: install them yourself with" >&2
            echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
            return 1
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "ERROR: missing system packages ${missing[*]} and no apt-get (not Debian?): install them by hand." >&2
        return 1
    fi
    say "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null ||
        echo "warning: apt-get update failed; trying the install with the lists at hand" >&2
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
        echo "ERROR: apt-get install ${missing[*]} failed" >&2
        return 1
    }
}
