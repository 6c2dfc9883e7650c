"""The typed federation messages as binary frames: versioned, checked, never pickled.

A frame is ``MAGIC`` (4 bytes), the schema version (uint16, big endian), the length of a JSON
header (uint32), the header, then the raw bytes of every array field in header order. The header
names the message type, the session and sequence number of the request it belongs to, and per
field either a JSON scalar or an array's dtype and shape. Decoding accepts only the message types
of one direction, exactly their fields, array dtypes from a short list (no object arrays), shapes
of the declared rank, byte counts that add up, and finite values (except the per-class fit gaps,
which are NaN for classes a party does not hold, and the fit measures a party did not take).
A change of any message's fields raises ``VERSION``: both sides refuse a frame of another.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch

from dagan_core.federation import messages as m
from dagan_core.federation.remote import control as c
from dagan_core.federation.remote.errors import CodecError

MAGIC = b"DGF1"
VERSION = 2  # 2: FitReport carries heldout_f1 (a peer still on 1 is refused at its first frame)
_PREFIX = struct.Struct(">4sHI")
_FLOATS = ("float32", "float64")
_INTS = ("int32", "int64")


@dataclass(frozen=True)
class Field:
    """How one message field crosses the wire.

    ``kind``: "tensor" (torch.Tensor), "array" (np.ndarray), "floats" (tuple of floats, sent as a
    float64 array), "float" or "int" (JSON scalars), "str" (a string) or "json" (a JSON value:
    dicts, lists, strings, finite numbers, booleans, null; the set-up messages of
    :mod:`.control`). A "float" with ``allow_nan`` crosses a NaN as null.
    """

    kind: str
    ndim: int = 0
    dtypes: tuple[str, ...] = ()
    allow_nan: bool = False


_ROWS = Field("tensor", 2, _FLOATS)
_CODES = Field("array", 1, _INTS)
_F, _I, _S, _J = Field("float"), Field("int"), Field("str"), Field("json")
_JSON_KINDS = ("float", "int", "str", "json")

REQUESTS: dict[str, tuple[type, dict[str, Field]]] = {
    "ConditionRequest": (m.ConditionRequest, {"n": _I, "label_probs": Field("floats", 1,
                                                                            ("float64",))}),
    "CriticStep": (m.CriticStep, {"fake_rows": _ROWS}),
    "GeneratorStep": (m.GeneratorStep, {"fake_rows": _ROWS}),
    "FitProbe": (m.FitProbe, {"max_rows": _I}),
    "FitFakes": (m.FitFakes, {"fake_rows": _ROWS}),
    "Handshake": (c.Handshake, {"protocol": _I, "contract_fingerprint": _S, "label": _S,
                                "schema": _J, "config": _J}),
    "Setup": (c.Setup, {"run_id": _S, "config": _J, "encoder": _J, "seed": _I, "code": _I,
                        "n_codes": _I}),
    "Resume": (c.Resume, {"run_id": _S, "epoch": _I}),
    "EpochEnd": (c.EpochEnd, {"run_id": _S, "epoch": _I}),
    "StatusRequest": (c.StatusRequest, {"protocol": _I, "contract_fingerprint": _S,
                                        "max_modes": _I, "seed": _I}),
}
REPLIES: dict[str, tuple[type, dict[str, Field]]] = {
    "Conditions": (m.Conditions, {"blocks": _CODES, "categories": _CODES,
                                  "party_codes": _CODES}),
    "CriticReport": (m.CriticReport, {"loss": _F, "wasserstein": _F, "gradient_penalty": _F}),
    "GeneratorFeedback": (m.GeneratorFeedback, {"row_gradients": _ROWS,
                                                "row_weights": Field("array", 1, _FLOATS),
                                                "loss": _F}),
    "FitReport": (m.FitReport, {"gap": _F, "class_gaps": Field("floats", 1, ("float64",),
                                                               allow_nan=True),
                                "holdout_rows": _I,
                                "marginal_gap": Field("float", allow_nan=True),
                                "heldout_f1": Field("float", allow_nan=True)}),
    "PartyHello": (c.PartyHello, {"protocol": _I, "party": _S, "contract_fingerprint": _S,
                                  "declaration": _J, "summary": _J}),
    "SetupDone": (c.SetupDone, {"n_rows": _I, "pac": _I, "label_counts": _J}),
    "Resumed": (c.Resumed, {"epoch": _I, "label_probs": _J, "dp": _J}),
    "EpochSaved": (c.EpochSaved, {"epoch": _I, "label_probs": _J, "dp": _J}),
    "PartyStatus": (c.PartyStatus, {"protocol": _I, "party": _S, "contract_fingerprint": _S,
                                    "report": _J, "declaration": _J, "summary": _J,
                                    "profile": _J}),
}
# which reply type answers which request type
ANSWERS = {"ConditionRequest": "Conditions", "CriticStep": "CriticReport",
           "GeneratorStep": "GeneratorFeedback", "FitProbe": "Conditions",
           "FitFakes": "FitReport", "Handshake": "PartyHello", "Setup": "SetupDone",
           "Resume": "Resumed", "EpochEnd": "EpochSaved", "StatusRequest": "PartyStatus"}


@dataclass(frozen=True)
class Frame:
    """A decoded frame: the message and the request it belongs to."""

    message: Any
    session: str
    seq: int


# ---- encoding ---------------------------------------------------------------------------------
def _as_array(value: Any, spec: Field) -> np.ndarray:
    if spec.kind == "tensor":
        if not isinstance(value, torch.Tensor):
            raise CodecError(f"expected a tensor, got {type(value).__name__}")
        value = value.detach().cpu().numpy()
    elif spec.kind == "floats":
        value = np.asarray(value, dtype=np.float64)
    if not isinstance(value, np.ndarray):
        raise CodecError(f"expected an array, got {type(value).__name__}")
    return value


def encode(message: Any, *, session: str, seq: int) -> bytes:
    """Encode a request or reply of a known type as one frame."""
    name = type(message).__name__
    schema = REQUESTS.get(name) or REPLIES.get(name)
    if schema is None or not isinstance(message, schema[0]):
        raise CodecError(f"unknown message type {name}")
    header: dict[str, Any] = {"type": name, "session": session, "seq": seq, "fields": {}}
    buffers = []
    for fname, spec in schema[1].items():
        value = getattr(message, fname)
        if spec.kind in _JSON_KINDS:
            nan = spec.allow_nan and isinstance(value, float) and math.isnan(value)
            header["fields"][fname] = {"value": None if nan else _scalar(fname, value, spec)}
            continue
        arr = np.ascontiguousarray(_as_array(value, spec))
        _check_array(fname, arr, spec)
        header["fields"][fname] = {"dtype": arr.dtype.name, "shape": list(arr.shape)}
        buffers.append(arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes())
    head = json.dumps(header, allow_nan=False, separators=(",", ":")).encode()
    return b"".join([_PREFIX.pack(MAGIC, VERSION, len(head)), head, *buffers])


# ---- decoding ---------------------------------------------------------------------------------
def _plain(name: str, value: Any) -> Any:
    """``value`` as plain JSON (numpy scalars as Python numbers); refuse anything else."""
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise CodecError(f"field {name!r} has a mapping with non-string keys")
        return {k: _plain(name, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(name, v) for v in value]
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise CodecError(f"field {name!r} holds {value!r}, which is not plain JSON")


def _scalar(name: str, value: Any, spec: Field) -> Any:
    if spec.kind == "json":
        return _plain(name, value)
    if spec.kind == "str":
        if not isinstance(value, str):
            raise CodecError(f"field {name!r} must be a string, got {type(value).__name__}")
        return value
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise CodecError(f"field {name!r} must be a non-negative integer, got {value!r}")
        return int(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise CodecError(f"field {name!r} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise CodecError(f"field {name!r} is not finite ({value!r})")
    return float(value)


def _check_array(name: str, arr: np.ndarray, spec: Field) -> None:
    if arr.dtype.name not in spec.dtypes:
        raise CodecError(f"field {name!r} has dtype {arr.dtype.name}, expected one of "
                         f"{', '.join(spec.dtypes)}")
    if arr.ndim != spec.ndim:
        raise CodecError(f"field {name!r} has shape {tuple(arr.shape)}, expected {spec.ndim} "
                         "dimension(s)")
    if arr.dtype.kind == "f" and not spec.allow_nan and not np.isfinite(arr).all():
        raise CodecError(f"field {name!r} holds non-finite values")
    if arr.dtype.kind == "f" and spec.allow_nan and np.isinf(arr).any():
        raise CodecError(f"field {name!r} holds infinite values")


def _header(data: bytes) -> tuple[dict[str, Any], int]:
    if len(data) < _PREFIX.size:
        raise CodecError("frame too short")
    magic, version, head_len = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise CodecError("not a federation frame")
    if version != VERSION:
        raise CodecError(f"schema version {version} is not supported (this side speaks "
                         f"{VERSION})")
    end = _PREFIX.size + head_len
    try:
        header = json.loads(data[_PREFIX.size:end])
    except (UnicodeDecodeError, ValueError) as exc:
        raise CodecError(f"unreadable frame header: {exc}") from None
    if not isinstance(header, dict) or not isinstance(header.get("fields"), dict):
        raise CodecError("frame header lacks its fields")
    if not isinstance(header.get("session"), str) or isinstance(header.get("seq"), bool) \
            or not isinstance(header.get("seq"), int):
        raise CodecError("frame header lacks session or sequence number")
    return header, end


def _read_array(name: str, meta: Any, spec: Field, data: bytes, pos: int):
    if not isinstance(meta, dict) or meta.get("dtype") not in spec.dtypes:
        raise CodecError(f"field {name!r} has dtype {_get(meta, 'dtype')}, expected one of "
                         f"{', '.join(spec.dtypes)}")
    shape = meta.get("shape")
    if (not isinstance(shape, list) or len(shape) != spec.ndim
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                       for s in shape)):
        raise CodecError(f"field {name!r} has shape {shape!r}, expected {spec.ndim} "
                         "non-negative dimension(s)")
    dtype = np.dtype(meta["dtype"]).newbyteorder("<")
    nbytes = math.prod(shape) * dtype.itemsize
    if pos + nbytes > len(data):
        raise CodecError(f"field {name!r} is truncated")
    arr = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=pos)
    arr = arr.astype(dtype.newbyteorder("="), copy=True).reshape(shape)
    _check_array(name, arr, spec)
    if spec.kind == "tensor":
        return torch.from_numpy(arr), pos + nbytes
    if spec.kind == "floats":
        return tuple(float(x) for x in arr), pos + nbytes
    return arr, pos + nbytes


def _get(meta: Any, key: str) -> Any:
    return meta.get(key) if isinstance(meta, dict) else None


def decode(data: bytes, *, direction: str) -> Frame:
    """Decode a frame holding a ``"request"`` or a ``"reply"``; refuse anything else."""
    header, pos = _header(data)
    table = REQUESTS if direction == "request" else REPLIES
    name = header.get("type")
    if name not in table:
        raise CodecError(f"unknown {direction} type {name!r}")
    cls, schema = table[name]
    got = header["fields"]
    if set(got) != set(schema):
        raise CodecError(f"{name} must have fields {sorted(schema)}, got {sorted(got)}")
    values = {}
    for fname, spec in schema.items():
        if spec.kind in _JSON_KINDS:
            value = _get(got[fname], "value")
            nan = spec.allow_nan and spec.kind == "float" and value is None
            values[fname] = float("nan") if nan else _scalar(fname, value, spec)
        else:
            values[fname], pos = _read_array(fname, got[fname], spec, data, pos)
    if pos != len(data):
        raise CodecError(f"{len(data) - pos} unexpected bytes after the last field")
    return Frame(cls(**values), header["session"], header["seq"])


def field_names(cls: type) -> list[str]:
    """Field names of a message class (for checks that the schema covers every field)."""
    return [f.name for f in fields(cls)]
