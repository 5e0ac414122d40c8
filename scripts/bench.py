#!/usr/bin/env python3
"""Whole-process benchmarks of tracecat-chart, side by side with its peers.

Installs nothing. Uses the release binary ($TRACECAT_CHART_BIN; `make bench`
builds it and sets it; target/release/tracecat-chart otherwise)
and, when present, the peers from ../shared/tools/get-peers.sh ($TRACECAT_PEERS
or ~/.local/peers): helm4 for `helm template`, kubectl for `kubectl kustomize`.
For Helm, point $TRACECAT_PUBLIC_CHART at the public Go-template chart (its
folder or .tgz); ../shared/reference/public-chart/tracecat is used when present. Without it, Helm renders a stand-in: a chart whose one
template is our own output for the same values, escaped so Go templates print
it verbatim. Helm then does the least work it could for those objects (no
values to merge, no template logic), so its figures are a lower bound on what
it needs for the real chart, and the ratio understates ours.

Each scenario runs $BENCH_RUNS times (default 20) after a warm-up (the
quickstart render and its floor five times as many, at least 101, in turns;
the VirtualService renders three times as many, at least 61, in turns); the table
shows the median wall time, the spread (min-max), peak memory (max RSS, from
GNU time when installed) and the ratio peer/ours. Nothing here is an assertion: these are figures to read.
"""

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.environ.get("TRACECAT_CHART_BIN") or os.path.join(ROOT, "target", "release", "tracecat-chart")
PEERS = os.environ.get("TRACECAT_PEERS") or os.path.expanduser("~/.local/peers")
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
QUICKSTART = os.path.join(ROOT, "values", "examples", "quickstart.yaml")
KUSTOMIZE_LIMIT = int(os.environ.get("BENCH_KUSTOMIZE_LIMIT", "60"))


def peer(name):
    p = os.path.join(PEERS, name)
    return p if os.access(p, os.X_OK) else None


class TimedOut(Exception):
    pass


# CPU seconds (user + system) of the last process run_once ran.
LAST_CPU = [0.0]


def run_once(cmd, stdin_path=None, limit=None):
    """Wall seconds of one process, stdout discarded (its CPU seconds go to
    LAST_CPU). Raises TimedOut when it runs longer than `limit` seconds."""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    timer = threading.Timer(limit, p.kill) if limit else None
    if timer:
        timer.start()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    LAST_CPU[0] = usage.ru_utime + usage.ru_stime
    if timer:
        timer.cancel()
        if wall >= limit:
            p.stderr.close()
            raise TimedOut()
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if stdin_path:
        stdin.close()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {err.strip()[:300]}")
    return wall


def peak_rss_mib(cmd, stdin_path=None):
    """Peak RSS of the command itself, from GNU time (the rusage of a child
    forked by this Python process would count Python's own pages); None
    without /usr/bin/time."""
    if not os.access("/usr/bin/time", os.X_OK):
        return None
    with tempfile.NamedTemporaryFile("r") as out:
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, *cmd], stdin=stdin,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        if stdin_path:
            stdin.close()
        return int(out.read().split()[-1]) / 1024


def summary(cmd, walls, stdin_path=None):
    return {
        "median": statistics.median(walls),
        "min": min(walls),
        "max": max(walls),
        "rss_mib": peak_rss_mib(cmd, stdin_path),
    }


def measure(cmd, stdin_path=None, runs=None, limit=None, before=None):
    """Median, spread and peak RSS over `runs` runs after one untimed
    warm-up; with `limit`, a run past it stops the measurement (returns
    {"timeout": limit}). `before` runs ahead of every run, untimed (to empty
    a cache, say)."""
    def once():
        if before:
            before()
        return run_once(cmd, stdin_path, limit)
    try:
        once()
        walls = [once() for _ in range(runs or RUNS)]
    except TimedOut:
        return {"timeout": limit}
    if before:
        before()
    return summary(cmd, walls, stdin_path)


def measure_in_turns(cmds, runs=None):
    """measure() for commands whose ratio is the point (a render and its
    floor): run in turns, a, b, a, b, ..., after a warm-up of each, so that
    both see the same phases of a shared machine."""
    for cmd in cmds:
        run_once(cmd)
    walls = [[] for _ in cmds]
    cpus = [[] for _ in cmds]
    for _ in range(runs or RUNS):
        for w, c, cmd in zip(walls, cpus, cmds):
            w.append(run_once(cmd))
            c.append(LAST_CPU[0])
    return [dict(summary(cmd, w), cpu=statistics.median(c)) for cmd, w, c in zip(cmds, walls, cpus)]


def fmt(m):
    if m is None:
        return "n/a", "", ""
    if "timeout" in m:
        return f"> {m['timeout']} s", "", ""
    rss = "n/a" if m["rss_mib"] is None else f"{m['rss_mib']:6.1f} MiB"
    return (f"{m['median'] * 1000:8.1f} ms", f"{m['min'] * 1000:.1f}-{m['max'] * 1000:.1f}", rss)


