"""Evaluation of what the self says about its owner: a questions file, and how its answers score.

`questions` reads the format (`eval/questions.jsonl` with `private.json` and `style.json` beside it);
`scoring` judges answers: facts recalled, abstention where the owner's notes hold no answer, the
owner's style, private facts leaked, time per answer. Both are pure: the daemon's `secondmectl eval`
and the training job's base-vs-trained comparison get their answers however they like and score
them here, so the numbers mean the same everywhere.
"""

from secondme.pipeline.evaluation.questions import (
    EvalFormatError,
    EvalSet,
    PrivateFact,
    Question,
    StyleMarkers,
    load_eval_set,
    parse_questions,
)
from secondme.pipeline.evaluation.scoring import (
    AnswerScore,
    EvalReport,
    abstains,
    evaluate,
    score_answer,
    summarize,
)

__all__ = [
    "AnswerScore",
    "EvalFormatError",
    "EvalReport",
    "EvalSet",
    "PrivateFact",
    "Question",
    "StyleMarkers",
    "abstains",
    "evaluate",
    "load_eval_set",
    "parse_questions",
    "score_answer",
    "summarize",
]
