#!/usr/bin/env bash
# Once per user: make `snakemake --profile slurm` find this profile, typed from the project
# root (or any folder). Snakemake looks for a profile named on the command line in the
# working directory, then in ${XDG_CONFIG_HOME:-~/.config}/snakemake; the project's top
# level is fixed (no slurm/ folder there), so this links the profile into the latter.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd -P)"
target="${XDG_CONFIG_HOME:-$HOME/.config}/snakemake/slurm"
if [ -e "$target" ] && [ "$(readlink -f "$target")" != "$here" ]; then
    echo "$target exists and is another profile; left alone (use --profile $here)" >&2
    exit 1
fi
mkdir -p "$(dirname "$target")"
ln -sfn "$here" "$target"
echo "snakemake --profile slurm now uses $here (linked from $target)"
