"""Run a GitHub Actions job from its YAML, on this machine, the way a fresh runner would.

The steps are the workflow's own: `run:` scripts are run by bash as the runner runs them, with
`${{ }}` expressions evaluated, step outputs read from $GITHUB_OUTPUT, and `if:` conditions
honoured (with the implicit `success()`). The actions we cannot run are stood in for by what they
do: `actions/checkout` is a full `git clone` of the origin (refs/remotes/origin/* and the default
branch, as `fetch-depth: 0` leaves them), `actions/setup-python` is a no-op, and
`actions/cache/restore|save` copy folders in and out of a `Cache` the test owns (hit, miss,
restore-keys by prefix, newest first, `!` exclusions, keys immutable). The one `run:` step
replaced is the install, which would download every package: its `.venv` is the project's own.
"""

from __future__ import annotations

import hashlib
import operator
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class Cache:
    """actions/cache's store: entries by key, restored by exact key or by prefix, newest first."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.keys: list[str] = []

    def clear(self) -> None:
        """What GitHub does after 7 days without use, or beyond 10 GB."""
        shutil.rmtree(self.root, ignore_errors=True)
        self.keys.clear()

    def save(self, workspace: Path, paths: list[str], key: str) -> str:
        if key in self.keys:
            return f"cache entry {key} exists; not saved"
        entry = self.root / hashlib.sha256(key.encode()).hexdigest()[:16]
        keep = [p for p in paths if not p.startswith("!")]
        drop = {p[1:].rstrip("/") for p in paths if p.startswith("!")}
        for path in keep:
            source = workspace / path
            if source.exists():
                shutil.copytree(source, entry / path, symlinks=True, ignore=_excluding(workspace, drop))
        self.keys.append(key)
        return f"saved {key}"

    def restore(self, workspace: Path, key: str, restore_keys: list[str]) -> str | None:
        """The key restored (None: a miss)."""
        found = key if key in self.keys else None
        for prefix in restore_keys:
            if found is None:
                found = next((k for k in reversed(self.keys) if k.startswith(prefix)), None)
        if found is None:
            return None
        entry = self.root / hashlib.sha256(found.encode()).hexdigest()[:16]
        if entry.exists():
            shutil.copytree(entry, workspace, symlinks=True, dirs_exist_ok=True)
        return found


def _excluding(workspace: Path, drop: set[str]) -> Callable[[str, list[str]], list[str]]:
    def ignore(folder: str, names: list[str]) -> list[str]:
        base = Path(folder).relative_to(workspace).as_posix()
        return [n for n in names if (f"{base}/{n}" if base != "." else n) in drop]

    return ignore


@dataclass
class Step:
    name: str
    outcome: str  # success | failure | skipped
    outputs: dict[str, str] = field(default_factory=dict)
    log: str = ""
    seconds: float = 0.0


@dataclass
class Runner:
    """One run of one job on a fresh workspace."""

    workflow: Path
    workspace: Path
    origin: Path
    cache: Cache
    venv: Path
    machine_env: dict[str, str]
    vars: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    run_id: int = 1
    run_attempt: int = 1
    repository: str = "immostats/site"
    steps: dict[str, Step] = field(default_factory=dict)
    ran: list[Step] = field(default_factory=list)

    def run_job(self, job: str) -> str:
        spec = yaml.safe_load(self.workflow.read_text())
        definition = spec["jobs"][job]
        self.workspace.mkdir(parents=True)
        self.files = self.workspace.parent / f"_runner_{self.run_id}"
        self.files.mkdir()
        failed = False
        for i, raw in enumerate(definition["steps"]):
            step_id = raw.get("id", f"step{i}")
            name = raw.get("name") or raw.get("uses") or raw.get("run", "").splitlines()[0]
            condition = str(raw.get("if", "success()"))
            if not self._eval_condition(condition, failed):
                step = Step(name, "skipped")
            else:
                env = {
                    **{k: self._interpolate(str(v), failed) for k, v in spec.get("env", {}).items()},
                    **{k: self._interpolate(str(v), failed) for k, v in definition.get("env", {}).items()},
                    **{k: self._interpolate(str(v), failed) for k, v in raw.get("env", {}).items()},
                }
                started = time.monotonic()
                step = self._run_step(raw, name, env, failed, definition.get("timeout-minutes", 360))
                step.seconds = time.monotonic() - started
            failed = failed or step.outcome == "failure"
            self.steps[step_id] = step
            self.ran.append(step)
        return "failure" if failed else "success"

    def log(self, name: str) -> str:
        return next(s.log for s in self.ran if s.name == name)

    def outcome(self, name: str) -> str:
        return next(s.outcome for s in self.ran if s.name == name)

    # -- steps -------------------------------------------------------------------------------

    def _run_step(self, raw: dict, name: str, env: dict[str, str], failed: bool, minutes: int) -> Step:
        uses = raw.get("uses", "")
        with_ = {k: self._interpolate(str(v), failed) for k, v in (raw.get("with") or {}).items()}
        if uses.startswith("actions/checkout@"):
            assert with_.get("fetch-depth") == "0", "the versions are read from every branch"
            proc = subprocess.run(
                ["git", "clone", "-q", str(self.origin), str(self.workspace)], capture_output=True, text=True
            )
            return Step(name, "success" if proc.returncode == 0 else "failure", log=proc.stderr)
        if uses.startswith("actions/setup-python@"):
            return Step(name, "success")
        if uses.startswith("actions/cache/restore@"):
            paths = [p for p in with_["path"].splitlines() if p.strip()]
            assert paths, "cache paths"
            restore_keys = [k for k in with_.get("restore-keys", "").splitlines() if k.strip()]
            hit = self.cache.restore(self.workspace, with_["key"], restore_keys)
            return Step(
                name, "success", {"cache-hit": str(hit == with_["key"]).lower()}, log=f"restored {hit}"
            )
        if uses.startswith("actions/cache/save@"):
            paths = [p.strip() for p in with_["path"].splitlines() if p.strip()]
            return Step(name, "success", log=self.cache.save(self.workspace, paths, with_["key"]))
        if uses:
            raise AssertionError(f"no stand-in for {uses}")
        script = self._interpolate(raw["run"], failed)
        if name == "Install":
            assert "pip install -c constraints.txt -e ." in script, "the install changed: update the stand-in"
            (self.workspace / ".venv").symlink_to(self.venv)
            return Step(name, "success")
        return self._bash(name, script, env, minutes)

    def _bash(self, name: str, script: str, env: dict[str, str], minutes: int) -> Step:
        out_file = self.files / f"output-{len(self.ran)}"
        summary = self.files / "summary"
        out_file.write_text("")
        full_env = {
            **self.machine_env,
            **env,
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(out_file),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_RUN_ID": str(self.run_id),
            "GITHUB_RUN_ATTEMPT": str(self.run_attempt),
            "GITHUB_WORKSPACE": str(self.workspace),
        }
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=self.workspace,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=minutes * 60,
        )
        return Step(
            name,
            "success" if proc.returncode == 0 else "failure",
            _read_outputs(out_file.read_text()),
            log=proc.stdout + proc.stderr,
        )

    # -- expressions -------------------------------------------------------------------------

    def _contexts(self, failed: bool) -> dict[str, Any]:
        return {
            "steps": {
                k: {"outcome": s.outcome, "conclusion": s.outcome, "outputs": s.outputs}
                for k, s in self.steps.items()
            },
            "inputs": self.inputs,
            "vars": self.vars,
            "secrets": self.secrets,
            "github": {
                "run_id": str(self.run_id),
                "run_attempt": str(self.run_attempt),
                "repository": self.repository,
                "workspace": str(self.workspace),
            },
            "job": {"status": "failure" if failed else "success"},
            "runner": {"os": "Linux", "temp": str(self.workspace.parent)},
        }

    def _functions(self, failed: bool) -> dict[str, Callable[..., Any]]:
        def hash_files(*patterns: str) -> str:
            files = sorted({p for pattern in patterns for p in self.workspace.glob(pattern) if p.is_file()})
            if not files:
                return ""
            h = hashlib.sha256()
            for f in files:
                h.update(hashlib.sha256(f.read_bytes()).digest())
            return h.hexdigest()

        return {
            "always": lambda: True,
            "success": lambda: not failed,
            "failure": lambda: failed,
            "cancelled": lambda: False,
            "hashfiles": hash_files,
            "contains": lambda a, b: str(b).lower() in (str(a).lower() if not isinstance(a, list) else a),
            "startswith": lambda a, b: str(a).lower().startswith(str(b).lower()),
            "endswith": lambda a, b: str(a).lower().endswith(str(b).lower()),
        }

    def _eval_condition(self, condition: str, failed: bool) -> bool:
        text = condition.strip()
        if text.startswith("${{") and text.endswith("}}"):
            text = text[3:-2].strip()
        if not re.search(r"\b(always|success|failure|cancelled)\s*\(", text):
            text = f"success() && ({text})"
        return _truthy(Expression(text, self._contexts(failed), self._functions(failed)).value())

    def _interpolate(self, text: str, failed: bool) -> str:
        def one(m: re.Match[str]) -> str:
            return _to_string(Expression(m.group(1), self._contexts(failed), self._functions(failed)).value())

        return re.sub(r"\$\{\{(.*?)\}\}", one, text, flags=re.S)


def _read_outputs(text: str) -> dict[str, str]:
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            outputs[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            outputs[key] = value
    return outputs


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", -0.0) and value == value


def _to_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_TOKEN = re.compile(
    r"\s*(?:(\|\||&&|==|!=|<=|>=|[!<>()\[\].,])|('(?:[^']|'')*')|(-?\d+(?:\.\d+)?)|([A-Za-z_][\w-]*))"
)


class Expression:
    """GitHub's expression language, the part workflows use: literals, contexts, functions,
    ! && || and comparisons (strings compare case-insensitively, as GitHub does)."""

    def __init__(self, text: str, contexts: dict[str, Any], functions: dict[str, Callable[..., Any]]) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise ValueError(f"cannot parse {text[pos:]!r}")
            pos = m.end()
            op, string, number, name = m.groups()
            if op:
                self.tokens.append(("op", op))
            elif string is not None:
                self.tokens.append(("str", string[1:-1].replace("''", "'")))
            elif number is not None:
                self.tokens.append(("num", number))
            elif name:
                self.tokens.append(("name", name))
        self.i = 0
        self.contexts, self.functions = contexts, functions

    def value(self) -> Any:
        out = self._or()
        if self.i != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.i]}")
        return out

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _take(self, op: str) -> bool:
        if self._peek() == ("op", op):
            self.i += 1
            return True
        return False

    def _or(self) -> Any:
        left = self._and()
        while self._take("||"):
            right = self._and()
            left = left if _truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._not()
        while self._take("&&"):
            right = self._not()
            left = right if _truthy(left) else left
        return left

    def _not(self) -> Any:
        if self._take("!"):
            return not _truthy(self._not())
        return self._compare()

    def _compare(self) -> Any:
        left = self._primary()
        for op, compare in _COMPARISONS.items():
            if self._take(op):
                return compare(_comparable(left), _comparable(self._primary()))
        return left

    def _primary(self) -> Any:
        token = self._peek()
        if token is None:
            raise ValueError("unexpected end")
        self.i += 1
        kind, text = token
        if kind == "op" and text == "(":
            inner = self._or()
            assert self._take(")")
            return inner
        if kind == "str":
            return text
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind == "name":
            if text in ("true", "false"):
                return text == "true"
            if text == "null":
                return None
            if self._take("("):
                args = []
                while not self._take(")"):
                    args.append(self._or())
                    self._take(",")
                return self.functions[text.lower()](*args)
            value: Any = self.contexts.get(text)
            while True:
                if self._take("."):
                    _, prop = self.tokens[self.i]
                    self.i += 1
                    value = value.get(prop) if isinstance(value, dict) else None
                elif self._take("["):
                    key = self._or()
                    assert self._take("]")
                    value = value.get(key) if isinstance(value, dict) else None
                else:
                    return value
        raise ValueError(f"unexpected {token}")


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if value is None:
        return ""
    return value


def fresh_env() -> dict[str, str]:
    """A runner's environment: the machine's PATH and HOME, nothing of this test process's."""
    return {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
