#!/usr/bin/env python3
"""Render deploy/k8s/rules-configmap.yaml from rules/default.yaml.

The ConfigMap carries the rules file byte for byte, so the cluster runs the
rules the tests ran. Run it after every change to rules/default.yaml:

    python deploy/k8s/render_rules_configmap.py          # rewrite the file
    python deploy/k8s/render_rules_configmap.py --check  # exit 1 if out of date

tests/test_deploy_files.py fails while the two are out of sync.
Standard library only (no PyYAML needed): the file is embedded as a literal
block scalar, which keeps it readable in `kubectl get cm -o yaml`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules" / "default.yaml"
OUT = Path(__file__).resolve().parent / "rules-configmap.yaml"

HEADER = """\
# GENERATED from rules/default.yaml by deploy/k8s/render_rules_configmap.py.
# Do not edit: change rules/default.yaml and re-run the script.
# Mounted as a directory (no subPath) at /etc/heartline/rules, so an applied
# change reaches running pods in place and the workers reload it.
apiVersion: v1
kind: ConfigMap
metadata:
  name: heartline-rules
  namespace: heartline
  labels:
    app.kubernetes.io/name: heartline
    app.kubernetes.io/component: rules
    app.kubernetes.io/part-of: heartline
data:
  default.yaml: |
"""


def render(rules_text: str) -> str:
    if not rules_text.strip():
        raise ValueError("rules file is empty")
    lines = rules_text.split("\n")
    if lines[0][:1] in (" ", "\t"):
        # A literal block's indentation is taken from its first line.
        raise ValueError("rules file must not start with an indented line")
    # Chomping indicator: keep exactly the trailing newlines the file has.
    if not rules_text.endswith("\n"):
        chomp = "-"
    elif rules_text.endswith("\n\n"):
        chomp = "+"
    else:
        chomp = ""
    if rules_text.endswith("\n"):
        lines = lines[:-1]
    body = "".join(("    " + line if line else "") + "\n" for line in lines)
    return HEADER.replace("default.yaml: |\n", f"default.yaml: |{chomp}\n") + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the ConfigMap is out of date")
    parser.add_argument("--rules", type=Path, default=RULES)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    text = render(args.rules.read_text(encoding="utf-8"))
    current = args.out.read_text(encoding="utf-8") if args.out.exists() else None
    if args.check:
        if current != text:
            print(f"{args.out} is out of date: run python deploy/k8s/render_rules_configmap.py", file=sys.stderr)
            return 1
        return 0
    if current != text:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
