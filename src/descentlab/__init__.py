"""descentlab: the reference implementation behind *Back Propagation and Optimization*.

Modules are named after the lecture's sections and imported by name, e.g.
``from descentlab import grad``.

Only NumPy and scikit-learn are required. ``descentlab.torch`` (chapter 8: the book's
optimizers as ``torch.optim`` optimizers, data-parallel training) needs PyTorch, which the
``torch`` extra installs; nothing else imports it. ``descentlab.plots`` (the book's figure style)
needs matplotlib, which the ``plot`` extra installs; it is imported on first use, so
``import descentlab`` works without matplotlib.
"""

__version__ = "0.1.0"

from . import (data, functions, grad, hessian, linear, losses, nn, optim, rates, scalar_net,  # noqa: E402,F401
               schedules, stability, timing, train)

#: The one install line that every page of the book shows (the public student repository).
INSTALL = 'pip install "descentlab[plot] @ git+https://github.com/descentlab/backprop-optimization"'
#: Chapter 8's pages and exercises also need PyTorch (the CPU wheel): the ``torch`` extra.
INSTALL_TORCH = 'pip install "descentlab[plot,torch] @ git+https://github.com/descentlab/backprop-optimization"'


def __getattr__(name: str):
    """Import ``descentlab.plots`` when it is first asked for (PEP 562)."""
    if name == "plots":
        import importlib
        module = importlib.import_module(".plots", __name__)   # says what to install if it fails
        globals()["plots"] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + ["plots"])