ROWS = []


def row(name, ours, peer_name=None, theirs=None, note=""):
    ROWS.append((name, ours, peer_name, theirs, note))


def render_output(args, path):
    with open(path, "wb") as f:
        subprocess.run([OURS, *args], stdout=f, check=True)
    # Objects, not documents: a template whose output is empty still
    # prints a `# Source` document, as Helm does.
    with open(path, "rb") as f:
        docs = f.read().split(b"\n---\n")
    return sum(any(l.strip() not in (b"", b"---") and not l.startswith(b"#") for l in d.splitlines())
               for d in docs)


def static_chart(tmp, rendered):
    """A Helm chart that renders exactly `rendered`: its text as the only
    template, with Go template delimiters written as string constants."""
    chart = os.path.join(tmp, "static-chart")
    os.makedirs(os.path.join(chart, "templates"))
    with open(os.path.join(chart, "Chart.yaml"), "w") as f:
        f.write("apiVersion: v2\nname: tracecat\nversion: 0.1.0\n")
    with open(rendered) as f:
        text = f.read()
    escaped = re.sub(r"\{\{|\}\}", lambda m: '{{ "%s" }}' % m.group(0), text)
    with open(os.path.join(chart, "templates", "all.yaml"), "w") as f:
        f.write(escaped)
    return chart


def installed_copy(binary, tmp):
    """A copy of `binary` as `cp` or `install` would put it in place. The
    file the linker just wrote sits in the page cache in small pieces, so a
    run maps its code in smaller steps than from any installed copy: the
    same bytes ran 10-18% slower in place (more page faults) on the
    development machine. Measuring a copy measures the binary users run."""
    copy = os.path.join(tmp, os.path.basename(binary))
    shutil.copyfile(binary, copy)
    os.chmod(copy, 0o755)
    return copy


