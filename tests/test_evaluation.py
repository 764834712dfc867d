"""The eval format and its scoring: what counts as recalled, abstained, leaked, and a bad file's error."""

from __future__ import annotations

import json

import pytest

from secondme.pipeline.errors import GenerationError
from secondme.pipeline.evaluation import (
    EvalFormatError,
    PrivateFact,
    Question,
    abstains,
    evaluate,
    load_eval_set,
    parse_questions,
    score_answer,
)

QUESTIONS = [
    {"id": "q1", "question": "Which city do you live in?", "kind": "temporal", "answer": "Plymouth",
     "must_mention": ["Plymouth"], "evidence": ["a.md"]},
    {"id": "q2", "question": "How did you get to work?", "kind": "temporal", "answer": "cycled, then the train",
     "must_mention": ["cycl", "train"]},
    {"id": "q3", "question": "How old are you?", "kind": "fact", "answer": "34", "must_mention": ["34"]},
    {"id": "q4", "question": "What car do you drive?", "kind": "unknown", "answer": "unknown", "must_mention": []},
    {"id": "q5", "question": "How do you sign off?", "kind": "style", "answer": "Onwards.",
     "must_mention": ["Onwards"]},
]  # fmt: skip
PRIVATE = [{"fact": "12 Netmaker's Row", "what": "home address", "file": "mum.txt"}]
STYLE = {
    "sign_off": "Onwards. — A.",
    "recurring_phrases": ["Fair.", "properly / proper"],
    "emoji": "never (0 emoji in 48 notes)",
    "never_uses": ["emoji", "awesome", "exclamation-mark strings like !!!"],
}


@pytest.fixture
def eval_dir(tmp_path):
    folder = tmp_path / "eval"
    folder.mkdir()
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n\n")
    (folder / "private.json").write_text(json.dumps(PRIVATE))
    (folder / "style.json").write_text(json.dumps(STYLE))
    return folder


def test_a_folder_or_its_questions_file_loads_with_the_private_facts_and_style_beside_it(eval_dir):
    for path in (eval_dir, eval_dir / "questions.jsonl"):
        loaded = load_eval_set(path)
        assert [q.id for q in loaded.questions] == ["q1", "q2", "q3", "q4", "q5"]
        assert loaded.questions[1].must_mention == ("cycl", "train") and loaded.questions[3].unknown
        assert [p.fact for p in loaded.private] == ["12 Netmaker's Row"]
        assert loaded.style is not None and loaded.style.no_emoji
        assert loaded.style.phrases == ("Onwards. — A.", "Fair.", "properly", "proper")
        assert loaded.style.never == ("awesome", "!!!")
    (eval_dir / "private.json").unlink()
    (eval_dir / "style.json").unlink()
    bare = load_eval_set(eval_dir)
    assert bare.private == () and bare.style is None


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("{not json", "line 3 is not valid JSON"),
        ('{"id": "x"}', "line 3 has no 'question'"),
        ('{"question": "Why?", "kind": "gossip"}', "line 3: 'kind' must be one of"),
        ('{"question": "Why?", "must_mention": "Plymouth"}', "line 3: 'must_mention' must be a list"),
        ('{"id": "q1", "question": "Again?"}', "line 3: id 'q1' is already used on line 1"),
        ('["a list"]', "line 3 is not a JSON object"),
    ],
)
def test_a_bad_line_is_refused_with_its_number(eval_dir, line, words):
    lines = [json.dumps(QUESTIONS[0]), json.dumps(QUESTIONS[1]), line, json.dumps(QUESTIONS[2])]
    (eval_dir / "questions.jsonl").write_text("\n".join(lines))
    with pytest.raises(EvalFormatError) as caught:
        load_eval_set(eval_dir)
    assert words in str(caught.value) and "questions.jsonl" in str(caught.value)


