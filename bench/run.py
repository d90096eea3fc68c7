"""The national-scale benchmark (issue 14): every measure beside a baseline run on the same machine.

    .venv/bin/python -m bench.run [--small] [--json] [--only intake,monitor,…] [--database-url URL]
    make bench                      # the full scale: 1,000,000 cases, 10,000 referrals, 5,000 emails

Each measure runs the project from outside (`drs …` or a `bench.children` step in a child
process started under `bench.measure`, which reads the child's peak RSS from the OS with
`getrusage(RUSAGE_CHILDREN)`), alternated with its baseline, median of `--repeat` rounds while a
project run is cheap (under 15 s; otherwise one round, and the row's note says so). `ratio` is the project's figure over the
baseline's (time over time; for rates, baseline rate over project rate): lower is better.

| measure | the project | its baseline |
|---|---|---|
| intake | `drs intake FILE --json`, a drop of 10,000 valid referrals (30 % near-identical forms) | Core bulk insert of the same rows into `cases` |
| intake-similar | the same, a drop of 1,000 forms about 10 children | same |
| monitor | `drs monitor` as a Prefect run (server below), 1,000,000 cases, 25 % open | the one indexed window query |
| monitor-direct | `drs monitor` with no server | same |
| recompute | `refresh_clocks` after a holiday-file change: every open case | `compute_clocks` alone over the same cases |
| report | `drs report monthly` for a ≈ 20,000-case month | xlsxwriter `constant_memory`, same cells |
| delivery, delivery:N | `drs mail deliver` of 5,000 (and 500) outbox emails to a loopback aiosmtpd | raw smtplib, one connection |
| delivery-rate-cap | messages a minute the server saw with `DRS_SMTP_RATE_PER_MINUTE` set | the cap |
| idle, idle:JOB | each scheduled job (`flows.deployments.SCHEDULED`) with nothing to do, as a Prefect run in a child process, after one unmeasured settling run; `idle` is the worst ratio | an empty `@flow` on the same server |
| sweep, engine | the persisted-clock query with its index; `compute_clocks` per case (`bench.classic`) | full scan; one working-day step |

`--small` is a tenth of the scale. Data sets are generated once per scale, seed and schema and
cached under `--work` (default `$TMPDIR/drs-bench`, never inside the repository); every measure
runs on a fresh copy. SQLite by default (the file `make run` uses); `--database-url` points at a
PostgreSQL server instead (copies are `CREATE DATABASE … TEMPLATE`). A real `prefect server
start` runs on a spare loopback port with its own `PREFECT_HOME` for the Prefect runs and is
stopped at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DRS = str(Path(PY).with_name("drs"))
RUN_DAY = "2026-12-01"
SEED_DEFAULT = 1
CHEAP_SECONDS = 15.0  # a project run shorter than this is repeated (median of --repeat)
MEASURES = ("intake", "monitor", "recompute", "report", "delivery", "delivery-workers", "idle", "classic")

GOALS = {
    "intake": "≥ 2,000/s, ≤ 3× baseline, RSS ≤ 300 MB",
    "intake-similar": "no slowdown with many similar forms (rate ≈ intake's)",
    "monitor": "≤ 5 s incl. Prefect (at 1M cases), ≤ 2× baseline + ≈ 1 s, RSS ≤ 300 MB",
    "monitor-direct": "≤ 2× baseline, RSS ≤ 300 MB",
    "recompute": "250,000 open cases ≤ 60 s (≤ 240 µs a case), RSS ≤ 500 MB",
    "report": "≤ 10 s (20,000-case month), ≤ 200 MB, ≤ 2× baseline",
    "delivery": "≥ 100 msg/s, ≤ 2× baseline",
    "delivery-rate-cap": "the cap honoured (ratio ≤ 1)",
    "idle": "≤ 1.2× for every scheduled job",
}


@dataclass
class Scale:
    """The workload sizes; `factor` 1.0 is the issue's table."""

    factor: float
    cases: int
    referrals: int
    emails: int
    emails_small: int
    repeat: int
    las: int = 150
    rate_cap_messages: int = 12
    rate_cap_per_minute: int = 600

    @classmethod
    def of(cls, factor: float, repeat: int) -> Scale:
        """The issue's sizes times `factor`; below 0.01 (tests) 5 LAs instead of 150 and no second
        delivery size, so that a tiny run takes seconds."""
        tiny = factor < 0.01
        return cls(
            factor=factor,
            cases=max(300, int(1_000_000 * factor)),
            referrals=max(10, int(10_000 * factor)),
            emails=max(10, int(5_000 * factor)),
            emails_small=0 if tiny else max(5, int(500 * factor)),
            repeat=repeat,
            las=5 if tiny else 150,
            rate_cap_messages=4 if tiny else 12,
        )


