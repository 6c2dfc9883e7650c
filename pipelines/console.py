"""What the command line prints: one line per error, one line per progress message.

- :func:`error_line` turns any exception into the single line ``dagan <command>: ...``: Dagster's
  wrappers are unwrapped to the error the pipeline raised (a contract breach names the party,
  the landing file, the column and the value), and the line says which step failed.
- :func:`progress_logger` builds a Dagster logger for headless runs: one line per message the
  pipeline logs (first line only), none of Dagster's engine events, stack traces or errors (the
  command prints the error once, as one line). The run's full log stays in its Dagster home.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

#: Longest error line; the rest is cut (``--verbose`` shows everything).
MAX_LINE = 800


class StepError(Exception):
    """A pipeline step failed; ``step`` names it (e.g. ``ingest party_1``), the cause says why."""

    def __init__(self, step: str) -> None:
        super().__init__(f"{step} failed")
        self.step = step


def root_error(err: BaseException) -> BaseException:
    """The error the pipeline's own code raised, out of Dagster's wrappers and step errors."""
    seen: set[int] = set()
    while id(err) not in seen:
        seen.add(id(err))
        inner = getattr(err, "user_exception", None)
        if isinstance(inner, BaseException):
            err = inner
        elif isinstance(err, StepError) and err.__cause__ is not None:
            err = err.__cause__
        else:
            break
    return err


def _steps(err: BaseException) -> list[str]:
    """Names of the failed steps around ``err``, outermost first (``StepError`` and Dagster's
    step errors, found as wrappers, causes or the error being handled)."""
    out: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and len(out) < 5 and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StepError):
            out.append(current.step)
        step_key = getattr(current, "step_key", None)
        if isinstance(step_key, str) and step_key not in out:
            out.append(step_key)
        inner = getattr(current, "user_exception", None)
        if isinstance(inner, BaseException):
            current = inner
        else:  # Dagster re-raises the step's own error while handling its wrapper
            current = current.__cause__ or current.__context__
    return out


def error_line(command: str, err: BaseException) -> str:
    """``dagan <command>: [<step>: ]<message>`` on one line.

    Errors of the project's own kinds (data, configuration, missing files) read as their
    message; anything else is prefixed with its type, so that the line stays searchable.
    """
    from dagan_core.errors import DAGANError

    root = root_error(err)
    message = " ".join(str(root).split()) or type(root).__name__
    if not isinstance(root, DAGANError | FileNotFoundError | ValueError) and type(root).__name__ \
            != "CommandError":
        message = f"{type(root).__name__}: {message}"
    where = ": ".join(_steps(err))
    line = f"dagan {command}: " + (f"{where}: " if where else "") + message
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


def report_error(command: str, err: BaseException, verbose: bool = False) -> int:
    """Write the error's line to stderr (after the traceback when ``verbose``); exit status 2."""
    if verbose:
        import traceback

        traceback.print_exception(err)
    sys.stderr.write(error_line(command, err) + "\n")
    return 2


class _ProgressFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, "dagster_meta", None) or {}
        text = str(meta.get("orig_message", record.getMessage())).strip().splitlines()
        step = meta.get("step_key")
        first = text[0] if text else ""
        stamp = self.formatTime(record, "%H:%M:%S")
        return f"{stamp} {step}: {first}" if step else f"{stamp} {first}"


class _ProgressFilter(logging.Filter):
    """The pipeline's own messages below ERROR; no engine events."""

    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, "dagster_meta", None) or {}
        return meta.get("dagster_event") is None and record.levelno < logging.ERROR


def progress_logger() -> Any:
    """A Dagster logger definition (config: ``log_level``) writing progress lines to stderr."""
    import dagster as dg  # the error formatting above does not need it

    @dg.logger(
        config_schema={"log_level": dg.Field(str, is_required=False, default_value="INFO")},
        description="One line per message the pipeline logs; no engine events or stack traces.",
    )
    def _progress(init_context: Any) -> logging.Logger:
        level = logging.getLevelName(str(init_context.logger_config["log_level"]).upper())
        log = logging.Logger("dagan.progress", level=level)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_ProgressFormatter())
        handler.addFilter(_ProgressFilter())
        log.addHandler(handler)
        return log

    return _progress