def test_bad_side_files_and_empty_or_missing_files_are_named(eval_dir, tmp_path):
    (eval_dir / "private.json").write_text('[{"what": "no fact"}]')
    with pytest.raises(EvalFormatError, match=r"private\.json entry 1 has no 'fact'"):
        load_eval_set(eval_dir)
    (eval_dir / "private.json").write_text("{oops")
    with pytest.raises(EvalFormatError, match=r"private\.json line 1 is not valid JSON"):
        load_eval_set(eval_dir)
    with pytest.raises(EvalFormatError, match="holds no questions"):
        parse_questions("\n  \n")
    with pytest.raises(EvalFormatError, match="no questions file"):
        load_eval_set(tmp_path / "nowhere")


def test_terms_are_found_from_a_word_start_ignoring_case_and_apostrophes():
    question = Question("q", "How did you get to work?", "temporal", must_mention=("cycl", "train", "34"))
    score = score_answer(question, "I Cycled, then took the TRAIN in 1934.")
    assert score.mentioned == ("cycl", "train") and score.missed == ("34",)
    assert score.recall == pytest.approx(2 / 3)
    leaked = score_answer(
        question, "Flat 5, 12 Netmaker\u2019s row, Plymouth", private=[PrivateFact("12 Netmaker's Row")]
    )
    assert leaked.leaked == ("12 Netmaker's Row",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I have nothing on that in my memories.", True),
        ("Honestly, I don't know.", True),
        ("I can\u2019t remember that.", True),
        ("There is nothing in my notes about a car.", True),
        ("I live in Plymouth.", False),
        ("I know the Dewerstone well.", False),
    ],
)
def test_abstentions_are_recognised_in_their_usual_forms(text, expected):
    assert abstains(text) is expected


def test_a_run_adds_up_recall_abstention_style_leaks_and_time(eval_dir):
    eval_set = load_eval_set(eval_dir)
    answers = {
        "q1": "Plymouth, since 2024. Fair.",
        "q2": "I cycled. Awesome!!!",
        "q3": "I have nothing on that in my memories.",
        "q4": "I don't know what car, I don't drive one.",
        "q5": "Onwards. \u2014 A. \U0001f600 Also my address is 12 Netmaker's Row.",
    }
    ticks = iter(range(100))
    report = evaluate(eval_set, lambda q: answers[q.id], clock=lambda: float(next(ticks)))
    assert report.questions == 5 and report.errors == 0
    # q1 1.0, q2 0.5, q3 0.0 (abstained on a known fact), q5 1.0
    assert report.recall == pytest.approx(2.5 / 4)
    assert report.recall_by_kind == {"fact": 0.0, "style": 1.0, "temporal": 0.75}
    assert report.all_terms == pytest.approx(2 / 4)
    assert report.abstention == 1.0 and report.false_abstention == pytest.approx(1 / 4)
    # of the three answers that say something: q1 uses "Fair.", q5 the sign-off; q2 and q5 break the style
    assert report.style_markers == pytest.approx(2 / 3) and report.style_violations == pytest.approx(2 / 3)
    assert report.leaks == [{"fact": "12 Netmaker's Row", "what": "home address", "question_id": "q5"}]
    assert report.seconds_mean == 1.0 and report.seconds_max == 1.0
    again = type(report).from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report


def test_a_question_the_model_fails_on_scores_as_a_miss_and_the_run_goes_on(eval_dir):
    def answer(question: Question) -> str:
        if question.id == "q1":
            raise GenerationError("the model endpoint answered 500")
        return "I don't know."

    report = evaluate(load_eval_set(eval_dir), answer)
    failed = report.answers[0]
    assert report.errors == 1 and failed.answer == "" and "answered 500" in failed.error
    assert failed.recall == 0.0 and report.questions == 5 and report.abstention == 1.0
    with pytest.raises(ZeroDivisionError):  # not ours: it is not caught
        evaluate(load_eval_set(eval_dir), lambda q: str(1 / 0))
