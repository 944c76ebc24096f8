#!/usr/bin/env bash
# The privacy manifest against the code: apple/PrivacyInfo.xcprivacy must
# parse as a property list, and every required-reason API that the Darwin
# objects built by scripts/darwin-check.sh import (llvm-nm -u) must be
# declared in it with a reason. Fails when a new call to such an API
# appears without a declaration, and names the symbol and object.
#
# Symbols map to Apple's categories (developer.apple.com, "Describing use of
# required reason API"); names are compared without the leading underscore
# and without a $INODE64-style suffix. sysctl/sysctlbyname count as boot
# time: the symbol cannot say which name is read, and identity_darwin.c
# reads kern.boottime. The Objective-C glue is not compiled here: its APIs
# (none of NSUserDefaults, systemUptime, file dates) are checked by reading.
# Usage: scripts/apple-privacy-check.sh   (after scripts/darwin-check.sh)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MANIFEST="${MEMGAUGE_PRIVACY_MANIFEST:-apple/PrivacyInfo.xcprivacy}"
OBJ=build/darwin-check/obj
NM=llvm-nm-14

die() {
    echo "apple-privacy-check: $*" >&2
    exit 1
}

command -v "$NM" >/dev/null || die "$NM not found (apt-get install llvm-14)"
shopt -s nullglob
objects=("$OBJ"/*/*.o)
shopt -u nullglob
((${#objects[@]} > 0)) || die "no objects in $OBJ: run scripts/darwin-check.sh first"

# object<TAB>symbol for every undefined symbol
"$NM" -u -A "${objects[@]}" | awk '{sub(/:$/, "", $1); print $1 "\t" $NF}' >build/darwin-check/undefined.txt

python3 - "$MANIFEST" build/darwin-check/undefined.txt <<'EOF2'
import plistlib, re, sys

manifest, undefined = sys.argv[1], sys.argv[2]
with open(manifest, "rb") as f:
    plist = plistlib.load(f)

categories = {
    "NSPrivacyAccessedAPICategoryFileTimestamp": {
        "stat", "fstat", "lstat", "fstatat", "getattrlist", "fgetattrlist", "getattrlistat",
        "getattrlistbulk"},
    "NSPrivacyAccessedAPICategorySystemBootTime": {
        "mach_absolute_time", "sysctl", "sysctlbyname"},
    "NSPrivacyAccessedAPICategoryDiskSpace": {
        "statfs", "fstatfs", "statvfs", "fstatvfs", "getattrlist", "fgetattrlist",
        "getattrlistat"},
}
declared = {}
for entry in plist.get("NSPrivacyAccessedAPITypes", []):
    reasons = entry.get("NSPrivacyAccessedAPITypeReasons", [])
    if not reasons:
        sys.exit(f"apple-privacy-check: {entry.get('NSPrivacyAccessedAPIType')} declared without a reason")
    declared[entry["NSPrivacyAccessedAPIType"]] = reasons

for key in ("NSPrivacyTracking", "NSPrivacyCollectedDataTypes"):
    if key not in plist:
        sys.exit(f"apple-privacy-check: {manifest} has no {key}")
if plist["NSPrivacyTracking"] is not False:
    sys.exit("apple-privacy-check: NSPrivacyTracking must be false")
for d in plist["NSPrivacyCollectedDataTypes"]:
    if d.get("NSPrivacyCollectedDataTypeLinked") or d.get("NSPrivacyCollectedDataTypeTracking"):
        sys.exit(f"apple-privacy-check: {d['NSPrivacyCollectedDataType']} must be neither linked nor tracking")

used = {}
for line in open(undefined):
    obj, sym = line.rstrip("\n").split("\t")
    name = re.sub(r"\$.*$", "", sym[1:] if sym.startswith("_") else sym)
    for cat, names in categories.items():
        if name in names:
            used.setdefault(cat, set()).add(f"{name} ({obj.split('/')[-1]})")

missing = [c for c in used if c not in declared]
for c in missing:
    print(f"apple-privacy-check: {c} is used but not declared: {', '.join(sorted(used[c]))}",
          file=sys.stderr)
unused = [c for c in declared if c not in used]
for c in sorted(used):
    print(f"apple-privacy-check: {c} {declared.get(c, ['MISSING'])}: "
          f"{', '.join(sorted({u.split(' ')[0] for u in used[c]}))}")
for c in unused:
    print(f"apple-privacy-check: note: {c} declared, no symbol of it found")
sys.exit(1 if missing else 0)
EOF2
