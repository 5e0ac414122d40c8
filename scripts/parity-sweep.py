#!/usr/bin/env python3
"""Key-by-key parity sweep against real Helm.

Where parity-fuzz.py (../shared/tools) changes a few random keys per case, this
changes one key of the public chart's defaults per case, every key in turn, to
each value of a set, over the golden cases given as bases, and judges each case
as parity-fuzz.py judges it (its functions are imported from there):

  agree     Helm and tracecat-chart render the same objects, or both refuse
  stricter  only tracecat-chart refuses, and its message names the values schema
            or Helm's render has objects the API server would reject; with
            --kubeconfig, only where a real API server (../shared/kube) rejects
            Helm's render in a server-side dry run
  differ / refused / accepted / bad-error   a parity failure

Sets (--set): retype (another type: true, 0, 3, 2.5, "1", "", [], {}, null, "on"),
strings (odd strings, for string defaults), numbers (for numeric defaults),
reshape (a list or map given in the other shape, with content).

Usage:
  scripts/parity-sweep.py --set retype --out sweep.jsonl [--kubeconfig FILE] BASE.yaml ...

Needs helm4 from ../shared/tools/get-peers.sh and target/release/tracecat-chart
(or $TRACECAT_CHART_BIN). Each line of --out is one case as JSON; a summary and
every failure are printed at the end. Exit 0 only when no case fails.
"""
import argparse
import collections
import concurrent.futures as cf
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
spec = importlib.util.spec_from_file_location(
    "parity_fuzz", os.path.join(SHARED, "tools", "parity-fuzz.py"))
pf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pf)

CHART = os.path.join(SHARED, "reference", "public-chart", "tracecat")
OVERLAY = os.path.join(SHARED, "reference", "goldens", "overlay.yaml")
HELM = os.path.expanduser("~/.local/peers/helm4")
KUBECTL = os.path.expanduser("~/.local/peers/kubectl")
OURS = os.environ.get("TRACECAT_CHART_BIN", os.path.join(ROOT, "target", "release", "tracecat-chart"))

SETS = {
    "retype": (lambda v: True, [True, 0, 3, 2.5, "1", "", [], {}, None, "on"]),
    "strings": (lambda v: isinstance(v, str),
                ["", "a b", "{a}", "[x]", "x: y", "#x", "- x", "'q'", '"q"', "multi\nline",
                 "ümlaut", "yes", "~", "1e3", "0x10", "@x", "%x", "*x", "&x", "!x"]),
    "numbers": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                [0, -1, 0.5, 65536, 1e6]),
    # A collection in the other shape, with content: a list's first item
    # under a key, a map's values as a list; and a list of two strings.
    "reshape": (lambda v: isinstance(v, (list, dict)),
                lambda v: ([{"a": v[0] if v else "x"}] if isinstance(v, list)
                           else [list(v.values()) or ["x"]]) + [["p", "q"]]),
}


def server_accepts(kubeconfig, manifests):
    """Whether the API server takes `manifests` in a server-side dry run."""
    r = subprocess.run([KUBECTL, "--kubeconfig", kubeconfig, "apply", "--server-side",
                        "--dry-run=server", "-n", "tracecat", "-f", "-"],
                       input=manifests, capture_output=True)
    return r.returncode == 0


def case(job):
    base, path, value, kubeconfig = job
    work = tempfile.mkdtemp(prefix="sweep-")
    try:
        mutation = {}
        pf.set_path(mutation, path, value)
        m = os.path.join(work, "mutation.yaml")
        with open(m, "w") as f:
            yaml.safe_dump(mutation, f, sort_keys=False)
        q = shlex.quote
        hc, ho, he = pf.run(f"{q(HELM)} template tracecat {q(CHART)} -n tracecat "
                            f"-f {q(OVERLAY)} -f {q(base)} -f {q(m)}")
        oc, oo, oe = pf.run(f"{q(OURS)} template tracecat -n tracecat -f {q(base)} -f {q(m)}")
    finally:
        shutil.rmtree(work)
    verdict, detail = "agree", ""
    if hc == 0 and oc == 0:
        same, report = pf.compare(ho, oo)
        if not same:
            verdict, detail = "differ", report
    elif hc == 0:
        schema = b"schema" in oe
        if kubeconfig:
            verdict = "refused" if server_accepts(kubeconfig, ho) else "stricter"
        else:
            verdict = "stricter" if schema or not pf.valid(ho) else "refused"
        detail = oe.decode(errors="replace")
    elif oc == 0:
        verdict, detail = "accepted", he.decode(errors="replace")
    elif not oe.strip() or b"panicked" in oe:
        verdict, detail = "bad-error", oe.decode(errors="replace")
    return {"base": os.path.basename(os.path.dirname(base)), "path": ".".join(map(str, path)),
            "value": value, "verdict": verdict, "detail": detail[:2000]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", choices=sorted(SETS), default="retype")
    ap.add_argument("--out", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--kubeconfig", help="judge refusals by this API server (namespace tracecat)")
    ap.add_argument("bases", nargs="+")
    args = ap.parse_args()
    wanted, values = SETS[args.set]
    nodes = [(p, v) for p, v in pf.paths(pf.load_defaults(CHART)) if wanted(v)]
    if args.kubeconfig:
        subprocess.run([KUBECTL, "--kubeconfig", args.kubeconfig, "create", "namespace", "tracecat"],
                       capture_output=True)
    def values_for(default):
        return values(default) if callable(values) else values
    jobs = [(os.path.abspath(b), p, v, args.kubeconfig)
            for b in args.bases for p, d in nodes for v in values_for(d)]
    print(f"{len(nodes)} keys, {len(jobs)} cases", flush=True)
    counts, failures = collections.Counter(), []
    with open(args.out, "w") as out, cf.ProcessPoolExecutor(args.jobs) as ex:
        for r in ex.map(case, jobs, chunksize=4):
            out.write(json.dumps(r) + "\n")
            counts[r["verdict"]] += 1
            if r["verdict"] not in ("agree", "stricter"):
                failures.append(r)
    for r in failures:
        print(f"{r['verdict']}: {r['base']}: {r['path']} = {json.dumps(r['value'])}\n"
              f"  {r['detail'][:400]}")
    agree = counts["agree"] + counts["stricter"]
    print(f"sweep: {agree}/{len(jobs)} cases agree ({counts['stricter']} stricter)")
    sys.exit(0 if not failures else 1)


if __name__ == "__main__":
    main()
