"""The tasks: what is run on one item, and how samples add up to metrics.

Stage: eval scoring. Each task implements :class:`evals.core.Task`:

- ``validate`` (:class:`ValidateTask`): the validator alone, ``check_claims`` on a source and
  a claim (validator suite, paraphrase suite);
- ``summarise`` (:class:`SummariseTask`): the whole pipeline, ``asummarise`` on an article,
  scored on the validator's verdicts and the gold figures (ECTSum, BBC, the seed article);
- ``sentiment`` (:class:`SentimentTask`): the pipeline's sentiment of a sentence (Financial
  PhraseBank, FiQA).

A task's ``run`` raises what the pipeline raises (a ``SummariserError`` for bad input or a
failed backend); the runner records it as the sample's ``error``, and ``aggregate`` leaves
such samples out of every metric but ``error_rate``. ``SummariseTask`` and ``SentimentTask``
take an optional ``backend`` (shared by every run; the caller closes it).
"""

from __future__ import annotations

from evals.core import Task, TaskName
from evals.tasks.sentiment import SentimentTask
from evals.tasks.summarise import SummariseTask
from evals.tasks.validate import ValidateTask
from summariser.backends.base import Backend

# Keyed by TaskName; typed by str so that callers may index it with a dataset's task name.
TASKS: dict[str, type[ValidateTask] | type[SummariseTask] | type[SentimentTask]] = {
    "validate": ValidateTask,
    "summarise": SummariseTask,
    "sentiment": SentimentTask,
}


def make_task(name: TaskName, backend: Backend | None = None) -> Task:
    """A new task of the given name; ``backend``, when given, is the one the summarise and
    sentiment tasks call (else each run builds one from its settings)."""
    if name == "summarise":
        return SummariseTask(backend=backend)
    if name == "sentiment":
        return SentimentTask(backend=backend)
    return ValidateTask()


__all__ = ["TASKS", "SentimentTask", "SummariseTask", "ValidateTask", "make_task"]
