#!/bin/sh
# supervise.sh OWNER_PID COMMAND [ARG...]
#
# Runs COMMAND for a test process (OWNER_PID) and makes sure nothing it started outlives that
# test process. Rust's std has no PR_SET_PDEATHSIG, and a `static` emulator shared by the tests
# of one binary is never dropped, so the test-support module starts every emulator through this
# script, in a process group of its own:
#
# - every second it checks that OWNER_PID is still alive (and COMMAND too);
# - when the owner is gone, when COMMAND has exited, or on SIGTERM/SIGINT/SIGHUP, it sends
#   SIGTERM to COMMAND, waits up to 5 s, then SIGKILLs COMMAND and every process that descended
#   from it.
#
# The descendants matter: `cargo lambda watch` starts each function binary in a session of its
# own (so killing our process group does not reach them), and a function busy in an invocation
# survives a SIGKILL of cargo-lambda until that invocation ends (measured; see
# functions/README.md). Descendants are listed from /proc before anything is killed, because an
# orphan is re-parented and can no longer be traced back.
#
# Exit status: COMMAND's, or 128+signal when stopped by a signal.
set -u

owner=$1
shift

"$@" &
child=$!
napper=

# The process state letter of PID ("" when there is no such process).
state_of() {
    line=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    rest=${line##*) }
    echo "${rest%% *}"
}

# True while PID exists and is not a zombie.
alive() {
    s=$(state_of "$1")
    [ -n "$s" ] && [ "$s" != Z ]
}

# The pids whose parent is $1.
children_of() {
    wanted=$1
    for f in /proc/[0-9]*/stat; do
        line=$(cat "$f" 2>/dev/null) || continue
        rest=${line##*) }
        # rest = "state ppid pgrp session ..."
        set -f
        # shellcheck disable=SC2086
        set -- $rest
        set +f
        if [ "${2:-}" = "$wanted" ]; then
            p=${f#/proc/}
            echo "${p%/stat}"
        fi
    done
}

# The pids descended from $1, parents before children.
descendants() {
    for d in $(children_of "$1"); do
        echo "$d"
        descendants "$d"
    done
}

cleanup() {
    trap '' TERM INT HUP
    if [ -n "$napper" ]; then
        kill -TERM "$napper" 2>/dev/null
    fi
    family="$child $(descendants "$child" | tr '\n' ' ')"
    kill -TERM "$child" 2>/dev/null
    i=0
    while alive "$child" && [ "$i" -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if alive "$child"; then
        family="$family $(descendants "$child" | tr '\n' ' ')"
    fi
    # Anything of the family still alive (a busy function, a compiler) is killed outright.
    for p in $family; do
        if alive "$p"; then
            kill -KILL "$p" 2>/dev/null
        fi
    done
    wait "$child" 2>/dev/null
    status=$?
    exit "${1:-$status}"
}

trap 'cleanup 143' TERM
trap 'cleanup 130' INT
trap 'cleanup 129' HUP

while alive "$owner" && alive "$child"; do
    # `wait` on a background sleep lets a signal's trap run at once.
    sleep 1 &
    napper=$!
    wait "$napper"
    napper=
done
cleanup
