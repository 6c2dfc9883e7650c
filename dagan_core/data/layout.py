"""The column layout: the one contract between the encoder, the samplers and the network heads.

An encoded row is the concatenation, in schema order, of one block per column:
- continuous column: ``[alpha]`` (tanh head, width 1) followed by ``[mode one-hot]`` (softmax head);
- discrete column: ``[category one-hot]`` (softmax head).

The conditional vector concatenates one one-hot block per discrete column, in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

TANH = "tanh"
SOFTMAX = "softmax"


@dataclass(frozen=True)
class Span:
    """A contiguous slice of the encoded row produced by one output head."""

    column: str
    start: int
    width: int
    activation: str  # "tanh" or "softmax"

    @property
    def end(self) -> int:
        """One past the last position."""
        return self.start + self.width


@dataclass(frozen=True)
class CondBlock:
    """Where a discrete column lives in the encoded row and in the conditional vector."""

    column: str
    data_start: int
    cond_start: int
    width: int

    def categories(self, rows):
        """The category index of each encoded row in this column (argmax of its one-hot block);
        ``rows`` is a 2-D numpy array or tensor of encoded rows."""
        return rows[:, self.data_start:self.data_start + self.width].argmax(axis=1)


@dataclass(frozen=True)
class ColumnLayout:
    """Spans of the encoded row and blocks of the conditional vector."""

    spans: tuple[Span, ...]
    cond_blocks: tuple[CondBlock, ...]
    data_dim: int
    cond_dim: int
    label_block: int  # index into cond_blocks of the label column

    @classmethod
    def build(
        cls, columns: list[tuple[str, str, int]], label: str
    ) -> ColumnLayout:
        """Build from ``(name, kind, size)`` triples; size = modes or categories."""
        spans: list[Span] = []
        blocks: list[CondBlock] = []
        pos = 0
        cond = 0
        for name, kind, size in columns:
            if kind == "continuous":
                spans.append(Span(name, pos, 1, TANH))
                spans.append(Span(name, pos + 1, size, SOFTMAX))
                pos += 1 + size
            else:
                spans.append(Span(name, pos, size, SOFTMAX))
                blocks.append(CondBlock(name, pos, cond, size))
                pos += size
                cond += size
        label_block = next(i for i, b in enumerate(blocks) if b.column == label)
        return cls(tuple(spans), tuple(blocks), pos, cond, label_block)

    def block_index(self, column: str) -> int:
        """Index of a discrete column's conditional block."""
        for i, b in enumerate(self.cond_blocks):
            if b.column == column:
                return i
        raise KeyError(column)
