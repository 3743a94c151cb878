# Sourced by the install-*.sh scripts: Debian packages installed with apt-get, as root, or a clear refusal.
# debian_install WHO [--no-recommends] PACKAGE...   (WHO names the script in its messages)
debian_install() {
  local who=$1 options=()
  shift
  if [ "${1:-}" = --no-recommends ]; then
    options=(--no-install-recommends)
    shift
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$who: $* missing and apt-get is not available; install Debian's $* by hand" >&2
    return 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "$who: $* missing; run as root (or: sudo apt-get install $*)" >&2
    return 1
  fi
  echo "$who: installing Debian's $*" >&2
  DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq "${options[@]}" "$@" >/dev/null
}
