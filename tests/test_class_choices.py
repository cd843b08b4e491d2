"""A lesson question as a class poll: a few distinct choices, exactly one of them the lesson's
answer (judged by the lesson's own checker), every other one judged wrong and given a reason."""
from __future__ import annotations

import pytest

from cnnviz.lesson import answers, class_choices, questions
from cnnviz.lesson.question_types import CHOICE

SEEDS = range(0, 120)


@pytest.mark.parametrize("step", range(1, 9))
def test_every_question_becomes_a_fair_poll(step):
    topics = set()
    for seed in SEEDS:
        q = questions.question(step, seed)
        poll = class_choices.from_question(q)
        topics.add(q.topic)
        assert 3 <= len(poll.choices) <= class_choices.MAX_CHOICES, (q.topic, poll.choices)
        assert len(set(poll.choices)) == len(poll.choices)
        assert len(poll.why_wrong) == len(poll.choices) and poll.why_wrong[poll.right] == ""
        for i, choice in enumerate(poll.choices):
            typed = choice.replace("−", "-").replace(",", "") if q.kind != CHOICE else choice
            assert answers.check(q, typed).correct == (i == poll.right), (q.topic, choice, q.answer)
            if i != poll.right:
                assert poll.why_wrong[i], (q.topic, choice)
        assert class_choices.from_question(q) == poll          # the same seed, the same poll
    assert topics


def test_the_mistakes_are_the_ones_students_make():
    q = next(q for s in SEEDS if (q := questions.question(2, s)).topic == "output_size"
             and dict(q.facts)["padding"] == "valid")
    f = dict(q.facts)
    poll = class_choices.from_question(q)
    forgot_one = f"{(f['input'] - f['kernel']) // f['stride']:,}"
    assert forgot_one in poll.choices
    assert "forgets the + 1" in poll.why_wrong[poll.choices.index(forgot_one)]
    q = next(q for s in SEEDS if (q := questions.question(6, s)).topic == "dense_params")
    (h, _, c), u = dict(q.facts)["map"], dict(q.facts)["units"]
    poll = class_choices.from_question(q)
    assert f"{h * h * c * u:,}" in poll.choices                           # no biases
    assert "bias" in poll.why_wrong[poll.choices.index(f"{h * h * c * u:,}")]


def test_the_network_answer_poll():
    poll = class_choices.network_answer([0.05, 0.9, 0.05], ["cat", "dog", "bird"])
    assert poll.choices == ("cat", "dog", "bird") and poll.right == 1
    assert poll.why_wrong[0] == "the network gives cat only 5%; it answers dog (90%)" and poll.why_wrong[1] == ""
