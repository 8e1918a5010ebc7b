"""nbgrader configuration: the repository root is the course root.

solutions/<chapter>/   nbgrader's source folder: notebooks with solutions, hidden tests, points
chapters/<chapter>/    where `make release` copies the generated student notebooks
submitted/ autograded/ feedback/ gradebook.db   the instructor's working folders (git-ignored)

Three known nbgrader pitfalls are closed here:
1. A student who tags a test cell `skip-execution` (or `raises-exception`) would skip a
   locked test and keep its points. Such tags are stripped before execution, and nbclient's
   skip tag is set to a value no student notebook carries.
2. Any stderr output in a test cell scores zero, so a harmless warning would cost points:
   stderr streams that are only warnings are dropped before grading.
3. Hidden tests would appear in the feedback by default: feedback removes hidden test
   regions and cuts the tracebacks of test cells down to their final message, which
   would otherwise quote the hidden test's source line.
"""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades, NbGraderPreprocessor

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

ROOT = os.path.dirname(os.path.abspath(__file__))
EXECUTION_TAGS = {"skip-execution", "raises-exception", "skip", "nbval-skip", "nbval-ignore-output"}


class StripExecutionTags(NbGraderPreprocessor):  # enabled by default, unlike nbconvert's base
    """Remove tags that change how a cell is executed, from every cell of a submission."""

    def preprocess_cell(self, cell, resources, index):
        tags = cell.get("metadata", {}).get("tags")
        if tags:
            cell.metadata["tags"] = [t for t in tags if t not in EXECUTION_TAGS]
        return cell, resources


class ShortTracebacks(NbGraderPreprocessor):
    """In feedback, replace each error's traceback by its last line ('AssertionError: ...')."""

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "release"      # make release copies from here into chapters/
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, "gradebook.db")
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# 1. Tags cannot switch tests off.
from nbgrader.preprocessors import (  # noqa: E402
    CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells, OverwriteKernelspec)

c.Autograde.sanitize_preprocessors = [
    ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, StripExecutionTags, CheckCellMetadata,
]
c.Execute.skip_cells_with_tag = "descentlab-never-skip-7f3a"
c.Execute.timeout = 60  # seconds per cell; an endless loop loses that task, not the run
c.Execute.interrupt_on_timeout = True

# 2. Warnings on stderr do not cost points; real errors still do.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"Warning:"

# 3. Feedback never shows hidden tests.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortTracebacks, CSSHTMLHeaderPreprocessor]
c.ClearHiddenTests.enforce_metadata = False
