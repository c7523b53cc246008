"""The local lexicon reads a contact center: empathy and apology are not complaints, negation,
sarcasm, thanks; and its sign agreement on the labelled corpus (bench/data/sentiment_corpus.jsonl)."""
from __future__ import annotations

import pytest

from bench.bench_sentiment import BASELINE_AGREEMENT, GOAL, THRESHOLD, evaluate, load_corpus, sign, split_rows
from ccaas.domain.analytics import LocalLexiconSentiment

LOCAL = LocalLexiconSentiment()


def score(text: str) -> float:
    return LOCAL.analyze([text])[0]


@pytest.mark.parametrize(
    "text",
    [
        "I'm so sorry for the trouble.",
        "I apologize for the wait.",
        "I do apologize about the delay.",
        "I understand how frustrating that is.",
        "I apologize, I understand how frustrating this must be.",
        "That must be really frustrating.",
        "I completely understand why you're upset.",
        "Unfortunately that promotion ended last month.",
        "Let me look into that problem for you.",
        "Sorry, can you repeat that?",
    ],
)
def test_empathy_apology_and_handling_talk_are_neutral(text: str):
    assert abs(score(text)) <= THRESHOLD


def test_apology_with_a_resolution_is_positive():
    assert score("I'm sorry for the trouble, I'll refund you right away") > THRESHOLD
    assert score("I'm so sorry about that, I've fixed it now and you're all set.") > THRESHOLD


def test_empathy_does_not_hide_a_complaint():
    assert score("I'm sorry, but this is unacceptable") < -THRESHOLD  # "but" ends the empathy scope
    assert score("Sorry, this is ridiculous") < -THRESHOLD  # so does clause punctuation
    assert score("I don't understand why it's still not working") < -THRESHOLD  # negated cue: no empathy
    assert score("I've got a problem with my bill") < -THRESHOLD  # a problem reported, not referred to


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Not bad at all.", "positive"),
        ("No problem.", "positive"),
        ("I've never had an issue with you before.", "positive"),
        ("Honestly, I can't complain.", "positive"),
        ("I don't have any complaints.", "positive"),
        ("No issues so far.", "positive"),
        ("I'm not happy at all.", "negative"),
        ("That didn't fix anything.", "negative"),
        ("My package never arrived.", "negative"),
        ("I've had nothing but problems since I switched.", "negative"),
        ("No, I don't have the order number.", "neutral"),
    ],
)
def test_negation(text: str, expected: str):
    assert sign(score(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Great, just great, third time I'm calling.",
        "Oh wonderful, another hold.",
        "Perfect, now it's broken again.",
        "Amazing, still no refund.",
        "Thanks for nothing.",
        "Yeah right, like that will happen.",
        "I just love waiting on hold for an hour.",
    ],
)
def test_sarcasm_is_negative(text: str):
    assert score(text) < -THRESHOLD


@pytest.mark.parametrize(
    "text",
    ["Thanks again for your help.", "It's working again, great.", "Oh great, that worked!", "Great, thank you."],
)
def test_sincere_praise_near_a_cue_word_stays_positive(text: str):
    assert score(text) > THRESHOLD


def test_sarcasm_needs_the_cue_nearby():
    far = "Great, thank you for explaining all of that so clearly to me, I will call again"
    assert score(far) > 0


@pytest.mark.parametrize(
    "text",
    ["Thank you.", "Thanks for your help.", "Thank you for your patience.", "Cheers, thanks a lot.", "I really appreciate it."],
)
def test_thanks_is_positive(text: str):
    assert score(text) > THRESHOLD


def test_downtoner_and_intensifier():
    assert -THRESHOLD * 4 < score("It's a bit slow.") < -THRESHOLD
    assert score("extremely disappointed") < score("disappointed") < 0


def test_tenant_entries_still_override_the_contact_center_rules():
    custom = LocalLexiconSentiment({"sorry": -2})  # a tenant that wants apologies counted
    assert custom.analyze(["sorry"])[0] < 0


def test_corpus_is_labelled_and_large_enough():
    rows = load_corpus()
    assert len(rows) >= 300
    assert {r["label"] for r in rows} == {"positive", "negative", "neutral"}
    assert {r["speaker"] for r in rows} == {"AGENT", "CUSTOMER"}
    assert all(r["text"] and r["note"] and r["split"] in ("dev", "holdout") for r in rows)
    assert len({r["text"] for r in rows}) == len(rows)
    assert len(split_rows(rows, "holdout")) == BASELINE_AGREEMENT["holdout"][1]
    assert len(rows) == BASELINE_AGREEMENT["all"][1]  # the stored baseline was measured on this very set


@pytest.mark.parametrize("split", ["all", "holdout"])
def test_corpus_sign_agreement_meets_the_goal(split: str):
    rows = split_rows(load_corpus(), split)
    result = evaluate([r["label"] for r in rows], LOCAL.analyze([r["text"] for r in rows]))
    assert result["agreement"] >= GOAL
    agreeing, n = BASELINE_AGREEMENT[split]
    assert result["agreement"] > agreeing / n
    floor = 0.8 if split == "all" else 0.6  # holdout: complaints without a sentiment word are the known gap
    for label, stats in result["per_label"].items():
        assert stats["recall"] >= floor and stats["precision"] >= floor, label


def test_evaluate_counts_precision_and_recall_by_hand():
    result = evaluate(["positive", "negative", "neutral", "neutral"], [2.0, 0.2, 0.0, -3.0])
    assert result["agreeing"] == 2 and result["agreement"] == 0.5
    assert result["per_label"]["positive"] == {"precision": 1.0, "recall": 1.0, "rows": 1}
    assert result["per_label"]["negative"] == {"precision": 0.0, "recall": 0.0, "rows": 1}
    assert result["per_label"]["neutral"] == {"precision": 0.5, "recall": 0.5, "rows": 2}


# --- found by the outside set (bench/data/sentiment_outside.jsonl, issue 18 review) ---------------------


@pytest.mark.parametrize(
    "text",
    [
        "Apologies, our system is slow today.",  # a cue ending its clause reaches into the next
        "Sorry, the delay was on our side.",
        "That's terrible, I'm sorry that happened to you.",  # the clause before the cue is taken back
        "I can imagine how annoying that is, I'd be upset too.",
    ],
)
def test_empathy_across_a_comma_is_not_negative(text: str):
    assert sign(score(text)) != "negative", score(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm sorry, but this is unacceptable.",  # "but" still ends the apology
        "This is terrible, but sorry to bother you.",
        "It's been a nightmare dealing with you people.",
        "I'm worried my card was stolen.",
        "That's not my problem, you should have read the contract.",  # negation no longer makes it praise
    ],
)
def test_complaints_stay_negative(text: str):
    assert sign(score(text)) == "negative", score(text)


def test_the_outside_set_meets_the_goal():
    from bench.bench_sentiment import OUTSIDE

    rows = load_corpus(OUTSIDE)
    assert len(rows) >= 75
    result = evaluate([r["label"] for r in rows], LOCAL.analyze([r["text"] for r in rows]))
    assert result["agreement"] >= GOAL, result
