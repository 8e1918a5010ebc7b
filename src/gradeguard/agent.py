"""Kernel side of the call protocol: the only grading code that ever runs in a student's kernel.

This file's source is sent to the confined kernel once, after the student's cells ran.
It defines one function, ``__gradeguard_call__(payload)``: unpickle a call the checker
sent (a function name, arguments, keyword arguments), run the student's function, and
publish the result as plain data (JSON, arrays as ``.npy`` bytes) in a display message
of type :data:`MIME`, together with the arguments the call changed in place and the
warnings it raised.

Nothing here is trusted: the kernel may replace this function or answer anything.
The checker decodes what comes back as data only (:mod:`gradeguard.wire`), with size
limits, and decides every verdict itself. This file only has to work for honest code.
"""


def _install():  # everything lives in this closure: one name is added to the student's namespace
    import base64
    import io
    import json
    import pickle
    import warnings

    import __main__
    import numpy as np
    from IPython.display import publish_display_data

    MIME = "application/vnd.gradeguard.result+json"
    MUTABLE = (np.ndarray, list, dict, np.random.Generator)

    def npy(a):
        buf = io.BytesIO()
        np.save(buf, a, allow_pickle=False)
        return base64.b64encode(buf.getvalue()).decode("ascii")

    def enc(x, depth=0):
        if depth > 32:
            return {"~": "opaque", "type": "nesting deeper than 32 levels"}
        if x is None or isinstance(x, (bool, int, float, str)) and type(x) in (bool, int, float, str):
            return x
        if isinstance(x, np.generic):
            return {"~": "np", "b": npy(np.asarray(x))} if x.dtype != object else {"~": "opaque", "type": "object"}
        if isinstance(x, np.ndarray):
            if x.dtype.hasobject:
                return {"~": "opaque", "type": "array of Python objects (dtype=object)"}
            return {"~": "nd", "b": npy(np.asarray(x))}
        if isinstance(x, tuple):
            return {"~": "tuple", "v": [enc(v, depth + 1) for v in x]}
        if isinstance(x, list):
            return [enc(v, depth + 1) for v in x]
        if isinstance(x, dict):
            return {"~": "dict", "v": [[enc(k, depth + 1), enc(v, depth + 1)] for k, v in x.items()]}
        if isinstance(x, complex):
            return {"~": "complex", "v": [x.real, x.imag]}
        if isinstance(x, np.random.Generator):
            return {"~": "rng", "v": x.bit_generator.state}
        if isinstance(x, (bool, int, float, str)):   # subclasses: keep the plain value
            return enc(type(x).__mro__[-2](x), depth)
        return {"~": "opaque", "type": type(x).__qualname__}

    def snapshot(x):
        try:
            return pickle.dumps(x) if isinstance(x, MUTABLE) else None
        except Exception:
            return None

    def call(payload):
        reply = {}
        try:
            name, args, kwargs = pickle.loads(base64.b64decode(payload))
            fn = vars(__main__).get(name)
            if fn is None:
                raise NameError(f"name '{name}' is not defined: run the cell that defines it")
            before = [snapshot(a) for a in args], {k: snapshot(v) for k, v in kwargs.items()}
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                value = fn(*args, **kwargs)
            reply["value"] = enc(value)
            reply["warnings"] = [[type(w.message).__name__, str(w.message)[:500]] for w in caught[:20]]
            changed = {}
            for i, a in enumerate(args):
                if before[0][i] is not None and snapshot(a) != before[0][i]:
                    changed[str(i)] = enc(a)
            for k, v in kwargs.items():
                if before[1][k] is not None and snapshot(v) != before[1][k]:
                    changed[k] = enc(v)
            reply["changed"] = changed
        except BaseException as exc:  # noqa: BLE001  (the student's error is the answer)
            reply = {"error": [type(exc).__name__, str(exc)[:2000]]}
        publish_display_data({MIME: json.dumps(reply)})

    vars(__main__)["__gradeguard_call__"] = call


_install()
del _install
