#!/usr/bin/env python3
"""Prints the size of each function's `cargo lambda build --output-format zip` artifact (bootstrap, zip).

usage: artifact_sizes.py <target>/lambda <binary>...   (exit 1 when an artifact is missing)
"""
import os
import sys
import zipfile

root, bins = sys.argv[1], sys.argv[2:]
print(f"{'function':<18} {'bootstrap':>12} {'zip':>12}")
missing = 0
for b in bins:
    z = os.path.join(root, b, "bootstrap.zip")
    if not os.path.exists(z):
        print(f"{b:<18} {'missing':>12}")
        missing += 1
        continue
    raw = sum(i.file_size for i in zipfile.ZipFile(z).infolist())
    print(f"{b:<18} {raw / 1e6:>10.2f}MB {os.path.getsize(z) / 1e6:>10.2f}MB")
sys.exit(1 if missing else 0)
