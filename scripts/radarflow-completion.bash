# bash completion for radarflow, installed as
# share/bash-completion/completions/radarflow (bash-completion loads it on
# first use; or `source` it). Commands, options, setting names and their
# choices, devices and workloads are asked from the program being completed
# (--help, COMMAND --help, config-doc, devices), so they never fall behind
# it. Answers are kept for the shell session, per program path.

_radarflow_ask() { # program, cache key, command...: its output, cached
  local prog=$1 key=$2
  shift 2
  local var="_radarflow_cache_$key"
  if [[ ${_radarflow_cache_prog-} != "$prog" ]]; then
    unset "${!_radarflow_cache_@}"
    _radarflow_cache_prog=$prog
  fi
  if [[ -z ${!var+set} ]]; then
    printf -v "$var" '%s' "$("$prog" "$@" 2>/dev/null)"
  fi
  printf '%s\n' "${!var}"
}

_radarflow_commands() {
  _radarflow_ask "$1" help --help |
    awk '/^Commands:/ { f = 1; next } f && /^$/ { exit } f && /^  [a-z]/ { print $1 }'
}

_radarflow_options() { # program, command: its long and short options
  _radarflow_ask "$1" "help_${2//[^a-z]/_}" "$2" --help |
    awk '/^ +-/ { for (i = 1; i <= NF && $i ~ /^-/; i++) { o = $i; sub(/,$/, "", o); print o } }'
  echo --help
}

# "section.key choice/choice" for every setting (choices empty for numbers).
_radarflow_settings() {
  _radarflow_ask "$1" settings config-doc |
    awk -F' [|] ' 'NR > 2 && /^\| / { sub(/^\| /, ""); c = ($4 ~ /^[a-z0-9_]+(\/[a-z0-9_]+)+$/) ? $4 : ""; print $1 "." $2, c }'
}

_radarflow() {
  # Words split at blanks only (bash also splits at '=' and ':', which
  # --set KEY=VALUE and opencl:P:D contain); the line up to the cursor.
  local line=${COMP_LINE:0:COMP_POINT} w
  read -ra w <<<"$line"
  [[ $line == *[[:space:]] || ${#w[@]} -eq 0 ]] && w+=("")
  local n=${#w[@]} cur=${w[-1]} prev= prog=${w[0]/#\~/$HOME} cmd=${w[1]-}
  (( n > 1 )) && prev=${w[-2]}
  COMPREPLY=()
  if (( n == 2 )); then
    mapfile -t COMPREPLY < <(compgen -W "$(_radarflow_commands "$prog") help --help --version" -- "$cur")
    return
  fi
  if [[ $cmd == help ]]; then
    (( n == 3 )) && mapfile -t COMPREPLY < <(compgen -W "$(_radarflow_commands "$prog")" -- "$cur")
    return 0
  fi
  case $prev in
    --set)
      if [[ $cur == *=* ]]; then
        local choices
        choices=$(_radarflow_settings "$prog" | awk -v k="${cur%%=*}" '$1 == k { print $2 }')
        mapfile -t COMPREPLY < <(compgen -P "${cur%%=*}=" -W "${choices//\// }" -- "${cur#*=}")
      else
        mapfile -t COMPREPLY < <(compgen -S = -W "$(_radarflow_settings "$prog" | awk '{ print $1 }')" -- "$cur")
        compopt -o nospace 2>/dev/null
      fi ;;
    --device | -d)
      if [[ $prev == --device || $cmd == process || $cmd == batch ]]; then
        mapfile -t COMPREPLY < <(compgen -W "auto cpu opencl $(_radarflow_ask "$prog" devices devices |
          awk '$1 ~ /^opencl:[0-9]+:[0-9]+$/ { print $1 }')" -- "$cur")
      fi ;;
    --workload | -w)
      local have=
      [[ $cur == *,* ]] && have="${cur%,*},"
      mapfile -t COMPREPLY < <(compgen -P "$have" -W "$(_radarflow_ask "$prog" help_bench bench --help |
        sed -n 's/^Workloads: *\([^(]*\).*/\1/p')" -- "${cur##*,}") ;;
    --progress) mapfile -t COMPREPLY < <(compgen -W "auto line plain none" -- "$cur") ;;
    --seed | -s | --repeat | -r | --dwell | --beam | -b | --jobs | -j | --shard | --resident | --dwells) ;;
    -o | --output | --dir)
      compopt -o filenames 2>/dev/null
      if [[ $cmd == simulate ]]; then
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
      fi ;;
    *)
      if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_radarflow_options "$prog" "$cmd")" -- "$cur")
      else
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      fi ;;
  esac
  # bash replaces only the part of the word after its last '=' or ':'.
  local head=${cur%"${cur##*[=:]}"}
  [[ -n $head ]] && COMPREPLY=("${COMPREPLY[@]#"$head"}")
  return 0
}
complete -F _radarflow radarflow
