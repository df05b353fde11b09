#!/usr/bin/env bash
# shellcheck shell=bash
# Makes a checkout ready to run: pnpm usable, dependencies installed from the lockfile, all packages built.
#
# Sourced by the other scripts (`source scripts/bootstrap.sh`); can also be run on its own
# (`bash scripts/bootstrap.sh`). Needs only Node >= 20 and npm. Prints one line per step on stderr and the
# full output of a step only when it fails. Safe to run again: install and build are skipped while their
# inputs are older than the last successful run (always run when CI=true or SLUICE_BOOTSTRAP_FORCE=1).
#
# After sourcing:
#   SLUICE_ROOT   absolute path of the repository root
#   pnpm          a shell function running the pnpm pinned in package.json `packageManager`; a `pnpm`
#                 executable is also put first on PATH, because package.json scripts call `pnpm` themselves
#                 (`build`, `typecheck`, `lint`) and a shell function is not inherited by child processes.
#
# pnpm comes from corepack with COREPACK_INTEGRITY_KEYS=0: corepack's signature check fails against the
# registry this project is built with. If corepack cannot run it, `npx -y pnpm@<version>` is used instead.

SLUICE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SLUICE_ROOT

sluice_log() { printf 'bootstrap: %s\n' "$*" >&2; }

# Shows the end of a failed step's output, then removes it.
sluice_show_log() {
  local log="$1" lines="${2:-60}"
  printf -- '----- last %s lines of output -----\n' "$lines" >&2
  tail -n "$lines" "$log" >&2
  printf -- '-----\n' >&2
  rm -f "$log"
}

sluice_check_node() {
  local version major
  if ! version="$(node --version 2>/dev/null)"; then
    sluice_log "error: node not found on PATH; install Node.js 20 or later"
    return 1
  fi
  major="${version#v}"
  major="${major%%.*}"
  if [ "$major" -lt 20 ]; then
    sluice_log "error: node $version is too old; Sluice needs Node.js 20 or later"
    return 1
  fi
}

# Writes an executable `pnpm` into a per-user directory and puts that directory first on PATH.
sluice_setup_pnpm() {
  local version mode shim_dir got
  version="$(sed -n 's/.*"packageManager"[[:space:]]*:[[:space:]]*"pnpm@\([^"+]*\).*/\1/p' "$SLUICE_ROOT/package.json")"
  version="${version:-10.34.9}"
  export COREPACK_INTEGRITY_KEYS=0
  export COREPACK_ENABLE_DOWNLOAD_PROMPT=0

  if command -v corepack >/dev/null 2>&1 &&
    got="$(cd "$SLUICE_ROOT" && corepack "pnpm@$version" --version 2>/dev/null)" && [ "$got" = "$version" ]; then
    mode=corepack
  elif got="$(cd "$SLUICE_ROOT" && npx -y "pnpm@$version" --version 2>/dev/null)" && [ "$got" = "$version" ]; then
    mode=npx
  else
    sluice_log "error: cannot run pnpm $version through corepack (COREPACK_INTEGRITY_KEYS=0 corepack pnpm) or npx (npx -y pnpm@$version)"
    return 1
  fi

  shim_dir="${TMPDIR:-/tmp}/sluice-$(id -u)/pnpm-$version-$mode"
  if [ ! -x "$shim_dir/pnpm" ]; then
    mkdir -p "$shim_dir" || return 1
    local tmp="$shim_dir/pnpm.$$"
    {
      printf '#!/bin/sh\n# pnpm %s through %s, written by scripts/bootstrap.sh\n' "$version" "$mode"
      printf 'export COREPACK_INTEGRITY_KEYS=0 COREPACK_ENABLE_DOWNLOAD_PROMPT=0\n'
      if [ "$mode" = corepack ]; then
        printf 'exec corepack pnpm@%s "$@"\n' "$version"
      else
        printf 'exec npx -y pnpm@%s "$@"\n' "$version"
      fi
    } >"$tmp" && chmod +x "$tmp" && mv -f "$tmp" "$shim_dir/pnpm" || return 1
  fi
  case ":$PATH:" in
    *":$shim_dir:"*) ;;
    *) PATH="$shim_dir:$PATH" ;;
  esac
  export PATH
  SLUICE_PNPM="$shim_dir/pnpm"
  sluice_log "pnpm $version via $mode"
}

pnpm() { "$SLUICE_PNPM" "$@"; }