def main():
    global OURS
    if not os.access(OURS, os.X_OK):
        sys.exit(f"{OURS} not found: run `make build` (or `make bench`)")
    helm, kubectl = peer("helm4"), peer("kubectl")
    public_chart = os.environ.get("TRACECAT_PUBLIC_CHART")
    reference = os.path.join(ROOT, "..", "shared", "reference", "public-chart", "tracecat")
    if not public_chart and os.path.isdir(reference):
        public_chart = reference
    tmp = tempfile.mkdtemp(prefix="tcc-bench-")
    OURS = installed_copy(OURS, tmp)

    # 1. The full chart with Temporal bundled, against Helm and the floor.
    out = os.path.join(tmp, "quickstart.out.yaml")
    objects = render_output(["template", "-f", QUICKSTART], out)
    # The ratio to the floor is a target: more runs than the other rows (each
    # pair takes a few milliseconds), so that one slow phase moves it less.
    ours, floor = measure_in_turns([[OURS, "template", "-f", QUICKSTART], ["cat", out]],
                                   runs=max(RUNS * 5, 101))
    theirs, peer_name = None, "helm4 template"
    if helm and public_chart:
        theirs = measure([helm, "template", "tracecat", public_chart, "-f", QUICKSTART])
    elif helm:
        theirs = measure([helm, "template", "tracecat", static_chart(tmp, out)])
        peer_name = "helm4 template, static stand-in (lower bound)"
    row(f"render quickstart ({objects} objects)", ours, peer_name, theirs,
        "" if theirs else "helm4 not installed")
    row("  floor: cat of the same bytes (run in turns)", floor,
        note=f"render = {ours['median'] / floor['median']:.2f}x the floor")

    # 2. Cost per object: 10, 100 and 1,000 VirtualServices. The marginal cost
    # (time added per object added) is what must stay flat. The three run in
    # turns, three times as often as other rows: the first step adds under a
    # millisecond to a run of a few, less than a phase of the machine moves it.
    cmds, counts = [], []
    for n in (10, 100, 1000):
        values = os.path.join(tmp, f"vs-{n}.yaml")
        with open(values, "w") as f:
            f.write("virtualService:\n  enabled: true\n  tracecat:\n    configs:\n")
            for i in range(n):
                f.write(f"      - name: vs-{i}\n        hosts: [h{i}.example.com]\n"
                        f"        gateways: [istio-system/gw]\n")
        args = ["template", "-f", QUICKSTART, "-f", values]
        counts.append(render_output(args, os.path.join(tmp, f"vs-{n}.out")))
        cmds.append([OURS, *args])
    prev = None
    for n, count, m in zip((10, 100, 1000), counts, measure_in_turns(cmds, runs=max(RUNS * 3, 61))):
        note = ""
        if prev:
            # Wall time, and CPU time: one template renders all the configs,
            # on one thread, so a larger step shows more of its cost in wall
            # time than a small one, which the other thread's work overlaps.
            added = count - prev[1]
            marginal = (m["median"] - prev[0]["median"]) / added
            cpu = (m["cpu"] - prev[0]["cpu"]) / added
            note = f"+{marginal * 1e6:.0f} us per added object (CPU +{cpu * 1e6:.0f} us)"
        row(f"render with {n} VirtualServices ({count} objects, in turns)", m, note=note)
        prev = (m, count)

    # 3. post-render of a 10,000-object stream vs kubectl kustomize, same label.
    stream = os.path.join(tmp, "stream.yaml")
    with open(stream, "w") as f:
        for i in range(10000):
            f.write(f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\n"
                    f"spec:\n  selector: {{matchLabels: {{app: d{i}}}}}\n  template:\n"
                    f"    metadata: {{labels: {{app: d{i}}}}}\n    spec:\n      containers:\n"
                    f"        - {{name: c, image: ghcr.io/org/img:{i}}}\n")
    overlay = os.path.join(tmp, "overlay.yaml")
    with open(overlay, "w") as f:
        f.write("postRender:\n  commonLabels: {team: secops}\n")
    ours = measure([OURS, "post-render", "-f", overlay], stdin_path=stream)
    theirs = None
    if kubectl:
        kdir = os.path.join(tmp, "kustomize")
        os.mkdir(kdir)
        os.link(stream, os.path.join(kdir, "stream.yaml"))
        with open(os.path.join(kdir, "kustomization.yaml"), "w") as f:
            f.write("resources: [stream.yaml]\nlabels:\n  - pairs: {team: secops}\n"
                    "    includeTemplates: true\n")
        # kustomize takes minutes on this stream: few runs, bounded.
        theirs = measure([kubectl, "kustomize", kdir], runs=3, limit=KUSTOMIZE_LIMIT)
    row("post-render 10,000 objects", ours, "kubectl kustomize", theirs)

    # 4. pull from a local registry (CNCF distribution), cold and warm cache.
    registry = shutil.which("docker-registry")
    if registry:
        bench_pull(tmp, registry, helm)
    else:
        row("pull from a local registry", None, note="docker-registry not installed")

    print(f"tracecat-chart benchmarks: median of {RUNS} runs (spread min-max), peak RSS\n")
    head = ("scenario", "ours", "spread", "peak", "peer", "peer median", "peer peak", "peer/ours")
    lines = [head]
    for name, o, pname, t, note in ROWS:
        om, osp, orss = fmt(o)
        tm, _, trss = fmt(t)
        if t and "timeout" in t:
            ratio = f"> {t['timeout'] / o['median']:.0f}x"
        else:
            ratio = f"{t['median'] / o['median']:.1f}x" if t else ""
        lines.append((name, om, osp, orss, pname or "", tm if pname else "", trss, ratio or note))
        if t and note:
            lines.append(("", "", "", "", "", "", "", note))
    widths = [max(len(r[i]) for r in lines) for i in range(len(head))]
    for r in lines:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_pull(tmp, registry, helm):
    port = free_port()
    cfg = os.path.join(tmp, "registry.yml")
    with open(cfg, "w") as f:
        f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                f"    rootdirectory: {tmp}/registry\nhttp:\n  addr: 127.0.0.1:{port}\n")
    server = subprocess.Popen([registry, "serve", cfg], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        env = dict(os.environ, HOME=tmp, TRACECAT_CHART_CACHE=os.path.join(tmp, "cache"))
        pkg = os.path.join(tmp, "pkg")
        os.mkdir(pkg)
        out = subprocess.run([OURS, "package", "-d", pkg], env=env, check=True,
                             capture_output=True, text=True).stdout
        archive = [w for w in out.split() if w.endswith(".tgz")][-1]
        version = os.path.basename(archive)[len("tracecat-"):-len(".tgz")]
        ref = f"oci://127.0.0.1:{port}/charts"
        subprocess.run([OURS, "push", archive, ref, "--plain-http"], env=env, check=True,
                       capture_output=True)
        dest = os.path.join(tmp, "pulled")
        chart = f"{ref}/tracecat"

        def clean_dest():
            shutil.rmtree(dest, ignore_errors=True)
            os.mkdir(dest)

        def cold():
            clean_dest()
            shutil.rmtree(env["TRACECAT_CHART_CACHE"], ignore_errors=True)

        pull = [OURS, "pull", chart, "--version", version, "--plain-http", "-d", dest]
        os.environ["TRACECAT_CHART_CACHE"] = env["TRACECAT_CHART_CACHE"]
        ours_cold = measure(pull, before=cold)
        theirs = None
        if helm:
            theirs = measure([helm, "pull", chart, "--version", version, "--plain-http",
                              "-d", dest], before=clean_dest)
        row("pull, cold cache", ours_cold, "helm4 pull", theirs)
        ours_warm = measure(pull, before=clean_dest)
        # Warm means no network at all: stop the registry and pull again.
        server.terminate()
        server.wait()
        clean_dest()
        offline = subprocess.run(pull, capture_output=True)
        row("pull, warm cache", ours_warm, "helm4 pull", theirs,
            "registry stopped: warm pull still succeeds" if offline.returncode == 0
            else "registry stopped: warm pull FAILED")
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
