"""The benchmark command: the whole pipeline on generated data of a chosen scale.

    python tests/benchmark/run.py --scale france   # or a department (01) or a region (r84)

Runs in a temporary folder (or --out DIR), prints a table and saves it as benchmark.json there:
import rows/s (beside DuckDB reading the same files and doing nothing else: the import's floor on
the machine, and a gauge of its speed at that hour), statistics and JSON export, full render
pages/s, a no-change `doit`, a publish of the whole site, a new release in which 1,250 communes
get 15,420 new sales (end to end, which pages were re-rendered, its publish in place and on a
fresh runner), the size of the history branch and of the repository (packed, as a remote stores
it) and what the release adds, the restore of the store from git (a lost cache), the
actions/cache entry, peak memory, site size and number of files.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parent)]

import duckdb  # noqa: E402
from generate import generate, scope_departements  # noqa: E402

from rules import places, query  # noqa: E402
from rules.paths import ROOT  # noqa: E402

RELEASE = (1250, 15420)  # the seed's weekly figures: communes, new sales


# Runs a command and writes its peak RSS (KB, it and the processes it waited for) to argv[1]. A
# process forked from this one would count this one's memory (Linux records the memory a child
# inherited at fork when it execs), so doit is started from this small process instead.
MEASURE = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


class Bench:
    def __init__(self, out: Path, scale: str) -> None:
        self.out, self.scale = out, scale
        self.build, self.site, self.source = out / "build", out / "site", out / "source"
        self.peaks_mb: dict[str, int] = {}  # the largest RSS of each doit step (tree of processes)
        self.results: dict = {"scale": scale, "machine": machine()}

    def doit(self, *args: str, step: str = "", repo: Path | None = None) -> tuple[float, str]:
        """Run the real doit; return wall seconds and stdout; keep the step's peak RSS (`step`,
        else the task names): the build's own memory, not that of the benchmark's git gc or zstd."""
        codes = "all" if self.scale == "france" else ",".join(scope_departements(self.scale))
        scope = [f"departements={codes}"]
        cmd = [
            sys.executable,
            "-m",
            "doit",
            "-f",
            str(ROOT / "dodo.py"),
            "-v",
            "2",  # one line per task run: what the release's page count is read from
            *args,
            f"build_dir={self.build}",
            f"site_dir={self.site}",
            f"source={self.source}",
            f"repo={repo or self.out / 'repo'}",
            *scope,
        ]
        start = time.monotonic()
        with tempfile.NamedTemporaryFile("r") as peak:
            proc = subprocess.run(
                [sys.executable, "-c", MEASURE, peak.name, *cmd], cwd=ROOT, capture_output=True, text=True
            )
            seconds = time.monotonic() - start
            kb = int(peak.read() or 0)
        stdout, stderr = proc.stdout, proc.stderr
        name = step or " ".join(args) or "doit"
        self.peaks_mb[name] = max(self.peaks_mb.get(name, 0), round(kb / 1024))
        if proc.returncode != 0:
            raise SystemExit(f"doit {' '.join(args)} failed:\n{stdout[-2000:]}\n{stderr[-2000:]}")
        return seconds, stdout


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?")
    mem = next((int(ln.split()[1]) for ln in meminfo if ln.startswith("MemTotal")), 0)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem / 1024 / 1024, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def ingest_floor(files: list[Path]) -> float:
    """Seconds DuckDB takes, on this machine and at this hour, to read the source files into
    memory and do nothing else (each file into a table, every column as text, as the import reads
    a raw file): what no import can beat here, and a gauge of how fast the machine is running, to
    compare runs made at different hours."""
    seconds = 0.0
    con = query.connect(":memory:")  # as every connection of the project: no progress bar
    try:
        for file in files:
            start = time.monotonic()
            con.execute(
                "create or replace table floor as select * from read_csv(?, delim = '|', header = true, "
                "quote = '', escape = '', all_varchar = true)",
                [str(file)],
            )
            seconds += time.monotonic() - start
            con.execute("drop table floor")
    finally:
        con.close()
    return seconds


def executed(stdout: str) -> list[str]:
    return [ln[3:] for ln in stdout.splitlines() if ln.startswith(".  ")]


def expected_renders(codes: list[str]) -> set[str]:
    """The pages a release touching these communes must re-render: them, their aggregates, and
    the pages that state the DVF release (home, methodology)."""
    all_places = places.all_places()
    out = {"render:france-fr", "render:methodologie"}
    for code in codes:
        place = all_places["commune", code]
        out |= {
            f"render:{code}",
            f"render:departement-{place.departement}".lower(),
            f"render:region-{place.region}",
        }
        if place.parent:
            out.add(f"render:{place.parent}")
    return out


def _step_seconds(stdout: str) -> tuple[float, float]:
    """The import's and the statistics' own seconds, from the lines they print."""
    imported = sum(float(m.group(1)) for m in re.finditer(r"^imported .*, ([0-9.]+) s \(", stdout, re.M))
    stats = re.search(r"^stats: [0-9,]+ places in ([0-9.]+) s", stdout, re.M)
    return round(imported, 1), float(stats.group(1)) if stats else 0.0


def _packed_mb(repo: Path) -> float:
    """The repository as a remote stores it: every object packed."""
    subprocess.run(["git", "-C", str(repo), "gc", "-q", "--prune=now"], check=True)
    return round(sum(p.stat().st_size for p in (repo / ".git" / "objects" / "pack").glob("*.pack")) / 1e6, 1)


def _folder_mb(folder: Path, digits: int = 1) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6, digits)


def _compressed_mb(base: Path, folders: list[str], exclude: list[str]) -> float:
    """What actions/cache stores: a zstd tarball."""
    tar = subprocess.run(
        ["tar", "-C", str(base), *(f"--exclude={e}" for e in exclude), "-cf", "-", *folders],
        capture_output=True,
        check=True,
    ).stdout
    if shutil.which("zstd"):
        packed = subprocess.run(
            ["zstd", "-3", "-T0", "-c"], input=tar, capture_output=True, check=True
        ).stdout
    else:  # close enough where zstd is not installed
        packed = gzip.compress(tar, compresslevel=3)
    return round(len(packed) / 1e6, 1)


def run(out: Path, scale: str, years: int) -> dict:
    bench = Bench(out, scale)
    r = bench.results
    start = time.monotonic()
    rows = generate(bench.source, scale, years)
    r["generate_s"] = round(time.monotonic() - start, 1)
    r["rows"] = sum(v for k, v in rows.items() if k.endswith(".txt"))

    seconds = ingest_floor(sorted(bench.source.glob("ValeursFoncieres-*.txt")))
    # Two decimals: at a small scale the floor is a few hundredths of a second.
    r["ingest_floor_s"], r["ingest_floor_rows_per_s"] = round(seconds, 2), round(r["rows"] / seconds)
    seconds, _ = bench.doit("load")
    r["import_s"], r["import_rows_per_s"] = round(seconds, 1), round(r["rows"] / seconds)
    seconds, _ = bench.doit("stats")
    r["stats_s"] = round(seconds, 1)
    seconds, stdout = bench.doit(step="render")  # load and stats are up to date: pages, site files
    pages = sum(1 for t in executed(stdout) if t.startswith("render:"))
    r["render_s"], r["pages"], r["render_pages_per_s"] = round(seconds, 1), pages, round(pages / seconds)
    r["cold_build_s"] = round(r["import_s"] + r["stats_s"] + r["render_s"], 1)

    noop = []
    for _ in range(3 if scale == "france" else 1):  # the median of 3 where it is measured
        seconds, stdout = bench.doit(step="no-change doit")
        if stdout.strip():
            raise SystemExit(f"a no-change doit ran tasks:\n{stdout[:500]}")
        noop.append(seconds)
    r["noop_s"] = round(statistics.median(noop), 2)

    repo = out / "repo"
    repo.mkdir(exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    seconds, _ = bench.doit("history")  # the Parquet mirror publish commits, timed apart
    export_s = round(seconds, 1)
    seconds, _ = bench.doit("publish")
    r["publish_s"] = round(seconds, 1)
    r["git"] = {"after_first_version_mb": _packed_mb(repo), "history_mb": _folder_mb(bench.build / "history")}
    r["git"]["export_s"] = export_s
    r["git"]["history_partitions"] = len(list((bench.build / "history" / "rows").glob("*.parquet")))

    release = generate(bench.source, scale, 1, extra=RELEASE)  # the last year, republished with new sales
    seconds, stdout = bench.doit(step="release")
    ran = {t for t in executed(stdout) if t.startswith("render:")}
    wanted = expected_renders(release["extra_communes"])
    counts = json.loads((bench.build / "changes.json").read_text())["counts"]
    import_s, stats_s = _step_seconds(stdout)
    r["release"] = {
        "communes": len(release["extra_communes"]),
        "sales_added": RELEASE[1],
        "seconds": round(seconds, 1),
        "import_s": import_s,
        "stats_s": stats_s,
        "rest_s": round(seconds - import_s - stats_s, 1),  # render, site files, health; doit itself
        "places_recomputed": counts["recomputed"],
        "json_written": counts["written"],
        "pages_rerendered": len(ran),
        "pages_expected_at_most": len(wanted),
        "unexpected_pages": sorted(ran - wanted)[:10],
    }

    seconds, _ = bench.doit("history", step="history (release)")
    r["git"]["release_export_s"] = round(seconds, 1)
    # In place first: the fresh runner's clean-up deletes two copies of build/ and site/ (75,000
    # files), after which this machine's file system (ext4 without a journal) creates files slowly
    # for a minute or more: a publish timed right after took 7.7 s, 4.6 s 45 s later (2026-12-07).
    runner_cache = fresh_runner_cache(bench, repo)  # what the weekly job restores: before publish
    seconds, _ = bench.doit("publish", step="publish (release)")
    r["release"]["publish_s"] = round(seconds, 1)
    r["release"]["fresh_runner"] = fresh_runner_publish(bench, *runner_cache)
    r["git"]["after_release_mb"] = _packed_mb(repo)
    r["git"]["release_adds_mb"] = round(r["git"]["after_release_mb"] - r["git"]["after_first_version_mb"], 1)

    # A runner whose cache is gone: the store comes back from the history branch.
    (bench.build / "dvf.duckdb").rename(bench.build / "dvf.duckdb.kept")
    seconds, stdout = bench.doit("load", step="restore")
    if "history: restored" not in stdout:
        raise SystemExit(f"the store was not restored from git:\n{stdout[:500]}")
    r["git"]["restore_s"] = round(seconds, 1)
    r["cache_mb"] = _compressed_mb(out, ["build", "site"], exclude=["build/tmp", "build/dvf.duckdb.kept"])

    files = [p for p in bench.site.rglob("*") if p.is_file()]
    r["site_files"], r["site_mb"] = len(files), round(sum(p.stat().st_size for p in files) / 1e6, 1)
    r["peaks_mb"] = bench.peaks_mb
    r["peak_step"], r["peak_memory_mb"] = max(bench.peaks_mb.items(), key=lambda kv: kv[1])
    return r


def fresh_runner_cache(bench: Bench, repo: Path) -> tuple[Path, Path]:
    """What the weekly job finds when the release is to be published: a bare origin holding what
    is published, and build/ and site/ as its cache holds them, through tar as actions/cache
    archives them (`--posix`: restored with new inodes and ctimes, the same mtimes)."""
    out = bench.out
    origin, archive = out / "origin.git", out / "cache.tar"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(origin)], check=True, capture_output=True)
    subprocess.run(
        ["tar", "--posix", "-C", str(out), "--exclude=build/tmp", "-cf", str(archive), "build", "site"],
        check=True,
    )
    return origin, archive


def fresh_runner_publish(bench: Bench, origin: Path, archive: Path) -> dict:
    """The release's publish as the weekly job runs it: the cache restored (`fresh_runner_cache`),
    a fresh clone of the origin, `doit publish push=1`. Then the folder is put back as it was."""
    out = bench.out
    runner = out / "runner"
    subprocess.run(["git", "clone", "-q", str(origin), str(runner)], check=True, capture_output=True)
    before_mb = _folder_mb(origin / "objects", 3)
    for name in ("build", "site"):
        (out / name).rename(out / f"{name}.kept")
    try:
        subprocess.run(["tar", "--posix", "-C", str(out), "-xf", str(archive)], check=True)
        seconds, _ = bench.doit("publish", "push=1", step="publish (release, fresh runner)", repo=runner)
    finally:
        for name in ("build", "site"):
            shutil.rmtree(out / name, ignore_errors=True)
            (out / f"{name}.kept").rename(out / name)
        archive.unlink(missing_ok=True)
    pushed_mb = round(_folder_mb(origin / "objects", 3) - before_mb, 3)
    shutil.rmtree(runner)
    shutil.rmtree(origin)
    return {"seconds": round(seconds, 1), "pushed_mb": pushed_mb}


TABLE = [
    ("rows generated", "rows", "{:,}"),
    ("import", "import_rows_per_s", "{:,} rows/s"),
    (
        "DuckDB reading the files into memory, nothing else (the import's floor here)",
        "ingest_floor_rows_per_s",
        "{:,} rows/s",
    ),
    ("statistics + JSON export", "stats_s", "{} s"),
    ("full render", "render_pages_per_s", "{:,} pages/s"),
    ("cold build (import + stats + render)", "cold_build_s", "{} s"),
    ("no-change doit (median of 3)", "noop_s", "{} s"),
    ("publish the whole site (first version)", "publish_s", "{} s"),
    ("actions/cache entry (build/ and site/, zstd)", "cache_mb", "{:,} MB"),
    ("site size", "site_mb", "{} MB"),
    ("site files", "site_files", "{:,}"),
]


def report(r: dict) -> str:
    lines = [f"| measure ({r['scale']}) | value |", "| --- | --- |"]
    lines += [f"| {label} | {fmt.format(r[key])} |" for label, key, fmt in TABLE]
    rel = r["release"]
    label = f"release: {rel['communes']:,} communes get {rel['sales_added']:,} sales"
    value = (
        f"{rel['seconds']} s end to end, {rel['pages_rerendered']:,} pages re-rendered "
        f"(at most {rel['pages_expected_at_most']:,} expected)"
    )
    fresh = rel["fresh_runner"]
    lines.append(
        f"| {label} | {value}; publish {rel['publish_s']} s in place, {fresh['seconds']} s on a fresh "
        f"runner (cache restored through tar, fresh clone, push: {fresh['pushed_mb']} MB to the origin) |"
    )
    lines.append(
        f"| release, step by step | import {rel['import_s']} s, statistics {rel['stats_s']} s "
        f"({rel['places_recomputed']:,} places recomputed, {rel['json_written']:,} JSON files written), "
        f"render and the rest {rel['rest_s']} s, publish {rel['publish_s']} s |"
    )
    peaks = ", ".join(f"{step} {mb:,}" for step, mb in r["peaks_mb"].items())
    lines.append(
        f"| peak memory of a doit run | {r['peak_memory_mb']:,} MB ({r['peak_step']}); by step, MB: {peaks} |"
    )
    g = r["git"]
    lines.append(
        f"| git: history branch | {g['history_mb']} MB in {g['history_partitions']:,} partitions, written in "
        f"{g['export_s']} s ({g['release_export_s']} s for the release); restored in {g['restore_s']} s |"
    )
    lines.append(
        f"| git: repository (packed) | {g['after_first_version_mb']} MB after the first version, "
        f"+{g['release_adds_mb']} MB for the release |"
    )
    m = r["machine"]
    lines.append(
        f"\nMachine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, Python {m['python']}, "
        f"DuckDB {m['duckdb']}."
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description="ImmoStats benchmark on generated DVF data.")
    ap.add_argument("--scale", default="france", help="france, a department code (01) or r<region> (r84)")
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--out", type=Path, help="working folder (default: a temporary one, removed after)")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="immostats-bench-"))
    try:
        results = run(out, args.scale, args.years)
        saved = ROOT / "build" / f"benchmark-{args.scale}.json"
        saved.parent.mkdir(exist_ok=True)
        saved.write_text(json.dumps(results, indent=2))
        print(report(results))  # noqa: T201
        print(f"\nSaved: {saved}")  # noqa: T201
    finally:
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
