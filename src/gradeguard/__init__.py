"""gradeguard: grading that a submission's code cannot subvert.

The student's code runs in a confined kernel (:mod:`gradeguard.sandbox`) that only
ever computes return values of the student's functions; every verdict is reached
by the checker (:mod:`gradeguard.checker`) in the grader's own process, which never
runs student code. :mod:`gradeguard.execute` wires both into nbgrader's autograde
flow, :mod:`gradeguard.intake` turns whatever a student handed in into a notebook
nbgrader can read (or a clear status), and :mod:`gradeguard.cli` grades a class.
"""
