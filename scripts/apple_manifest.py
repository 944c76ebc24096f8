#!/usr/bin/env python3
"""Reads Package.swift well enough to check it (no Swift here): the targets,
their paths, sources, headers and resources, and the settings an App Store
build must not have. Standard library only.

Usage: apple_manifest.py ROOT APPLE_SOURCE_LIST_FILE
Prints one "target NAME PATH PUBLIC_HEADERS" line per target for the caller
and exits 1 after listing every problem found."""
import plistlib
import re
import sys

root, source_list = sys.argv[1], sys.argv[2]
text = open(f"{root}/Package.swift", encoding="utf-8").read()
problems = []


def strip_comments(s):
    return re.sub(r"//[^\n]*", "", s)


code = strip_comments(text)


def block(s, start):
    """The text of the balanced (...) or [...] starting at s[start]."""
    pairs = {"(": ")", "[": "]"}
    stack = []
    i = start
    in_str = False
    while i < len(s):
        c = s[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in pairs:
            stack.append(pairs[c])
        elif stack and c == stack[-1]:
            stack.pop()
            if not stack:
                return s[start : i + 1]
        i += 1
    raise SystemExit("Package.swift: unbalanced brackets")


def arg(body, name):
    """The value text of `name:` in a call's argument list (top level only)."""
    m = re.search(r"\b" + name + r"\s*:\s*", body)
    if not m:
        return None
    j = m.end()
    if body[j] in "([":
        return block(body, j)
    return re.match(r'"[^"]*"|[^,\n)]+', body[j:]).group(0).strip()


def strings(s):
    return re.findall(r'"((?:[^"\\]|\\.)*)"', s or "")


def exists(rel, what):
    import os

    if not os.path.exists(os.path.join(root, rel)):
        problems.append(f"{what}: {rel} does not exist")


first = text.splitlines()[0]
if first.replace(" ", "") != "//swift-tools-version:5.9":
    problems.append(f"first line must be '// swift-tools-version:5.9', is '{first}'")
for forbidden in ("unsafeFlags", "pkgConfig", "systemLibrary", "curl", "binaryTarget"):
    if forbidden in code:
        problems.append(f"Package.swift must not use {forbidden}")
if 'linkedLibrary("z")' not in code:
    problems.append('Package.swift must link zlib: .linkedLibrary("z")')
platforms = arg(block(code, code.index("Package(") + 7), "platforms") or ""
for p in (".iOS(.v13)", ".macOS(.v10_15)", ".tvOS(.v13)", ".watchOS(.v6)", ".visionOS(.v1)"):
    if p not in platforms.replace(" ", ""):
        problems.append(f"platforms must include {p}")

targets = []
for m in re.finditer(r"\.target\s*\(", code):
    body = block(code, m.end() - 1)
    name = strings(arg(body, "name"))[0]
    path = strings(arg(body, "path") or f'"Sources/{name}"')[0]
    targets.append((name, path, body))

products = re.findall(r"\.library\s*\(", code)
if len(products) != 1:
    problems.append(f"one library product expected, found {len(products)}")
product_targets = strings(arg(block(code, code.index(".library(") + 8), "targets"))
if sorted(product_targets) != sorted(t[0] for t in targets):
    problems.append(f"the product must bring every target: {product_targets}")

c_sources = None
for name, path, body in targets:
    exists(path, f"target {name} path")
    sources = strings(arg(body, "sources"))
    for s in sources:
        exists(f"{path}/{s}", f"target {name} source")
    for s in strings(arg(body, "exclude")):
        exists(f"{path}/{s}", f"target {name} exclude")
    public = strings(arg(body, "publicHeadersPath") or '"include"')[0]
    exists(f"{path}/{public}", f"target {name} publicHeadersPath")
    for h in re.findall(r'headerSearchPath\s*\(\s*"([^"]*)"', body):
        exists(f"{path}/{h}", f"target {name} headerSearchPath")
    for r in re.findall(r'\.(?:copy|process)\s*\(\s*"([^"]*)"', body):
        exists(f"{path}/{r}", f"target {name} resource")
        if r.endswith(".xcprivacy"):
            try:
                with open(f"{root}/{path}/{r}", "rb") as f:
                    plistlib.load(f)
            except Exception as e:  # noqa: BLE001 - any parse failure is the finding
                problems.append(f"{path}/{r} is not a property list: {e}")
    if all(s.endswith(".c") for s in sources) and sources:
        c_sources = [f"{path}/{s}".removeprefix("./") for s in sources]
    print(f"target {name} {path} {public}")

if not any(r.endswith("PrivacyInfo.xcprivacy") for r in re.findall(r'\.copy\s*\(\s*"([^"]*)"', code)):
    problems.append("no PrivacyInfo.xcprivacy resource")
want = [l.strip() for l in open(source_list) if l.strip()]
if c_sources is None:
    problems.append("no C target with an explicit sources list")
elif sorted(c_sources) != sorted(want):
    only_pkg = sorted(set(c_sources) - set(want))
    only_check = sorted(set(want) - set(c_sources))
    problems.append(
        f"C sources differ from darwin-check.sh --list-sources: only in Package.swift {only_pkg}, "
        f"only in darwin-check {only_check}"
    )

for p in problems:
    print(f"apple-manifest-check: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
