"""descentlab: the reference implementation behind *Back Propagation and Optimization*.

Modules are named after the lecture's sections and imported by name, e.g.
``from descentlab import grad``.
"""

__version__ = "0.1.0"

from . import data, functions, grad, linear, losses, nn, optim, plots, rates, scalar_net, stability, timing, train  # noqa: E402,F401
