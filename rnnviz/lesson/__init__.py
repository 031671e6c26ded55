"""The lesson: a guided path through BPTT with predict-first questions answered by the student's own run.

    CHAPTERS   the chapters in order (rnnviz.lesson.chapters), each a rnnviz.lesson.core.Chapter
    TICKET     the exit ticket (rnnviz.lesson.ticket)
    Progress   a student's place, predictions, reveals and ticket (rnnviz.lesson.progress)

pages/lesson.py lays them out; everything here runs without Streamlit (tests/test_lesson.py).
"""

from rnnviz.lesson.chapters import CHAPTERS
from rnnviz.lesson.core import Chapter, LessonContext, Measure
from rnnviz.lesson.progress import Progress
from rnnviz.lesson.ticket import TICKET, score

KEYS = tuple(c.key for c in CHAPTERS)

__all__ = ["CHAPTERS", "KEYS", "TICKET", "Chapter", "LessonContext", "Measure", "Progress", "score"]