@dataclass
class Row:
    measure: str
    value: float
    unit: str
    baseline: float
    ratio: float
    rss_mb: float
    goal: str
    note: str = ""
    baseline_rss_mb: float = 0.0

    def as_json(self) -> dict:
        return {
            "measure": self.measure,
            "value": round(self.value, 4),
            "unit": self.unit,
            "baseline": round(self.baseline, 4),
            "ratio": round(self.ratio, 3),
            "rss_mb": round(self.rss_mb, 1),
            "goal": self.goal,
        }


def log(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


# --- child processes ---------------------------------------------------------------------------------


@dataclass
class Result:
    wall_s: float
    rss_mb: float
    returncode: int
    inner: dict = field(default_factory=dict)  # the child's `BENCH {...}` line, if any
    stdout: str = ""


def run_child(command: list[str], env: dict, cwd: Path, label: str) -> Result:
    """Run `command` under `bench.measure`; raise with the child's stderr tail when it fails."""
    fd, result_file = tempfile.mkstemp(suffix=".json", dir=cwd)
    os.close(fd)
    out, err = cwd / f"{label}.stdout", cwd / f"{label}.stderr"
    with out.open("w") as so, err.open("w") as se:
        subprocess.run(
            [PY, "-m", "bench.measure", result_file, "--", *command],
            env=env,
            cwd=cwd,
            stdout=so,
            stderr=se,
            check=False,
        )
    data = json.loads(Path(result_file).read_text())
    os.unlink(result_file)
    stdout = out.read_text()
    if data["returncode"] != 0:
        tail = "\n".join(err.read_text().splitlines()[-15:])
        raise RuntimeError(f"{label}: exit {data['returncode']}: {' '.join(command)}\n{tail}")
    inner = {}
    for line in stdout.splitlines():
        if line.startswith("BENCH "):
            inner = json.loads(line[6:])
    return Result(data["wall_s"], data["rss_mb"], data["returncode"], inner, stdout)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- the database: a cached data set and fresh copies ------------------------------------------------


def schema_key() -> str:
    """What a cached data set depends on: the generator and the clock engine. A new migration does
    not regenerate it: each use upgrades the cached set in place first (`Bench.upgraded`)."""
    digest = hashlib.sha256()
    for path in [
        ROOT / "bench/generate.py",
        ROOT / "models/domain/clocks.py",
        ROOT / "models/domain/rules.py",
    ]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


class Store:
    """Where data sets live: SQLite files under the work folder, or PostgreSQL databases."""

    def __init__(self, work: Path, database_url: str | None):
        self.work = work
        self.pg = database_url if database_url and not database_url.startswith("sqlite") else None
        self.copies: set[str] = set()

    def cleanup(self) -> None:
        """Drop this run's PostgreSQL copies (the cached data sets stay)."""
        if self.pg and self.copies:
            self._pg_admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in self.copies])

    def _pg_url(self, name: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.pg).set(database=name).render_as_string(hide_password=False)

    def _pg_admin(self, sql: list[str]) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self._pg_url("postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for statement in sql:
                conn.execute(text(statement))
        engine.dispose()

    def dataset_url(self, folder: Path, name: str) -> str:
        if self.pg:
            return self._pg_url(f"drs_bench_{name}")
        return f"sqlite:///{folder / 'drs.sqlite3'}"

    def reset(self, url: str) -> None:
        """An empty database at `url` (drop a PostgreSQL one and create it again)."""
        if self.pg:
            name = url.rsplit("/", 1)[-1]
            self._pg_admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'])

    def copy(self, source_url: str, home: Path) -> str:
        """A fresh copy of the data set at `source_url` for one run with `DRS_HOME=home`."""
        if self.pg:
            name = source_url.rsplit("/", 1)[-1]
            copy = f"drs_bench_run_{os.getpid()}"
            self.copies.add(copy)
            self._pg_admin(
                [f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)', f'CREATE DATABASE "{copy}" TEMPLATE "{name}"']
            )
            return self._pg_url(copy)
        source = Path(source_url.removeprefix("sqlite:///"))
        shutil.copyfile(source, home / "drs.sqlite3")
        # Flushed before the measured run: otherwise the run's first fsync (a commit's WAL checkpoint)
        # writes back the whole fresh copy, up to 3 GB, and the project is timed for the bench's copy
        # while a read-only baseline never pays it (notes/h20-monitor.md).
        with open(home / "drs.sqlite3", "rb") as copied:
            os.fsync(copied.fileno())
        return f"sqlite:///{home / 'drs.sqlite3'}"


class Bench:
    def __init__(self, args, scale: Scale):
        self.args = args
        self.scale = scale
        self.quiet = args.json
        self.work: Path = args.work
        self.store = Store(self.work, args.database_url)
        self.api_url: str | None = None
        self.rows: list[Row] = []
        self.server: subprocess.Popen | None = None
        self.runs = self.work / f"runs-{os.getpid()}"
        self.runs.mkdir(parents=True, exist_ok=True)
        self._n = 0

    # environment ------------------------------------------------------------------------------------
    def env(self, home: Path, url: str | None = None, prefect: bool = False, **extra: str) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DRS_", "PREFECT_"))}
        env.update(
            {
                "DRS_HOME": str(home),
                "PYTHONPATH": str(ROOT),
                "DRS_TIMEZONE": "Europe/London",
                "PREFECT_HOME": str(home / "prefect-client"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_LOGGING_LEVEL": "WARNING",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        if url and not url.startswith("sqlite"):
            env["DRS_DATABASE_URL"] = url
        if prefect:
            env["PREFECT_API_URL"] = self.api_url
        env.update(extra)
        return env

    def home(self, label: str) -> Path:
        self._n += 1
        path = self.runs / f"{self._n:03d}-{label}"
        path.mkdir(parents=True)
        return path

    # data sets --------------------------------------------------------------------------------------
    def dataset(self) -> tuple[str, Path, dict]:
        """The cached data set for this scale and seed (generated on first use): URL, folder, counts."""
        name = f"{self.scale.cases}-{self.scale.las}-{self.args.seed}-{schema_key()}"
        folder = self.work / f"data-{name}"
        url = self.store.dataset_url(folder, name.replace("-", "_"))
        done = folder / "counts.json"
        if done.exists() and not self.args.regenerate:
            self.upgraded(folder, url)
            return url, folder, json.loads(done.read_text())
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        self.store.reset(url)
        log(self.quiet, f"generating {self.scale.cases:,} cases (once; cached in {folder}) …")
        started = time.perf_counter()
        cmd = [
            PY,
            "-m",
            "bench.generate",
            "--cases",
            str(self.scale.cases),
            "--seed",
            str(self.args.seed),
            "--out",
            str(folder),
            "--referrals",
            str(self.scale.referrals),
            "--database-url",
            url,
            "--las",
            str(self.scale.las),
        ]
        if not self.quiet:
            cmd.append("--progress")
        subprocess.run(
            cmd,
            env=self.env(folder, url),
            cwd=folder,
            check=True,
            stdout=subprocess.DEVNULL if self.quiet else sys.stderr,
        )
        log(self.quiet, f"generated in {time.perf_counter() - started:.0f} s")
        return url, folder, json.loads(done.read_text())

    def upgraded(self, folder: Path, url: str) -> None:
        """The cached data set at `url` brought to the current schema (`drs db upgrade`: nothing to
        do when it is there already; new indexes are built once, not the data generated again)."""
        subprocess.run(
            [DRS, "db", "upgrade"],
            env=self.env(folder, url),
            cwd=folder,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL if self.quiet else sys.stderr,
        )

    def empty_dataset(self) -> str:
        """A migrated database with the LAs and nothing else (for the delivery and idle runs)."""
        name = f"empty-{self.scale.las}-{schema_key()}"
        folder = self.work / f"data-{name}"
        url = self.store.dataset_url(folder, name.replace("-", "_"))
        if (folder / "ready").exists() and not self.args.regenerate:
            self.upgraded(folder, url)
            return url
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.store.reset(url)
        code = "import sys; from bench.generate import generate_empty; generate_empty(sys.argv[1], int(sys.argv[2]))"
        subprocess.run([PY, "-c", code, url, str(self.scale.las)], env=self.env(folder, url), cwd=folder, check=True)
        (folder / "ready").write_text("")
        return url

    # the Prefect server -----------------------------------------------------------------------------
    def start_server(self) -> None:
        home = self.server_home = self.work / f"prefect-server-{os.getpid()}"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update(
            {
                "PREFECT_HOME": str(home),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_UI_ENABLED": "false",
                "PREFECT_LOGGING_LEVEL": "WARNING",
                "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "200",
                "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE": "200",
            }
        )
        log_file = (home / "server.log").open("w")
        self.server = subprocess.Popen(
            [str(Path(PY).with_name("prefect")), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=home,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.api_url = f"http://127.0.0.1:{port}/api"

    def wait_server(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError("prefect server exited; see its server.log under the work folder")
            try:
                with urllib.request.urlopen(self.api_url + "/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError("prefect server did not become healthy")

    def stop_server(self) -> None:
        if self.server is None:
            return
        if self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)  # its own session: the server and its workers
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        if not self.args.keep:
            shutil.rmtree(self.server_home, ignore_errors=True)

    # measures ---------------------------------------------------------------------------------------
    def rounds(self, project: list) -> Iterator[int]:
        """Alternated rounds (baseline, project): `--repeat` of them while a project run is cheap
        (under `CHEAP_SECONDS`), else one — the figure is then a single run, and says so."""
        k = 0
        while k < self.scale.repeat and (k == 0 or project[-1].wall_s < CHEAP_SECONDS):
            yield k
            k += 1

    def add(self, row: Row) -> None:
        self.rows.append(row)
        log(
            self.quiet,
            f"  {row.measure:22} {row.value:12,.3f} {row.unit:11} baseline {row.baseline:12,.3f}  "
            f"ratio {row.ratio:6.2f}  rss {row.rss_mb:6.0f} MB  {row.note}",
        )

    def measure_intake(self, url: str, folder: Path) -> None:
        for measure, stem in (("intake", "referrals"), ("intake-similar", "similar")):
            path = folder / f"{stem}.json"
            n = len(json.loads(path.read_text()))
            project, baseline = [], []
            for _k in self.rounds(project):
                home = self.home(f"{measure}-baseline")
                run_url = self.store.copy(url, home)
                r = run_child(
                    [PY, "-m", "bench.children", "baseline-intake", str(path)],
                    self.env(home, run_url),
                    home,
                    "baseline",
                )
                baseline.append(r)
                home = self.home(measure)
                run_url = self.store.copy(url, home)
                r = run_child(
                    [DRS, "intake", str(path), "--today", RUN_DAY, "--json"],
                    self.env(home, run_url),
                    home,
                    "drs-intake",
                )
                doc = json.loads(r.stdout)
                if doc["imported"] != n:
                    raise RuntimeError(f"{measure}: {doc['imported']} of {n} imported ({doc['rejected']} rejected)")
                project.append(r)
            p_rate = n / median([r.wall_s for r in project])
            b_rate = n / median([r.wall_s for r in baseline])
            self.add(
                Row(
                    measure,
                    p_rate,
                    "referrals/s",
                    b_rate,
                    b_rate / p_rate,
                    max(r.rss_mb for r in project),
                    GOALS[measure],
                    f"{n:,} referrals, {len(project)} run(s)",
                )
            )

    def measure_monitor(self, url: str, counts: dict) -> None:
        variants = [("monitor-direct", False), ("monitor", True)] if self.api_url else [("monitor", False)]
        for measure, prefect in variants:
            project, baseline = [], []
            for _ in self.rounds(project):
                home = self.home(f"{measure}-baseline")
                run_url = self.store.copy(url, home)
                baseline.append(
                    run_child(
                        [PY, "-m", "bench.children", "baseline-monitor", RUN_DAY],
                        self.env(home, run_url),
                        home,
                        "baseline",
                    )
                )
                home = self.home(measure)
                run_url = self.store.copy(url, home)
                r = run_child(
                    [DRS, "monitor", "--today", RUN_DAY, "--json"],
                    self.env(home, run_url, prefect=prefect),
                    home,
                    "drs-monitor",
                )
                doc = json.loads(r.stdout)
                if doc["cases_recomputed"]:
                    raise RuntimeError(
                        f"monitor recomputed {doc['cases_recomputed']} cases: the data set's meta is stale"
                    )
                project.append(r)
            p, b = median([r.wall_s for r in project]), median([r.wall_s for r in baseline])
            self.add(
                Row(
                    measure,
                    p,
                    "s",
                    b,
                    p / b,
                    max(r.rss_mb for r in project),
                    GOALS[measure],
                    ("" if prefect or measure != "monitor" else "direct (no Prefect server); ")
                    + f"{counts['cases']:,} cases, {counts['clocks']:,} clocks, {doc['digest_rows']:,} digest rows, "
                    f"{doc['emails_queued']:,} emails queued",
                )
            )

    def measure_recompute(self, url: str, counts: dict) -> None:
        project, baseline = [], []
        for _k in self.rounds(project):
            home = self.home("recompute")
            run_url = self.store.copy(url, home)
            # a proclaimed bank holiday is added: every open case must be recomputed
            (home / "extra-holidays.csv").write_text("date,name\n2026-12-29,Bench proclaimed holiday\n")
            baseline.append(
                run_child(
                    [PY, "-m", "bench.children", "baseline-recompute", RUN_DAY],
                    self.env(home, run_url),
                    home,
                    "baseline",
                )
            )
            project.append(
                run_child(
                    [PY, "-m", "bench.children", "recompute", RUN_DAY], self.env(home, run_url), home, "recompute"
                )
            )
        cases = project[0].inner["cases"]
        p, b = median([r.inner["seconds"] for r in project]), median([r.inner["seconds"] for r in baseline])
        self.add(
            Row(
                "recompute",
                p,
                "s",
                b,
                p / b,
                max(r.rss_mb for r in project),
                GOALS["recompute"],
                f"{cases:,} open cases ({p / max(cases, 1) * 1e6:,.0f} µs a case)",
            )
        )

    def report_month(self, url: str) -> tuple[str, int]:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as conn:
            n = conn.execute(
                text("SELECT count(*) FROM cases WHERE received_on >= '2026-10-01' AND received_on < '2026-11-01'")
            ).scalar()
        engine.dispose()
        return "2026-10", n

    def measure_report(self, url: str) -> None:
        month, n_cases = self.report_month(url)
        project, baseline = [], []
        for _k in self.rounds(project):
            home = self.home("report")
            run_url = self.store.copy(url, home)
            out = home / "workbooks"
            r = run_child(
                [DRS, "report", "monthly", "--month", month, "--out", str(out), "--today", RUN_DAY, "--json"],
                self.env(home, run_url),
                home,
                "drs-report",
            )
            project.append(r)
            baseline.append(
                run_child(
                    [PY, "-m", "bench.children", "baseline-report", str(out), str(home / "baseline")],
                    self.env(home, run_url),
                    home,
                    "baseline",
                )
            )
        p, b = median([r.wall_s for r in project]), median([r.inner["seconds"] for r in baseline])
        inner = baseline[0].inner
        self.add(
            Row(
                "report",
                p,
                "s",
                b,
                p / b,
                max(r.rss_mb for r in project),
                GOALS["report"],
                f"{month}: {n_cases:,} cases received, {inner['workbooks']} workbooks, {inner['cells']:,} cells",
            )
        )

    def measure_delivery(self, empty_url: str) -> None:
        from bench.smtp_sink import SmtpSink

        with SmtpSink() as sink:
            smtp_env = {"DRS_SMTP_HOST": "127.0.0.1", "DRS_SMTP_PORT": str(sink.port), "DRS_SMTP_SECURITY": "none"}
            sizes = [("delivery", self.scale.emails)]
            if self.scale.emails_small:
                sizes.append((f"delivery:{self.scale.emails_small}", self.scale.emails_small))
            for measure, n in sizes:
                project, baseline = [], []
                for _k in self.rounds(project):
                    for which in ("baseline", "project"):
                        home = self.home(f"{measure.replace(':', '-')}-{which}")
                        run_url = self.store.copy(empty_url, home)
                        self.queue_emails(run_url, home, n)
                        sink.clear()
                        if which == "baseline":
                            r = run_child(
                                [PY, "-m", "bench.children", "baseline-delivery", "127.0.0.1", str(sink.port)],
                                self.env(home, run_url),
                                home,
                                "baseline",
                            )
                            baseline.append(r)
                        else:
                            r = run_child(
                                [DRS, "mail", "deliver", "--json"],
                                self.env(home, run_url, **smtp_env),
                                home,
                                "drs-deliver",
                            )
                            if json.loads(r.stdout)["sent"] != n:
                                raise RuntimeError(f"{measure}: not every email was sent: {r.stdout[:300]}")
                            project.append(r)
                        if sink.count != n:
                            raise RuntimeError(f"{measure}: the server received {sink.count} of {n} ({which})")
                p_rate = n / median([r.wall_s for r in project])
                b_rate = n / median([r.wall_s for r in baseline])
                self.add(
                    Row(
                        measure,
                        p_rate,
                        "msg/s",
                        b_rate,
                        b_rate / p_rate,
                        max(r.rss_mb for r in project),
                        GOALS["delivery"],
                        f"{n:,} emails",
                    )
                )
            # the rate cap: the server's own arrival times
            n, cap = self.scale.rate_cap_messages, self.scale.rate_cap_per_minute
            home = self.home("delivery-rate-cap")
            run_url = self.store.copy(empty_url, home)
            self.queue_emails(run_url, home, n)
            sink.clear()
            r = run_child(
                [DRS, "mail", "deliver", "--json"],
                self.env(home, run_url, DRS_SMTP_RATE_PER_MINUTE=str(cap), **smtp_env),
                home,
                "drs-deliver",
            )
            times = sink.arrivals()
            seen = (len(times) - 1) / (times[-1] - times[0]) * 60 if len(times) > 1 and times[-1] > times[0] else 0.0
            self.add(
                Row(
                    "delivery-rate-cap",
                    seen,
                    "msg/min",
                    cap,
                    seen / cap,
                    r.rss_mb,
                    GOALS["delivery-rate-cap"],
                    f"{len(times)} of {n} emails arrived",
                )
            )

    def queue_emails(self, url: str, home: Path, n: int) -> None:
        from datetime import datetime

        from bench.generate import add_pending_emails

        add_pending_emails(url, n, now=datetime(2026, 12, 1, 10, tzinfo=UTC))

    def measure_idle(self, empty_url: str) -> None:
        sys.path.insert(0, str(ROOT))
        from flows.deployments import SCHEDULED

        jobs = {spec.name: (spec.entrypoint, dict(getattr(spec, "parameters", None) or {})) for spec in SCHEDULED}
        home = self.home("idle")
        run_url = self.store.copy(empty_url, home)
        env = self.env(home, run_url, prefect=True)
        # warm the server and the OS file cache once (not measured)
        run_child([PY, "-m", "bench.children", "empty-flow"], env, home, "warm")
        # each job once first, not measured: what it had to do is then done (e.g. last month's report)
        for name, (entry, params) in jobs.items():
            run_child([PY, "-m", "bench.children", "idle-flow", entry, json.dumps(params)], env, home, f"settle-{name}")
        baseline: list[Result] = []
        per_job: dict[str, list[Result]] = {name: [] for name in jobs}
        repeat = self.scale.repeat if self.scale.factor >= 1 else 1
        for _k in range(repeat):
            for name, (entry, params) in jobs.items():
                baseline.append(run_child([PY, "-m", "bench.children", "empty-flow"], env, home, "empty"))
                per_job[name].append(
                    run_child([PY, "-m", "bench.children", "idle-flow", entry, json.dumps(params)], env, home, name)
                )
        b = median([r.wall_s for r in baseline])
        worst = None
        rows = []
        for name, results in per_job.items():
            p = median([r.wall_s for r in results])
            row = Row(
                f"idle:{name}",
                p,
                "s",
                b,
                p / b,
                max(r.rss_mb for r in results),
                GOALS["idle"],
                f"{len(results)} run(s); baseline median of {len(baseline)}",
            )
            rows.append(row)
            if worst is None or row.ratio > worst.ratio:
                worst = row
        self.add(
            Row(
                "idle",
                worst.value,
                "s",
                b,
                worst.ratio,
                max(r.rss_mb for r in rows),
                GOALS["idle"],
                f"worst job: {worst.measure.split(':', 1)[1]}",
            )
        )
        for row in rows:
            self.add(row)

    def measure_classic(self) -> None:
        from bench.classic import bench_engine, bench_sweep

        sweep = bench_sweep(max(5_000, int(200_000 * self.scale.factor)), self.scale.repeat * 2 + 1)
        self.add(
            Row(
                "sweep",
                sweep["indexed_ms"],
                "ms",
                sweep["full_scan_ms"],
                sweep["ratio_indexed_vs_scan"],
                0.0,
                "indexed ≪ full scan",
                f"{sweep['clocks']:,} clocks, {sweep['rows_found']:,} due; baseline = the same query NOT INDEXED",
            )
        )
        engine = bench_engine(self.scale.repeat * 2 + 1)
        self.add(
            Row(
                "engine",
                engine["compute_clocks_us"],
                "µs",
                engine["add_working_days_us"],
                engine["ratio_engine_vs_one_wd_step"],
                0.0,
                "≤ 240 µs a case (recompute goal)",
                "compute_clocks for one case; baseline = one add_working_days",
            )
        )

    def measure(self, name: str, url: str, folder: Path, counts: dict, empty_url: str) -> None:
        if name == "intake":
            self.measure_intake(url, folder)
        elif name == "monitor":
            self.measure_monitor(url, counts)
        elif name == "recompute":
            self.measure_recompute(url, counts)
        elif name == "report":
            self.measure_report(url)
        elif name == "delivery":
            self.measure_delivery(empty_url)
        elif name == "delivery-workers":
            from bench.workers import measure_delivery_workers

            measure_delivery_workers(self, empty_url)
        elif name == "idle":
            self.measure_idle(empty_url)
        elif name == "classic":
            self.measure_classic()
        else:
            raise ValueError(f"unknown measure {name!r} (one of {', '.join(MEASURES)})")


def print_table(rows: list[Row], scale: Scale, machine: str) -> None:
    print(f"\ndrs-flows benchmark, scale {scale.factor:g} ({scale.cases:,} cases), {machine}")
    print(f"{'measure':24} {'value':>12} {'unit':12} {'baseline':>12} {'ratio':>7} {'RSS MB':>7}  goal / workload")
    for r in rows:
        print(
            f"{r.measure:24} {r.value:12,.3f} {r.unit:12} {r.baseline:12,.3f} {r.ratio:7.2f} {r.rss_mb:7.0f}  "
            f"{r.goal}\n{'':24} {r.note}"
        )


def machine() -> str:
    import platform

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}, load {load:.1f}"


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="a tenth of the scale (under 5 minutes on 2 idle cores)")
    parser.add_argument("--json", action="store_true", help="print one JSON list of rows on stdout, nothing else")
    parser.add_argument("--scale", type=float, default=None, help=argparse.SUPPRESS)  # tests: e.g. 0.001
    parser.add_argument("--only", default=",".join(MEASURES), help=f"comma-separated subset of {','.join(MEASURES)}")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cheap measure (median)")
    parser.add_argument("--seed", type=int, default=SEED_DEFAULT)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server URL (default: SQLite files)")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "drs-bench",
        help="cache and scratch folder (outside the repository)",
    )
    parser.add_argument("--no-prefect", action="store_true", help=argparse.SUPPRESS)  # tests: no server, no idle
    parser.add_argument("--save", type=Path, default=None, help="also write the JSON rows to this file")
    parser.add_argument("--regenerate", action="store_true", help="ignore cached data sets")
    parser.add_argument("--keep", action="store_true", help="keep this run's scratch copies")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    factor = args.scale if args.scale is not None else (0.1 if args.small else 1.0)
    scale = Scale.of(factor, args.repeat)
    args.work = args.work.resolve()
    if args.work == ROOT or ROOT in args.work.parents:
        raise SystemExit("bench: --work must be outside the repository")
    only = [m.strip() for m in args.only.split(",") if m.strip()]
    if args.no_prefect:
        only = [m for m in only if m not in ("idle", "delivery-workers")]
    bench = Bench(args, scale)
    started = time.perf_counter()
    failed: list[str] = []
    try:
        if {"monitor", "idle", "delivery-workers"} & set(only) and not args.no_prefect:
            bench.start_server()  # starts while the data set is made
        url, folder, counts = bench.dataset()
        log(
            bench.quiet,
            f"data set: {counts['cases']:,} cases ({counts['open_cases']:,} open), "
            f"{counts['clocks']:,} clocks, {counts['events']:,} events",
        )
        empty_url = bench.empty_dataset() if {"delivery", "delivery-workers", "idle"} & set(only) else ""
        if bench.server is not None:
            bench.wait_server()
        for name in only:
            log(bench.quiet, f"{name} …")
            try:
                bench.measure(name, url, folder, counts, empty_url)
            except Exception as exc:  # one broken measure must not hide the others' figures
                failed.append(name)
                log(False, f"bench: {name} failed: {exc}")
            finally:
                if not args.keep:  # each run's copy of the data set (≈ 3 GB at full scale) goes with its measure
                    for home in bench.runs.iterdir():
                        shutil.rmtree(home, ignore_errors=True)
    finally:
        bench.stop_server()
        if not args.keep:
            shutil.rmtree(bench.runs, ignore_errors=True)
            bench.store.cleanup()
    document = [r.as_json() for r in bench.rows]
    if args.save:
        args.save.write_text(json.dumps(document, indent=1))
    if args.json:
        print(json.dumps(document))
    else:
        print_table(bench.rows, scale, machine())
        print(f"\n{time.perf_counter() - started:.0f} s in all" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
