"""nbgrader configuration: the repository root is the course root.

solutions/<chapter>/   nbgrader's source folder: notebooks with solutions, hidden tests, points
chapters/<chapter>/    where `make release` copies the generated student notebooks
submitted/ autograded/ feedback/ gradebook.db   the instructor's working folders (git-ignored)

Grading is wired to the `gradeguard` package (src/gradeguard; see the instructor guide's
"Security model"):
- `ConfinedExecute` replaces nbgrader's Execute: the student's cells run in a confined
  kernel (unprivileged user; mount, network and pid namespaces; memory and process
  limits; time and output caps), and every test cell runs in the checker, in this
  process, from the gradebook's source: no verdict depends on the student's kernel.
- `make grade` (`gradeguard grade`) reads each submission defensively first and always
  writes grades.csv with a status for every student.
- feedback removes hidden tests, cuts tracebacks to their last line, and shows the
  student's own markdown and outputs as text and images only.
"""

import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, ClearOutput, DeduplicateIds, GetGrades,
    LimitOutput, NbGraderPreprocessor, OverwriteCells, OverwriteKernelspec, SaveAutoGrades)

from gradeguard.execute import ConfinedExecute, SanitizeFeedback

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

# Autograde: sanitize (tags cannot switch tests off), then confined execution and the checker.
c.Autograde.sanitize_preprocessors = [
    ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, StripExecutionTags, CheckCellMetadata,
]
c.Autograde.autograde_preprocessors = [
    ConfinedExecute, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
c.ConfinedExecute.timeout = 60              # seconds per student cell and per call of a student's function
c.ConfinedExecute.notebook_timeout = 300    # wall-clock seconds per notebook, whatever the cells do
c.ConfinedExecute.max_output_bytes = 1 << 20
c.ConfinedExecute.memory_bytes = 1 << 30
c.ConfinedExecute.max_processes = 32
c.ConfinedExecute.report_dir = os.path.join(ROOT, ".gradeguard", "reports")
# Kept for `nbgrader validate` and any plain Execute: a secret skip tag.
c.Execute.skip_cells_with_tag = "descentlab-never-skip-7f3a"

# Feedback never shows hidden tests, nor raw HTML or scripts from a student.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortTracebacks, SanitizeFeedback,
                                    CSSHTMLHeaderPreprocessor]
c.ClearHiddenTests.enforce_metadata = False
c.SanitizeFeedback.release_directory = os.path.join(ROOT, "release")   # its markdown is the instructor's
c.HTMLExporter.sanitize_html = True
