"""One pass over a landing file's bytes: its digest, whether it holds NUL bytes, its line breaks.

- the digest finds files of a party with the same content (a file landed twice under two names);
- a CSV file with NUL bytes is parsed by pandas' Python parser, which keeps them in the cell;
- the physical line on which each data row starts, so that a quarantined row names the line a
  person sees in an editor (blank lines and quoted line breaks shift it from the data row number).
  It is kept as breakpoints ``[[data row, line], ...]`` (0-based row, 1-based line; the rows
  after a breakpoint follow line by line), usually a single ``[[0, 2]]``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from pipelines.resources.landing.entries import open_landing

_BLOCK = 1 << 16


@dataclass(frozen=True)
class FileFacts:
    """What the byte pass learned about one file."""

    digest: str
    nul: bool
    lines: int  # physical lines ("\n", "\r\n" or a lone "\r" ends one)
    lone_cr: bool  # a "\r" not followed by "\n" (old Mac line ends)


def file_facts(party: str, path: Path) -> FileFacts:
    digest = hashlib.sha256()
    nul = lone_cr = False
    newlines = 0
    last = b""
    size = 0
    with open_landing(party, path) as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
            size += len(block)
            nul = nul or b"\x00" in block
            newlines += block.count(b"\n")
            joined = last + block
            if joined.count(b"\r") != joined.count(b"\r\n") + joined.endswith(b"\r"):
                lone_cr = True
            last = block[-1:]
    if last == b"\r":
        lone_cr = True
    lines = newlines + (1 if size and last not in (b"\n",) else 0)
    return FileFacts(digest.hexdigest(), nul, lines, lone_cr)


def row_lines(party: str, path: Path, rows: int, facts: FileFacts) -> list[list[int]] | None:
    """``[[data row, line], ...]`` breakpoints of a CSV file of ``rows`` data rows; None when the
    lines cannot be matched with the rows pandas read."""
    if not facts.lone_cr and facts.lines == rows + 1:
        return [[0, 2]]  # one line per row, no blank line: the common case, no second parse
    jumps: list[list[int]] = []
    row = 0
    with io.TextIOWrapper(open_landing(party, path), encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            return None
        end = reader.line_num
        for record in reader:
            start, end = end + 1, reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # a blank or whitespace-only line, skipped as pandas skips it
            if not jumps or jumps[-1][1] + row - jumps[-1][0] != start:
                jumps.append([row, start])
            row += 1
    return jumps if row == rows else None
