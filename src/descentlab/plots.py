"""One figure style for the whole book: a colour-blind-safe palette and labels.

The palette is Okabe and Ito's (2008), distinguishable under the common forms of
colour-vision deficiency. Call :func:`use_style` once per page.
"""

from __future__ import annotations

try:
    import matplotlib as mpl
    from cycler import cycler
except ImportError as error:        # descentlab itself needs only NumPy and scikit-learn
    from . import INSTALL
    raise ImportError(f"descentlab.plots draws with matplotlib, which is not installed here ({error}). "
                      f"Install descentlab with its plot extra: {INSTALL} "
                      f"(or just matplotlib: pip install matplotlib).") from error

#: Okabe-Ito colours, in the order the book uses them.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}

COLORS = [PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "sky", "purple", "black")]

STYLE = {
    "axes.prop_cycle": cycler(color=COLORS),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 11,
    "axes.titlesize": 12,
    "legend.frameon": False,
    "image.cmap": "cividis",
    "lines.linewidth": 2.0,
}


def use_style() -> None:
    """Apply the book's matplotlib style globally."""
    mpl.rcParams.update(STYLE)