# Succeeds when the stamp file exists and none of the given paths (files or directories, searched
# recursively) was modified after it. A directory's own mtime changes when a file in it is added or removed.
sluice_is_fresh() {
  local stamp="$1"
  shift
  [ -f "$stamp" ] || return 1
  [ "${CI:-}" != "true" ] || return 1
  [ "${SLUICE_BOOTSTRAP_FORCE:-}" != "1" ] || return 1
  local newer
  newer="$(find "$@" -newer "$stamp" -print 2>/dev/null | head -n 1)"
  [ -z "$newer" ]
}

SLUICE_INSTALLED_NOW=0

sluice_install() {
  local stamp="$SLUICE_ROOT/node_modules/.sluice-bootstrap/installed"
  local inputs=("$SLUICE_ROOT/pnpm-lock.yaml" "$SLUICE_ROOT/package.json" "$SLUICE_ROOT/pnpm-workspace.yaml"
    "$SLUICE_ROOT"/packages/*/package.json)
  [ -f "$SLUICE_ROOT/.npmrc" ] && inputs+=("$SLUICE_ROOT/.npmrc")
  if [ -f "$SLUICE_ROOT/pnpm-lock.yaml" ] && [ -f "$SLUICE_ROOT/node_modules/.modules.yaml" ] &&
    sluice_is_fresh "$stamp" "${inputs[@]}"; then
    sluice_log "dependencies up to date"
    return 0
  fi

  local log next_stamp start=$SECONDS args=(install --frozen-lockfile)
  if [ ! -f "$SLUICE_ROOT/pnpm-lock.yaml" ]; then
    args=(install --no-frozen-lockfile)
    sluice_log "no pnpm-lock.yaml: installing without a lockfile (commit the pnpm-lock.yaml it writes)"
  fi
  # As in sluice_build, the stamp is taken before the step so that an edit made during it is not missed.
  mkdir -p "$(dirname "$stamp")" || return 1
  next_stamp="$(mktemp "$(dirname "$stamp")/installed.XXXXXX")"
  log="$(mktemp "${TMPDIR:-/tmp}/sluice-install.XXXXXX")"
  if ! (cd "$SLUICE_ROOT" && pnpm "${args[@]}") >"$log" 2>&1; then
    rm -f "$next_stamp"
    if grep -q 'ERR_PNPM_OUTDATED_LOCKFILE' "$log"; then
      sluice_log "error: pnpm-lock.yaml does not match a package.json; run 'pnpm install' and commit pnpm-lock.yaml"
    fi
    sluice_log "error: pnpm ${args[*]} failed"
    sluice_show_log "$log"
    return 1
  fi
  rm -f "$log"
  mv -f "$next_stamp" "$stamp"
  # Without a lockfile the install has just written one; it is an output here, not a newer input.
  [ "${args[1]}" = --frozen-lockfile ] || touch "$stamp"
  SLUICE_INSTALLED_NOW=1
  sluice_log "dependencies installed ($((SECONDS - start))s)"
}

sluice_build() {
  local stamp="$SLUICE_ROOT/node_modules/.sluice-bootstrap/built"
  local inputs=("$SLUICE_ROOT/tsconfig.base.json") missing=0 dir input
  for dir in "$SLUICE_ROOT"/packages/*/; do
    [ -f "$dir/package.json" ] || continue
    [ -d "$dir/dist" ] || missing=1
    for input in src package.json tsup.config.ts tsconfig.json; do
      [ -e "$dir/$input" ] && inputs+=("$dir/$input")
    done
  done
  if [ "$SLUICE_INSTALLED_NOW" = 0 ] && [ "$missing" = 0 ] && sluice_is_fresh "$stamp" "${inputs[@]}"; then
    sluice_log "packages built and up to date"
    return 0
  fi

  # The stamp is taken before the build, so a file saved while the build runs makes the next run build again.
  local log next_stamp start=$SECONDS
  mkdir -p "$(dirname "$stamp")"
  next_stamp="$(mktemp "$(dirname "$stamp")/built.XXXXXX")"
  log="$(mktemp "${TMPDIR:-/tmp}/sluice-build.XXXXXX")"
  if ! (cd "$SLUICE_ROOT" && pnpm build) >"$log" 2>&1; then
    rm -f "$next_stamp"
    sluice_log "error: pnpm build failed"
    sluice_show_log "$log"
    return 1
  fi
  rm -f "$log"
  mv -f "$next_stamp" "$stamp"
  sluice_log "packages built ($((SECONDS - start))s)"
}

sluice_bootstrap() {
  sluice_check_node && sluice_setup_pnpm && sluice_install && sluice_build
}

if ! sluice_bootstrap; then
  sluice_log "failed; see the message above"
  # `return` ends a sourced script; `exit` ends this one when it is run directly.
  # shellcheck disable=SC2317
  return 1 2>/dev/null || exit 1
fi
