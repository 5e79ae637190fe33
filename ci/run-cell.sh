#!/usr/bin/env bash
# Runs one cell of the CI matrix (see `nvdimm-harness matrix`) exactly as the nightly workflow does:
#
#   ci/run-cell.sh QEMU IMAGE MACHINE SHARD [SCENARIOS]
#   ci/run-cell.sh 7.2 debian-bookworm q35 1/2 scenarios
#
# QEMU is a version the harness provisions (5.2, 7.2, 10.0, 11.1), IMAGE a guest image (images/NAME.json),
# MACHINE a machine type (pc or q35), SHARD i/n, SCENARIOS a scenario file or folder relative to the
# repository root (default: scenarios). Writes the JUnit report to reports/junit-<cell>.xml and keeps the
# logs of failed scenarios (serial consoles, QEMU command lines, QMP transcripts) in artifacts/<cell>/,
# where <cell> is qemu-QEMU-IMAGE-MACHINE-IofN; both in the folder NVDIMM_HARNESS_CELL_OUTPUT (relative to
# the repository root) instead if it is set. The exit status is the run's: 0 passed, 1 a step failed,
# 2 a malformed scenario (or bad arguments here).
set -euo pipefail

usage() {
  sed -n '2,13s/^# \{0,1\}//p' "$0" >&2
  exit 2
}

if [[ $# -lt 4 || $# -gt 5 ]]; then usage; fi
qemu=$1
image=$2
machine=$3
shard=$4
scenarios=${5:-scenarios}
if [[ $machine != pc && $machine != q35 ]]; then
  echo "run-cell.sh: MACHINE must be pc or q35, not \"$machine\" (arguments: QEMU IMAGE MACHINE SHARD [SCENARIOS])" >&2
  exit 2
fi
if [[ ! $shard =~ ^[0-9]+/[0-9]+$ ]]; then
  echo "run-cell.sh: SHARD must be i/n, e.g. 1/2, not \"$shard\"" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
cell="qemu-${qemu}-${image}-${machine}-${shard/\//of}"
out=${NVDIMM_HARNESS_CELL_OUTPUT:+${NVDIMM_HARNESS_CELL_OUTPUT%/}/}
report="${out}reports/junit-${cell}.xml"
export NVDIMM_HARNESS_ARTIFACTS="${out}artifacts/${cell}"

# A rerun of the cell starts clean: no report or logs of an earlier run are mistaken for this one's.
rm -rf -- "$report" "$NVDIMM_HARNESS_ARTIFACTS"
mkdir -p "${out}reports"

echo "cell ${cell}: QEMU ${qemu}, image ${image}, machine ${machine}, shard ${shard} of ${scenarios}" >&2
exec node bin/nvdimm-harness.js run "$scenarios" --qemu "$qemu" --image "$image" --machine "$machine" --shard "$shard" \
  --reporter junit --output-file "$report"
