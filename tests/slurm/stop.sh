#!/usr/bin/env bash
# Stop the daemons tests/slurm/start.sh STATE_DIR started (by their pid files only).
set -u
state=$1
for daemon in slurmd slurmctld munged; do
    pidfile="$state/$daemon.pid"
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$pidfile"
done
# the configuration start.sh installed, if it is still its own
grep -qx "# written by eegflow tests/slurm/start.sh" /etc/slurm/slurm.conf 2>/dev/null &&
    rm -f /etc/slurm/slurm.conf
exit 0
