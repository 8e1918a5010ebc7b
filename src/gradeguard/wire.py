"""Checker side of the call protocol: decode what a kernel answered, as data only.

The kernel's answer is untrusted. It is parsed as JSON (at most :data:`MAX_REPLY_BYTES`),
arrays are read with ``np.load(allow_pickle=False)``, and only these types come out:
None, bool, int, float, str, complex, NumPy arrays and scalars (no object dtype),
tuples, lists, dicts and a random generator's state. Anything else is a
:class:`NotData` error, which fails the test that asked for it.
"""

from __future__ import annotations

import base64
import binascii
import io
import json

import numpy as np

MIME = "application/vnd.gradeguard.result+json"
MAX_REPLY_BYTES = 8 << 20
MAX_DEPTH = 40
MAX_DICT_ITEMS = 1000      # bounds the cost of building a dict from keys the kernel chose
MAX_NODES = 200_000        # values in one reply


class NotData(TypeError):
    """The kernel answered something that is not plain data."""


def _array(b64: object) -> np.ndarray:
    if not isinstance(b64, str):
        raise NotData("malformed array")
    try:
        raw = base64.b64decode(b64, validate=True)
        a = np.load(io.BytesIO(raw), allow_pickle=False)
    except (binascii.Error, ValueError, OSError, EOFError) as exc:
        raise NotData(f"malformed array ({exc})") from None
    if not isinstance(a, np.ndarray) or a.dtype.hasobject:
        raise NotData("an array of Python objects")
    return a


def decode(x: object, depth: int = 0, budget: list | None = None) -> object:
    """Turn one JSON value of the protocol back into Python data."""
    budget = [MAX_NODES] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:
        raise NotData("too many values")
    if depth > MAX_DEPTH:
        raise NotData("nesting too deep")
    if x is None or type(x) in (bool, int, float, str):
        return x
    if type(x) is list:
        return [decode(v, depth + 1, budget) for v in x]
    if type(x) is not dict:
        raise NotData(f"unexpected JSON value {type(x).__name__}")
    tag = x.get("~")
    if tag == "nd":
        return _array(x.get("b"))
    if tag == "np":
        a = _array(x.get("b"))
        if a.ndim != 0:
            raise NotData("malformed NumPy scalar")
        return a[()]
    if tag == "tuple" and type(x.get("v")) is list:
        return tuple(decode(v, depth + 1, budget) for v in x["v"])
    if tag == "dict" and type(x.get("v")) is list:
        if len(x["v"]) > MAX_DICT_ITEMS:
            raise NotData(f"a dict with more than {MAX_DICT_ITEMS} entries")
        out = {}
        for pair in x["v"]:
            if type(pair) is not list or len(pair) != 2:
                raise NotData("malformed dict")
            key = decode(pair[0], depth + 1, budget)
            if not isinstance(key, (str, int, float, bool, tuple, type(None), np.generic)):
                raise NotData("a dict key that is not a number or a string")
            out[key] = decode(pair[1], depth + 1, budget)
        return out
    if tag == "complex" and type(x.get("v")) is list and len(x["v"]) == 2:
        re, im = x["v"]
        if type(re) not in (int, float) or type(im) not in (int, float):
            raise NotData("malformed complex number")
        return complex(re, im)
    if tag == "rng" and type(x.get("v")) is dict:
        return RngState(x["v"])
    if tag == "opaque":
        raise NotData(f"a {str(x.get('type', 'non-data object'))[:80]}")
    raise NotData("an object the grader does not know")


class RngState(dict):
    """A random generator's state as the kernel left it (written back into the checker's generator)."""


def parse_reply(text: object) -> dict:
    """The kernel's reply message body -> {'value': ..., 'changed': {...}, 'warnings': [...]} or {'error': [...]}."""
    if not isinstance(text, str) or len(text) > MAX_REPLY_BYTES:
        raise NotData("a reply that is too large or not text")
    try:
        reply = json.loads(text)
    except (ValueError, RecursionError):
        raise NotData("a reply that is not JSON") from None
    if type(reply) is not dict:
        raise NotData("a reply that is not an object")
    if "error" in reply:
        err = reply["error"]
        if type(err) is not list or len(err) != 2 or not all(isinstance(e, str) for e in err):
            raise NotData("a malformed error")
        return {"error": [err[0][:100], err[1][:2000]]}
    warns = reply.get("warnings", [])
    if type(warns) is not list or not all(type(w) is list and len(w) == 2 and all(isinstance(s, str) for s in w)
                                          for w in warns):
        raise NotData("malformed warnings")
    changed = reply.get("changed", {})
    if type(changed) is not dict:
        raise NotData("malformed changed arguments")
    if len(changed) > 64:
        raise NotData("malformed changed arguments")
    budget = [MAX_NODES]
    return {"value": decode(reply.get("value"), 0, budget), "warnings": [[c[:100], m[:500]] for c, m in warns[:20]],
            "changed": {str(k): decode(v, 0, budget) for k, v in changed.items()}}


def write_back(original: object, new: object) -> None:
    """Make `original` (an argument the checker passed) look as the student's function left it."""
    if isinstance(original, np.ndarray):
        if isinstance(new, np.ndarray) and new.shape == original.shape and original.flags.writeable:
            try:
                original[...] = new
            except (TypeError, ValueError):
                pass
    elif isinstance(original, np.random.Generator):
        if isinstance(new, RngState):
            try:
                original.bit_generator.state = dict(new)
            except (TypeError, ValueError, KeyError):
                pass
    elif isinstance(original, list) and isinstance(new, list):
        if len(original) == len(new):
            for i, (o, n) in enumerate(zip(original, new)):
                if isinstance(o, (np.ndarray, list, dict, np.random.Generator)):
                    write_back(o, n)
                else:
                    original[i] = n
        else:
            original[:] = new
    elif isinstance(original, dict) and isinstance(new, dict):
        for key in list(original):
            if key not in new:
                del original[key]
        for key, n in new.items():
            o = original.get(key)
            if key in original and isinstance(o, (np.ndarray, list, dict, np.random.Generator)):
                write_back(o, n)
            else:
                original[key] = n
