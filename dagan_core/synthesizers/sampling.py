"""Release sampling: unconditional, per party, any party mix, or conditioned on a value.

Rows of a party are generated with the label drawn from that party's true label frequencies
(the release distribution), in batches, generator in eval mode, with every random draw taken
from generators seeded by the call's seed. Conditions are honoured exactly: the first condition
steers the generator through the conditional vector and every condition is enforced by keeping
only rows that satisfy it. A (party, value) cell with no real row is refused, never invented.

By default (``strict=False``) a model that does not obey its conditions within ``MAX_ROUNDS``
rounds is not an error: the release keeps the rows as generated (the rows asked for a class the
party's generator does not yet make carry the class it made instead) and a conditional call
returns fewer rows. Every shortfall is reported: ``DataFrame.attrs["unmet_rows"]`` (total) and
``attrs["shortfall"]``, one record per (party, asked value) cell with the rows asked, made and
missing. ``strict=True`` raises ``ConditionError`` instead. Where every cell is met, both give
the same rows for the same seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from dagan_core.data.layout import TANH
from dagan_core.data.sampler import cond_vectors
from dagan_core.data.schema import CONTINUOUS
from dagan_core.data.summary import category_key
from dagan_core.errors import ConditionError
from dagan_core.synthesizers.fitted_model import FittedModel

CHUNK = 50_000
MAX_ROUNDS = 50


def _check_conditions(model: FittedModel, conditions: Mapping[str, object]) -> list[tuple]:
    enc = model.encoder
    parsed = []
    for column, value in conditions.items():
        if column not in enc.schema.names:
            raise ConditionError(f"unknown column {column!r} in conditions; columns: "
                                 f"{', '.join(enc.schema.names)}")
        if enc.schema.spec(column).kind == CONTINUOUS:
            raise ConditionError(f"column {column!r} is continuous; only discrete columns "
                                 f"can be conditioned on")
        key = category_key(value)
        if key not in enc.vocab[column]:
            raise ConditionError(f"value {value!r} never occurs in column {column!r}; known "
                                 f"values: {enc.vocab[column]}")
        parsed.append((column, key, enc.layout.block_index(column), enc.vocab[column].index(key)))
    return parsed


def _count(model: FittedModel, party: str, column: str, key: Any) -> int:
    return dict(model.summaries[party].category_counts[column]).get(key, 0)


def _check_party_holds(model: FittedModel, party: str, parsed: list[tuple]) -> None:
    """The asked party exists and holds every asked value."""
    if party not in model.summaries:
        raise ConditionError(f"unknown party {party!r}; parties: {', '.join(model.parties)}")
    for column, key, _, _ in parsed:
        if _count(model, party, column, key) == 0:
            holders = [p for p in model.parties if _count(model, p, column, key) > 0]
            raise ConditionError(
                f"party {party!r} has no row with {column}={key!r}, so the model has no "
                f"signal for that cell; parties that hold it: {holders}")


def _party_weights(model: FittedModel, parsed: list[tuple]) -> np.ndarray:
    """Each party's share of the rows: its size, or with conditions its rows with the first
    asked value, among the parties that hold every asked value; none for a party lost during
    training."""
    lost = model.lost_parties
    if not parsed:
        return np.array([0 if p in lost else model.summaries[p].n_rows for p in model.parties],
                        dtype=float)
    column, key = parsed[0][:2]
    return np.array([
        _count(model, p, column, key)
        if p not in lost and all(_count(model, p, c, k) > 0 for c, k, *_ in parsed) else 0
        for p in model.parties], dtype=float)


def _check_not_lost(model: FittedModel, party: str) -> None:
    lost = model.lost_parties.get(party)
    if lost is not None:
        raise ConditionError(
            f"party {party!r} was lost during training (from epoch {lost['epoch']}, "
            f"{lost['step']}): the model was not trained on it to the end, so its rows are "
            "not released")


def _allocate(model: FittedModel, n: int, party: str | None, parsed: list[tuple],
              rng: np.random.Generator) -> dict[str, int]:
    if party is not None:
        _check_party_holds(model, party, parsed)
        _check_not_lost(model, party)
        return {party: n}
    weights = _party_weights(model, parsed)
    if weights.sum() == 0:
        raise ConditionError(f"no party holds rows with {dict((c, k) for c, k, *_ in parsed)}")
    counts = rng.multinomial(n, weights / weights.sum())
    return {p: int(c) for p, c in zip(model.parties, counts) if c > 0}


def _generate(model: FittedModel, code: int, generator: torch.nn.Module, blocks: np.ndarray,
              cats: np.ndarray, tgen: torch.Generator) -> np.ndarray:
    """Encoded rows (one-hot spans drawn exactly from the generator's categorical outputs)."""
    layout = model.encoder.layout
    dev = model.device
    out = np.zeros((len(blocks), layout.data_dim), dtype=np.float32)
    for s in range(0, len(blocks), CHUNK):
        b, c = blocks[s:s + CHUNK], cats[s:s + CHUNK]
        cond = torch.as_tensor(cond_vectors(layout, b, c), device=dev)
        z = torch.randn(len(b), model.config.model.embedding_dim, device=dev, generator=tgen)
        codes = torch.full((len(b),), code, device=dev, dtype=torch.long)
        with torch.no_grad():
            raw = generator(z, codes, cond)
            u = torch.rand(raw.shape, device=dev, generator=tgen)
            noisy = raw - torch.log(-torch.log(u + 1e-10) + 1e-10)  # Gumbel-max draws
            rows = np.arange(s, s + len(b))
            for span in layout.spans:
                if span.activation == TANH:
                    out[s:s + len(b), span.start] = torch.tanh(raw[:, span.start]).cpu().numpy()
                else:
                    k = noisy[:, span.start:span.end].argmax(dim=1).cpu().numpy()
                    out[rows, span.start + k] = 1.0
    return out


def _satisfied(layout, data: np.ndarray, wanted: list[tuple[int, np.ndarray | int]]) -> np.ndarray:
    """Rows whose category in each (block, category) pair equals the wanted one."""
    ok = np.ones(len(data), dtype=bool)
    for block_index, cat in wanted:
        b = layout.cond_blocks[block_index]
        ok &= b.categories(data) == cat
    return ok


def _label_shortfall(model: FittedModel, party: str, cats: np.ndarray,
                     wrong: np.ndarray) -> list[dict[str, Any]]:
    """One record per asked label class with rows that did not come out with it."""
    label = model.encoder.schema.label
    vocab = model.encoder.vocab[label]
    missed = np.bincount(cats[wrong], minlength=len(vocab))
    asked = np.bincount(cats, minlength=len(vocab))
    return [{"party": party, "condition": {label: str(vocab[c])}, "asked": int(asked[c]),
             "made": int(asked[c] - missed[c]), "missing": int(missed[c])}
            for c in np.flatnonzero(missed)]


def _release_rows(model: FittedModel, party: str, n: int, rng: np.random.Generator,
                  tgen: torch.Generator, strict: bool) -> tuple[pd.DataFrame, list[dict]]:
    """The party's release rows, labels at its true frequencies, and the per-class shortfall."""
    enc = model.encoder
    layout = enc.layout
    generator = model.generator_for(party)
    generator.eval()
    code = model.party_code(party)
    label = enc.schema.label
    counts = np.array([_count(model, party, label, v) for v in enc.vocab[label]], float)
    cats = rng.choice(len(counts), size=n, p=counts / counts.sum())
    blocks = np.full(n, layout.label_block)
    data = _generate(model, code, generator, blocks, cats, tgen)
    for _ in range(MAX_ROUNDS):  # regenerate rows whose label disobeyed its condition
        wrong = np.flatnonzero(~_satisfied(layout, data, [(layout.label_block, cats)]))
        if len(wrong) == 0:
            return enc.decode(data), []
        data[wrong] = _generate(model, code, generator, blocks[wrong], cats[wrong], tgen)
    wrong = np.flatnonzero(~_satisfied(layout, data, [(layout.label_block, cats)]))
    shortfall = _label_shortfall(model, party, cats, wrong)
    if not strict or not shortfall:
        return enc.decode(data), shortfall
    cells = ", ".join(f"{label}={s['condition'][label]!r}: {s['missing']} of {s['asked']} rows"
                      for s in shortfall)
    raise ConditionError(f"the model of party {party!r} did not produce the asked label "
                         f"classes after {MAX_ROUNDS} rounds ({cells}); train it longer, or "
                         "sample with strict=False to keep the rows it makes")


def _party_rows(model: FittedModel, party: str, n: int, parsed: list[tuple],
                rng: np.random.Generator, tgen: torch.Generator,
                strict: bool) -> tuple[pd.DataFrame, list[dict]]:
    """The party's decoded rows and the shortfall records of the cells it could not fill."""
    if not parsed:  # release mix: labels at the party's true frequencies, honoured exactly
        return _release_rows(model, party, n, rng, tgen, strict)
    enc = model.encoder
    layout = enc.layout
    generator = model.generator_for(party)
    generator.eval()
    code = model.party_code(party)
    _, _, block, cat = parsed[0]
    wanted = [(b, c) for _, _, b, c in parsed]
    kept: list[np.ndarray] = []
    have = 0
    for _ in range(MAX_ROUNDS):
        m = max(2 * (n - have), 256)
        data = _generate(model, code, generator, np.full(m, block), np.full(m, cat), tgen)
        data = data[_satisfied(layout, data, wanted)]
        kept.append(data)
        have += len(data)
        if have >= n:
            return enc.decode(np.concatenate(kept)[:n]), []
    asked = {c: str(k) for c, k, *_ in parsed}
    if not strict:
        return enc.decode(np.concatenate(kept)), [
            {"party": party, "condition": asked, "asked": n, "made": have,
             "missing": n - have}]
    raise ConditionError(f"the model of party {party!r} produced only {have} of {n} rows with "
                         f"{asked} after {MAX_ROUNDS} rounds")


def sample_rows(model: FittedModel, n: int, *, party: str | None,
                conditions: Mapping[str, object] | None, seed: int,
                strict: bool = False) -> pd.DataFrame:
    """Rows of a fitted model (see :meth:`Synthesizer.sample` for the arguments)."""
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ConditionError(f"n must be a non-negative integer, got {n!r}")
    parsed = _check_conditions(model, conditions or {})
    rng = np.random.default_rng(seed)
    tgen = torch.Generator(device=model.device)
    tgen.manual_seed(int(seed) % (2**63))
    frames = []
    shortfall: list[dict[str, Any]] = []
    for p, k in _allocate(model, int(n), party, parsed, rng).items():
        rows, missed = _party_rows(model, p, k, parsed, rng, tgen, strict)
        rows.insert(len(rows.columns), "party", p)
        frames.append(rows)
        shortfall += missed
    if not frames:
        out = pd.DataFrame(columns=[*model.encoder.schema.names, "party"])
    else:
        out = pd.concat(frames, ignore_index=True)
    out.attrs["unmet_rows"] = sum(s["missing"] for s in shortfall)
    out.attrs["shortfall"] = shortfall
    return out
