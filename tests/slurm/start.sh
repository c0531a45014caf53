#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine for the tests (Debian, as root).
#   tests/slurm/start.sh STATE_DIR
# Installs slurm-wlm and munge with apt-get if missing, starts munged (unless one
# already answers), slurmctld and slurmd, each with its pid file in STATE_DIR, so that
# stop.sh stops exactly the daemons started here. The config goes to
# /etc/slurm/slurm.conf, where sbatch, squeue and the srun inside each job look for it;
# an existing one not written by this script is left alone and the script exits 2, so a
# real cluster's configuration is never touched.
set -euo pipefail
state=$(realpath -m "$1")
mkdir -p "$state/spool" "$state/state"

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    cp /run/munge/munged.pid "$state/munged.pid"
    for _ in $(seq 50); do munge -n | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

host=$(hostname)
memory_mb=$(( $(free -m | awk '/^Mem:/ {print $2}') - 1024 ))
marker="# written by eegflow tests/slurm/start.sh"
conf=/etc/slurm/slurm.conf
if [ -e "$conf" ] && ! grep -qx "$marker" "$conf"; then
    echo "$conf exists and was not written by this script; not touching it" >&2
    exit 2
fi
mkdir -p /etc/slurm
cat > "$conf" <<CONF
$marker
ClusterName=eegflowtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/state
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$(nproc) RealMemory=$memory_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

/usr/sbin/slurmctld
/usr/sbin/slurmd
for _ in $(seq 100); do
    sinfo -h -o %t 2>/dev/null | grep -qx idle && exit 0
    sleep 0.2
done
echo "SLURM node did not become idle; see $state/slurmctld.log and $state/slurmd.log" >&2
exit 1
