#!/usr/bin/env python3
"""weir against its peers, on a real corpus, side by side in one session.

    python3 bench/run.py            # everything: corpus, tools, runs, table
    python3 bench/run.py --runs 3   # fewer runs per tool

Prepares (once, cached under the git-ignored bench/corpus/):
- a virtualenv with pinned versions of ruff, Semgrep, flake8 and
  flake8-async, installed with pip from PyPI;
- the corpus: the wheels of pinned releases of Django, SQLAlchemy,
  apache-airflow-core, Prefect and Wagtail, downloaded with pip, their
  Python files extracted (about a million lines); for scaling, a second
  corpus of other projects about as large (mlflow, Dagster, Twisted), both
  together, and the first one twice.

Then builds weir (release) and runs, each several times (the first weir
run, a warm-up, brings the corpus into the page cache): weir with all
auditors (default threads, --threads 1, and on the scaling corpora), `ruff check --select ASYNC,PERF --no-cache`, Semgrep with
bench/semgrep-rules.yml (offline), and flake8 with flake8-async. Wall time
is the median; peak memory is the largest max RSS of the measured runs (as
`/usr/bin/time -v` reports it: of the largest single process). Writes
bench/out/results.md (and results.json) and prints the table.

Needs Python 3.9+, a Rust toolchain, and network access to PyPI for the
first run. Only the standard library is used here.
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CACHE = BENCH / "corpus"
OUT = BENCH / "out"
VENV = CACHE / "venv"
DOWNLOADS = CACHE / "downloads"
SRC = CACHE / "src"
DOUBLE = CACHE / "double"
SRC_B = CACHE / "src-b"
UNION = CACHE / "union"

TOOLS = ["ruff==0.17.6", "semgrep==1.185.0", "flake8==7.5.0", "flake8-async==26.8.1"]
CORPUS = [
    ("django", "5.2.19"),
    ("sqlalchemy", "2.0.58"),
    ("apache-airflow-core", "3.3.2"),
    ("prefect", "3.9.1"),
    ("wagtail", "8.0.1"),
]
# A second corpus of other projects, about as large, for scaling: a
# project twice as large is more code, not the same modules twice. (In the
# two-copies corpus every module name is defined twice, so imports and
# models resolve differently and weir does different work: some findings
# that need one definition of a name disappear.)
CORPUS_B = [
    ("mlflow", "3.18.0"),
    ("dagster", "1.13.29"),
    ("twisted", "26.10.0"),
]
# Wheels are chosen for this interpreter version, so the same files are
# picked whatever Python runs this script.
WHEEL_PYTHON = "3.12"
PYTHON_SUFFIXES = (".py", ".pyi")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


def venv_bin(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


# ---------------------------------------------------------------- set-up


def ensure_tools() -> None:
    marker = VENV / ".bench-tools"
    wanted = "\n".join(TOOLS)
    if marker.exists() and marker.read_text() == wanted:
        return
    log(f"installing {', '.join(TOOLS)} into {VENV.relative_to(REPO)}")
    if not venv_bin("python").exists():
        run([sys.executable, "-m", "venv", str(VENV)])
    run([str(venv_bin("python")), "-m", "pip", "install", "-q", "--upgrade", "pip"])
    run([str(venv_bin("python")), "-m", "pip", "install", "-q", *TOOLS])
    marker.write_text(wanted)


def extract_wheel(name: str, version: str, target: Path) -> None:
    """The Python files of the wheel of `name==version` into `target`
    (downloaded once into DOWNLOADS)."""
    marker = target / ".bench-version"
    if marker.exists() and marker.read_text() == version:
        return
    normalized = name.replace("-", "_").lower()

    def wheels() -> list[Path]:
        return [
            w
            for w in DOWNLOADS.glob("*.whl")
            if w.name.lower().startswith(f"{normalized}-{version}-")
        ]

    if not wheels():
        log(f"downloading {name}=={version}")
        run(
            [
                str(venv_bin("python")), "-m", "pip", "download", "-q",
                "--no-deps", "--only-binary=:all:",
                "--python-version", WHEEL_PYTHON,
                "--dest", str(DOWNLOADS), f"{name}=={version}",
            ]
        )
    found = wheels()
    if not found:
        sys.exit(f"no wheel of {name}=={version} in {DOWNLOADS}")
    log(f"extracting {found[0].name}")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with zipfile.ZipFile(found[0]) as archive:
        for member in archive.namelist():
            if member.endswith(PYTHON_SUFFIXES) and ".dist-info/" not in member:
                archive.extract(member, target)
    marker.write_text(version)


def ensure_copies(target: Path, sources: list[tuple[Path, str]], wanted: str) -> None:
    """`target` made of a copy of each source directory (under its name)."""
    marker = target / ".bench-corpus"
    if marker.exists() and marker.read_text() == wanted:
        return
    log(f"making {target.relative_to(REPO)}")
    shutil.rmtree(target, ignore_errors=True)
    for source, name in sources:
        shutil.copytree(source, target / name)
    marker.write_text(wanted)


def ensure_corpus() -> None:
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    for name, version in CORPUS:
        extract_wheel(name, version, SRC / name)
    for name, version in CORPUS_B:
        extract_wheel(name, version, SRC_B / name)
    pinned = "\n".join(f"{n}=={v}" for n, v in CORPUS)
    ensure_copies(DOUBLE, [(SRC, "a"), (SRC, "b")], pinned)
    both = [(SRC / n, n) for n, _ in CORPUS] + [(SRC_B / n, n) for n, _ in CORPUS_B]
    ensure_copies(UNION, both, "\n".join(f"{n}=={v}" for n, v in CORPUS + CORPUS_B))


def corpus_size(root: Path) -> tuple[int, int, int]:
    files = lines = size = 0
    for path in root.rglob("*"):
        if path.suffix in PYTHON_SUFFIXES and path.is_file():
            data = path.read_bytes()
            files += 1
            lines += data.count(b"\n")
            size += len(data)
    return files, lines, size


def build_weir() -> Path:
    log("building weir (release)")
    run(["cargo", "build", "--release", "--locked", "-q", "-p", "weir_cli"], cwd=REPO)
    meta = json.loads(
        run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps"],
            cwd=REPO,
            capture_output=True,
        ).stdout
    )
    exe = Path(meta["target_directory"]) / "release" / "weir"
    if not exe.exists():
        sys.exit(f"weir was not built at {exe}")
    return exe


# ---------------------------------------------------------------- measuring


# Seconds idle before a cold run (see `settle_memory`).
COLD_PAUSE = 6.0

# How much memory `settle_memory` touches: more than the largest run's
# peak (the doubled corpus, about 0.9 GiB).
SETTLE_MIB = 1536


def settle_memory(mib: int = SETTLE_MIB) -> None:
    """Touches and releases `mib` MiB of anonymous memory, in huge pages
    where the kernel gives them.

    On a virtual machine whose balloon device has free page reporting
    (virtio-balloon, feature bit 5), the guest hands freed 2 MiB blocks back
    to the host about two seconds after they are freed. The next process
    that touches them waits for the host to back them again, and that wait
    is billed as system time of that process. A run that starts right after
    another program released memory gets pages the host still backs. Measured
    here: the doubled corpus's system time was 0.37-0.6 s (and once 1.33 s)
    cold, and 0.13 s (twice the single corpus's 0.066 s) right after this.
    Each measured run of every tool starts right after it, so all start
    alike. The corpus and the doubled corpus are also measured cold: without it, after
    `COLD_PAUSE` seconds idle (freed memory is reported within about two
    seconds), as a first run after a pause on such a machine is.
    """
    if mib > 0 and hasattr(mmap, "MAP_ANONYMOUS"):
        # In a child process: Linux carries a process's peak resident size
        # over fork and exec, so touching the memory here would become the
        # peak memory of every tool measured after it.
        subprocess.run([sys.executable, __file__, "--settle-memory", str(mib)], check=True)


def touch_memory(mib: int) -> None:
    """The child's part of `settle_memory`."""
    block = mmap.mmap(-1, mib << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        if hasattr(mmap, "MADV_HUGEPAGE"):
            block.madvise(mmap.MADV_HUGEPAGE)
        for offset in range(0, len(block), 4096):
            block[offset] = 1
    finally:
        block.close()


def measure_once(
    cmd: list[str], stdout: Path, timeout: float, settle: bool = True
) -> tuple[float, int, float, float]:
    """Wall seconds, max RSS (KiB), user and system CPU seconds of one run,
    via wait4 like /usr/bin/time; unless `settle` is false, right after
    `settle_memory`."""
    if settle:
        settle_memory()
    env = dict(os.environ, SEMGREP_SEND_METRICS="off", NO_COLOR="1")
    with open(stdout, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise RuntimeError(f"timed out after {timeout:.0f} s: {' '.join(cmd)}")
            time.sleep(0.002)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {' '.join(cmd)}")
    return wall, usage.ru_maxrss, usage.ru_utime, usage.ru_stime


def measure(
    name: str,
    cmd: list[str],
    runs: int,
    timeout: float,
    warm_up: bool = False,
    before_each=None,
    settle: bool = True,
) -> dict:
    """`before_each(i)`, when given, runs untimed before the i-th measured run."""
    stdout = OUT / f"{name}.out"
    log(f"{name}: {'warm-up + ' if warm_up else ''}{runs} runs")
    if warm_up:
        measure_once(cmd, stdout, timeout)
    walls, rss, users, systems = [], [], [], []
    for i in range(runs):
        if before_each is not None:
            before_each(i)
        wall, peak, user, system = measure_once(cmd, stdout, timeout, settle)
        walls.append(wall)
        rss.append(peak)
        users.append(user)
        systems.append(system)
    return {
        "name": name,
        "cmd": cmd,
        "runs": runs,
        "walls": walls,
        "median": statistics.median(walls),
        # CPU time apart from wall: on a shared virtual machine the kernel's
        # share (first touches of fresh memory) swings from run to run while
        # the user time stays put, so ratios of user time are the steadier.
        "user": statistics.median(users),
        "system": statistics.median(systems),
        "peak_kib": max(rss),
        "stdout": str(stdout),
    }


def measure_alternating(runs: list[tuple[str, list[str]]], count: int, timeout: float) -> list[dict]:
    """Like `measure` for several commands whose times are compared with
    each other: each is warmed up, then their runs alternate (a, b, c, a,
    b, c, ...) so that a slow spell of the machine hits them alike rather
    than the one measured during it."""
    for name, cmd in runs:
        log(f"{name}: warm-up")
        measure_once(cmd, OUT / f"{name}.out", timeout)
    samples: dict[str, list[tuple[float, int, float, float]]] = {name: [] for name, _ in runs}
    log(f"{', '.join(name for name, _ in runs)}: {count} alternating runs each")
    for _ in range(count):
        for name, cmd in runs:
            samples[name].append(measure_once(cmd, OUT / f"{name}.out", timeout))
    return [
        {
            "name": name,
            "cmd": cmd,
            "runs": count,
            "walls": [s[0] for s in samples[name]],
            "median": statistics.median(s[0] for s in samples[name]),
            "user": statistics.median(s[2] for s in samples[name]),
            "system": statistics.median(s[3] for s in samples[name]),
            "peak_kib": max(s[1] for s in samples[name]),
            "stdout": str(OUT / f"{name}.out"),
        }
        for name, cmd in runs
    ]


def measure_peer(
    name: str, cmd: list[str], runs: int, timeout: float, warm_up: bool = False
) -> dict:
    """Like `measure`, but a peer that fails or times out is reported in
    the table instead of ending the benchmark."""
    try:
        return measure(name, cmd, runs, timeout, warm_up=warm_up)
    except RuntimeError as error:
        log(f"{name}: {error}")
        return {"name": name, "cmd": cmd, "runs": runs, "failed": str(error).split(":")[0]}


def count_findings(result: dict) -> tuple[int | None, int | None]:
    """(findings, files checked) from a tool's last output, where it says."""
    text = Path(result["stdout"]).read_text(errors="replace")
    name = result["name"]
    if name.startswith("weir"):
        data = json.loads(text)
        return len(data["findings"]), data["summary"]["files"]
    if name == "semgrep":
        data = json.loads(text)
        return len(data["results"]), len(data["paths"]["scanned"])
    lines = [line for line in text.splitlines() if line.strip()]
    if name == "ruff":
        found = sum(1 for line in lines if ": " in line and not line.startswith("Found "))
        return found, result.get("files")
    return len(lines), None


# ---------------------------------------------------------------- report


def fmt_rate(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f} M"
    if value >= 1e3:
        return f"{value / 1e3:.0f} k"
    return f"{value:.0f}"


def render(
    results: list[dict], size: tuple[int, int, int], size_b: tuple[int, int, int], info: dict
) -> str:
    files, lines, nbytes = size
    lines_b = size_b[1]
    by_name = {r["name"]: r for r in results}
    weir = by_name["weir"]
    measured = {n: r for n, r in by_name.items() if "failed" not in r}
    rows = [
        "| tool | files checked | findings | wall (median) | min – max | CPU user / system | files/s"
        " | lines/s | peak RSS | time vs weir | memory vs weir |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "weir": "weir audit (all auditors)",
        "ruff": "ruff check --select ASYNC,PERF",
        "semgrep": "semgrep (bench/semgrep-rules.yml)",
        "flake8": "flake8 + flake8-async",
    }
    for name in ("weir", "ruff", "semgrep", "flake8"):
        r = by_name.get(name)
        if r is None:
            continue
        if "failed" in r:
            rows.append(f"| {labels[name]} | — | — | {r['failed']} | — | — | — | — | — | — | — |")
            continue
        found, checked = count_findings(r)
        rows.append(
            f"| {labels[name]} | {checked if checked is not None else '—'} | {found}"
            f" | {r['median']:.2f} s | {min(r['walls']):.2f} – {max(r['walls']):.2f} s"
            f" | {r['user']:.2f} / {r['system']:.2f} s | {fmt_rate(files / r['median'])} | {fmt_rate(lines / r['median'])}"
            f" | {r['peak_kib'] / 1024:.0f} MiB | {r['median'] / weir['median']:.1f}×"
            f" | {r['peak_kib'] / weir['peak_kib']:.2f}× |"
        )
    scaling = [
        "| weir run | lines | wall (median) | lines/s | CPU user / system | peak RSS | wall vs default"
        " | user CPU vs default |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, label, n in (
        ("weir", "corpus, default threads", lines),
        ("weir-threads-1", "corpus, `--threads 1`", lines),
        ("weir-a", "corpus, alternating with the three runs below", lines),
        ("weir-b", "second corpus (other projects)", lines_b),
        ("weir-union", "both corpora together", lines + lines_b),
        ("weir-double", "corpus doubled (two copies)", 2 * lines),
        ("weir-cold", "corpus, cold (memory not settled, after a pause)", lines),
        ("weir-double-cold", "corpus doubled, cold (memory not settled, after a pause)", 2 * lines),
    ):
        r = by_name.get(name)
        if r is None:
            continue
        scaling.append(
            f"| {label} | {n:,} | {r['median']:.2f} s | {fmt_rate(n / r['median'])}"
            f" | {r['user']:.2f} / {r['system']:.2f} s | {r['peak_kib'] / 1024:.0f} MiB"
            f" | {r['median'] / weir['median']:.2f}× | {r['user'] / weir['user']:.2f}× |"
        )
    checks = []

    def check(ok: bool, text: str) -> None:
        checks.append(f"- {'PASS' if ok else 'FAIL'}: {text}")

    incremental = [
        "| run | wall (median) | peak RSS | vs weir cold |",
        "|---|---:|---:|---:|",
    ]
    for name, label in (
        ("weir", "weir, cold (no cache)"),
        ("weir-cache-unchanged", "weir `--cache`, nothing changed"),
        ("weir-cache-one-edit", "weir `--cache`, one file changed"),
        ("ruff", "ruff `--no-cache`"),
        ("ruff-cache-unchanged", "ruff with its cache, nothing changed"),
    ):
        r = measured.get(name)
        if r is None:
            continue
        incremental.append(
            f"| {label} | {r['median']:.2f} s | {r['peak_kib'] / 1024:.0f} MiB"
            f" | {r['median'] / weir['median']:.2f}× |"
        )
    check(weir["median"] < 2.0, f"whole corpus under 2 s ({weir['median']:.2f} s)")
    check(weir["peak_kib"] < 1024 * 1024, f"peak memory under 1 GiB ({weir['peak_kib'] / 1024:.0f} MiB)")
    if "ruff" in measured:
        check(
            weir["median"] <= by_name["ruff"]["median"],
            f"at least as fast as ruff ({by_name['ruff']['median'] / weir['median']:.2f}× ruff/weir)",
        )
    if "semgrep" in measured:
        check(
            by_name["semgrep"]["median"] >= 20 * weir["median"],
            f"at least 20× faster than Semgrep ({by_name['semgrep']['median'] / weir['median']:.0f}×)",
        )
    # Scaling is judged on the runs that alternated with each other.
    first = by_name.get("weir-a", weir)
    if "weir-union" in by_name and "weir-b" in by_name:
        union, second = by_name["weir-union"], by_name["weir-b"]
        ratio = union["median"] / (first["median"] + second["median"])
        user_ratio = union["user"] / (first["user"] + second["user"])
        check(
            ratio <= 1.0,
            f"both corpora together take at most the sum of their times ({ratio:.2f}× the sum"
            f" of the walls, {user_ratio:.2f}× of the user CPU; {(lines + lines_b) / lines:.2f}× the lines"
            f" in {union['median'] / first['median']:.2f}× the time)",
        )
    if "weir-double" in by_name:
        ratio = by_name["weir-double"]["median"] / first["median"]
        user_ratio = by_name["weir-double"]["user"] / first["user"]
        cold = by_name.get("weir-double-cold")
        cold_base = by_name.get("weir-cold")
        cold_text = (
            f"; cold, after a pause: {cold['median'] / cold_base['median']:.2f}× wall"
            if cold and cold_base
            else ""
        )
        check(
            ratio <= 2.0,
            f"the corpus twice (two copies) takes at most twice the time ({ratio:.2f}× wall;"
            f" {user_ratio:.2f}× user CPU{cold_text})",
        )
    corpus = ", ".join(f"{n} {v}" for n, v in CORPUS)
    corpus_b = ", ".join(f"{n} {v}" for n, v in CORPUS_B)
    slow = by_name["semgrep"]["runs"] if "semgrep" in by_name else "—"
    commands = "\n".join(f"    {' '.join(map(str, r['cmd']))}" for r in results)
    return f"""# weir benchmark

{info['date']} · {info['cpu']} · {info['cores']} cores · {info['memory']} · {info['os']}

Load average (1 min): {info['load_before']:.1f} before the runs, {info['load_after']:.1f} after
(other work on the machine slows every tool; compare ratios measured in one session).

Corpus: the wheels of {corpus} — {files:,} Python files, {lines:,} lines,
{nbytes / 2**20:.0f} MiB. For scaling, a second corpus of other projects
about as large ({corpus_b} — {size_b[0]:,} files, {lines_b:,} lines), both
together, and the first one twice (two copies). Every tool runs on the same directory; weir with
`--include-tests` so that it audits every file, as the linters do. Wall
time is the median of {weir['runs']} runs ({slow} for Semgrep and flake8), the corpus
already in the page cache and memory settled before each run (see
`settle_memory` in bench/run.py: on this kind of virtual machine freshly
freed memory goes back to the host, and the next touch of it is slow); peak memory
is the largest max RSS of those runs (of the largest single process, as
`/usr/bin/time -v` reports it). CPU user / system are the medians of the
same runs' rusage: on a shared virtual machine the system share (the kernel
zeroing fresh memory) swings from run to run while the user time holds, so
the user-CPU ratios are the steadier comparison. "Findings" counts what each tool reported;
the tools do not check the same things (weir's checks follow queries,
commits and sessions; ruff's ASYNC and PERF rules are single-statement
lints; the Semgrep rules are loop/async patterns without types).

{chr(10).join(rows)}

Scaling:

{chr(10).join(scaling)}

Incremental mode (`--cache`): only parsing and lowering are cached; the
cross-file analysis runs in full every time (an edit in one file can change
findings in another), so a cached run reports the same findings. ruff
caches each file's lint result, which a single-file linter can.

{chr(10).join(incremental)}

Targets:

{chr(10).join(checks)}

Versions: weir {info['weir']}, {', '.join(TOOLS)}.

Commands:

{commands}
"""


def edited_file(root: Path) -> Path:
    """The file the one-edit run changes: the first ORM module of the
    corpus, a file other modules import (so the edit is not a leaf)."""
    preferred = sorted(root.glob("*/sqlalchemy/orm/session.py"))
    return preferred[0] if preferred else sorted(root.rglob("*.py"))[0]


def machine_info(weir: Path) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 2**20:.0f} GiB"
                break
    except OSError:
        pass
    version = run([str(weir), "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%d"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "os": platform.platform(terse=True),
        "weir": version.removeprefix("weir "),
    }


def main() -> None:
    if sys.argv[1:2] == ["--settle-memory"]:
        touch_memory(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs per tool (default 5)")
    parser.add_argument(
        "--slow-runs",
        type=int,
        default=1,
        help="measured runs of the slow tools, Semgrep and flake8 (default 1: minutes each)",
    )
    parser.add_argument("--no-peers", action="store_true", help="only weir")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    ensure_tools()
    ensure_corpus()
    weir = build_weir()
    size = corpus_size(SRC)
    size_b = corpus_size(SRC_B)
    load_before = os.getloadavg()[0]
    log(f"corpus: {size[0]:,} files, {size[1]:,} lines")

    def weir_cmd(root: Path, *extra: str) -> list[str]:
        return [
            str(weir), "audit", str(root), "--include-tests", "--format", "json",
            "--fail-on", "never", "--date", "2026-01-01", *extra,
        ]

    results = [
        # The first run also brings the corpus into the page cache.
        measure("weir", weir_cmd(SRC), args.runs, 120, warm_up=True),
    ]
    # The scaling runs are compared with each other, so they alternate;
    # the corpus is measured again among them.
    results += measure_alternating(
        [
            ("weir-a", weir_cmd(SRC)),
            ("weir-b", weir_cmd(SRC_B)),
            ("weir-union", weir_cmd(UNION)),
            ("weir-double", weir_cmd(DOUBLE)),
        ],
        args.runs,
        240,
    )
    results += [
        measure("weir-threads-1", weir_cmd(SRC, "--threads", "1"), args.runs, 120),
        measure(
            "weir-cold",
            weir_cmd(SRC),
            args.runs,
            120,
            before_each=lambda i: time.sleep(COLD_PAUSE),
            settle=False,
        ),
        measure(
            "weir-double-cold",
            weir_cmd(DOUBLE),
            args.runs,
            240,
            before_each=lambda i: time.sleep(COLD_PAUSE),
            settle=False,
        ),
    ]
    # Incremental mode: the warm-up fills the cache; then nothing changes,
    # or one file changes before each run (restored afterwards).
    weir_cache = OUT / "weir-cache"
    shutil.rmtree(weir_cache, ignore_errors=True)
    cached = weir_cmd(SRC, "--cache-dir", str(weir_cache))
    results.append(measure("weir-cache-unchanged", cached, args.runs, 120, warm_up=True))
    edited = edited_file(SRC)
    original = edited.read_bytes()
    try:
        results.append(
            measure(
                "weir-cache-one-edit",
                cached,
                args.runs,
                120,
                before_each=lambda i: edited.write_bytes(original + f"# bench edit {i}\n".encode()),
            )
        )
    finally:
        edited.write_bytes(original)
    if not args.no_peers:
        results += [
            measure_peer(
                "ruff",
                [
                    str(venv_bin("ruff")), "check", "--isolated", "--no-cache",
                    "--select", "ASYNC,PERF", "--exit-zero", "--output-format", "concise",
                    str(SRC),
                ],
                args.runs,
                300,
            ),
            measure_peer(
                "ruff-cache-unchanged",
                [
                    str(venv_bin("ruff")), "check", "--isolated",
                    "--cache-dir", str(OUT / "ruff-cache"),
                    "--select", "ASYNC,PERF", "--exit-zero", "--output-format", "concise",
                    str(SRC),
                ],
                args.runs,
                300,
                warm_up=True,
            ),
            measure_peer(
                "semgrep",
                [
                    str(venv_bin("semgrep")), "scan", "--config",
                    str(BENCH / "semgrep-rules.yml"), "--metrics=off",
                    "--disable-version-check", "--no-git-ignore", "--json", "--quiet",
                    str(SRC),
                ],
                args.slow_runs,
                1800,
            ),
            measure_peer(
                "flake8",
                [
                    str(venv_bin("flake8")), "--isolated", "--select", "ASYNC",
                    "--exit-zero", str(SRC),
                ],
                args.slow_runs,
                1200,
            ),
        ]
    for result in results:
        if result["name"] == "ruff" and "failed" not in result:
            shown = run(
                [*result["cmd"][:-1], "--show-files", result["cmd"][-1]],
                capture_output=True,
                text=True,
            ).stdout
            result["files"] = sum(1 for line in shown.splitlines() if line.strip())
    info = machine_info(weir)
    info["load_before"] = load_before
    info["load_after"] = os.getloadavg()[0]
    report = render(results, size, size_b, info)
    (OUT / "results.md").write_text(report)
    (OUT / "results.json").write_text(
        json.dumps({"corpus": dict(zip(("files", "lines", "bytes"), size)), "results": results}, indent=2)
    )
    print(report)


if __name__ == "__main__":
    main()
