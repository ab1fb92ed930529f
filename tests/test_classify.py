"""Tests of the default keyword classifier, including accuracy on a labelled chat dataset.

Run with ``pytest -s`` to see the accuracy report.
"""

from collections import defaultdict

import pytest

from responso_chat.conversation.classify import (
    LANGUAGES,
    Classification,
    Classifier,
    KeywordClassifier,
    detect_language,
    normalize,
)
from responso_chat.vocab import CONTEXTS, SENTIMENTS
from tests.classify_dataset import DATASET, HELD_OUT

MIN_ACCURACY = 0.8
MIN_HELD_OUT_ACCURACY = 0.7


@pytest.fixture(scope="module")
def classifier():
    return KeywordClassifier()


def sentiment(classifier, text):
    return classifier.classify(text).sentiment


def accuracy(classifier, rows):
    """``{"all"|language: (sentiment accuracy, context accuracy, count)}`` and the misses."""
    hits = defaultdict(lambda: [0, 0, 0])
    misses = []
    for language, text, expected_sentiment, expected_context in rows:
        result = classifier.classify(text)
        for key in ("all", language):
            hits[key][0] += result.sentiment == expected_sentiment
            hits[key][1] += result.context == expected_context
            hits[key][2] += 1
        if (result.sentiment, result.context) != (expected_sentiment, expected_context):
            misses.append((text, expected_sentiment, expected_context, result))
    scores = {key: (s / n, c / n, n) for key, (s, c, n) in hits.items()}
    return scores, misses


def report(title, scores, misses):
    print(f"\n{title}")
    print(f"  {'':4} {'n':>4} {'sentiment':>10} {'context':>8}")
    for key in ("all", *LANGUAGES):
        if key in scores:
            s, c, n = scores[key]
            print(f"  {key:4} {n:4} {s:10.3f} {c:8.3f}")
    for text, want_sentiment, want_context, got in misses:
        print(
            f"  miss: {text!r}: want {want_sentiment}/{want_context},"
            f" got {got.sentiment}/{got.context}"
        )


def test_dataset_is_large_and_well_formed():
    per_language = defaultdict(int)
    for language, text, expected_sentiment, expected_context in DATASET + HELD_OUT:
        assert language in LANGUAGES and text
        assert expected_sentiment in SENTIMENTS and expected_context in CONTEXTS
        per_language[language] += 1
    assert len(DATASET) >= 180
    assert all(n >= 60 for n in per_language.values())
    assert len(HELD_OUT) >= 30


def test_accuracy_on_the_dataset(classifier, record_property):
    scores, misses = accuracy(classifier, DATASET)
    report("Keyword classifier on the tuning set", scores, misses)
    sentiment_accuracy, context_accuracy, _n = scores["all"]
    record_property("sentiment_accuracy", round(sentiment_accuracy, 3))
    record_property("context_accuracy", round(context_accuracy, 3))
    assert sentiment_accuracy >= MIN_ACCURACY
    assert context_accuracy >= MIN_ACCURACY


def test_accuracy_on_the_held_out_set(classifier, record_property):
    scores, misses = accuracy(classifier, HELD_OUT)
    report("Keyword classifier on the held-out set", scores, misses)
    sentiment_accuracy, context_accuracy, _n = scores["all"]
    record_property("held_out_sentiment_accuracy", round(sentiment_accuracy, 3))
    record_property("held_out_context_accuracy", round(context_accuracy, 3))
    assert sentiment_accuracy >= MIN_HELD_OUT_ACCURACY
    assert context_accuracy >= MIN_HELD_OUT_ACCURACY


def test_language_detection_on_the_dataset():
    right = sum(detect_language(text) == language for language, text, *_ in DATASET)
    assert right / len(DATASET) >= 0.9


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I am happy with the order", "positive"),
        ("I am not happy with the order", "negative"),
        ("not bad", "positive"),
        ("Je suis content", "positive"),
        ("Je ne suis pas content", "negative"),
        ("pas mal", "positive"),
        ("Jestem zadowolony", "positive"),
        ("Nie jestem zadowolony", "negative"),
        ("nie jest źle", "positive"),
    ],
)
def test_negation(classifier, text, expected):
    assert sentiment(classifier, text) == expected


@pytest.mark.parametrize(
    "plain, intensified",
    [
        ("The delivery was quick", "The delivery was really quick"),
        ("La livraison était rapide", "La livraison était très rapide"),
        ("Dostawa była szybka", "Dostawa była naprawdę szybka"),
    ],
)
def test_intensifiers_strengthen_a_weak_word(classifier, plain, intensified):
    assert sentiment(classifier, plain) == "neutral"
    assert sentiment(classifier, intensified) == "positive"


@pytest.mark.parametrize("word", ["very", "really", "extremely"])
def test_intensifiers_work_with_negation(classifier, word):
    assert sentiment(classifier, f"I am not {word} happy") == "negative"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my order arrived :)", "positive"),
        ("my order arrived :-(", "negative"),
        ("my order arrived :(", "negative"),
        ("my order arrived 😡", "negative"),
        ("my order arrived 🙂", "positive"),
        ("my order arrived 👍", "positive"),
        ("see https://example.com/page", "neutral"),
    ],
)
def test_emoticons_and_emoji(classifier, text, expected):
    assert sentiment(classifier, text) == expected


def test_exclamation_marks_and_capitals_intensify_negativity(classifier):
    assert sentiment(classifier, "There is a problem with my order") == "neutral"
    assert sentiment(classifier, "There is a problem with my order!!") == "negative"
    assert sentiment(classifier, "THERE IS A PROBLEM WITH MY ORDER") == "negative"
    assert sentiment(classifier, "THANK YOU SO MUCH") == "positive"


def test_politeness_is_positive_only_without_anything_negative(classifier):
    assert sentiment(classifier, "Thanks") == "positive"
    assert sentiment(classifier, "merci") == "positive"
    assert sentiment(classifier, "dziękuję") == "positive"
    assert sentiment(classifier, "Thanks, but the mug arrived broken") == "negative"
    assert sentiment(classifier, "Dziękuję, ale paczka jest uszkodzona") == "negative"


@pytest.mark.parametrize(
    "accented, plain",
    [
        ("Très déçu, colis abîmé", "TRES DECU, COLIS ABIME"),
        ("Przesyłka uszkodzona, jestem rozczarowany", "przesylka USZKODZONA, jestem rozczarowany"),
        ("Zażółć gęślą jaźń", "zazolc gesla jazn"),
    ],
)
def test_matching_ignores_accents_and_case(classifier, accented, plain):
    assert normalize(accented).lower() == normalize(plain)
    a, b = classifier.classify(accented), classifier.classify(plain)
    assert (a.sentiment, a.context) == (b.sentiment, b.context)


def test_polish_inflections(classifier):
    for text in ("Jestem zadowolona", "Zadowoleni klienci", "Świetna obsługa", "Dziękujemy"):
        assert sentiment(classifier, text) == "positive", text
    for text in ("Rozczarowująca obsługa", "Okropne", "Fatalnie", "Beznadziejnie"):
        assert sentiment(classifier, text) == "negative", text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Where is my order?", "order_status"),
        ("The courier lost my parcel", "shipping"),
        ("I want a refund", "return"),
        ("The lamp arrived broken and I want a refund", "complaint"),
        ("Puis-je payer par carte ?", "payment"),
        ("Czy ten sweter jest dostępny w rozmiarze M?", "product_question"),
        ("Hello there", "other"),
    ],
)
def test_contexts(classifier, text, expected):
    assert classifier.classify(text).context == expected


def test_the_subject_counts_for_the_context(classifier):
    assert classifier.classify("It is still not here").context == "other"
    assert classifier.classify("It is still not here", subject="Delivery").context == "shipping"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Where is my parcel?", "en"),
        ("Où est mon colis ?", "fr"),
        ("Gdzie jest moja paczka?", "pl"),
        ("Gdzie jest moja paczka", "pl"),
        ("ou est mon colis", "fr"),
        ("12345", "en"),
        ("", "en"),
    ],
)
def test_detect_language(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        " \n\t ",
        "!!!???",
        "x" * 1_000_000,
        "not " * 50_000,
        "🙂😡" * 10_000,
        "\u0000\u200b\ufeff\u202e",
        "ﬁ ﬀ Ⅻ ２３ ｈｅｌｌｏ",
        "Привет, где мой заказ?",
        "你好，我的订单在哪里？",
        "\ud800",
        "ǅ İ ẞ ŉ",
    ],
)
def test_never_raises_on_odd_input(classifier, text):
    result = classifier.classify(text, subject=text[:100])
    assert result.sentiment in SENTIMENTS
    assert result.context in CONTEXTS
    assert result.language in LANGUAGES


def test_result_is_a_frozen_classification_and_the_protocol_fits(classifier):
    result = classifier.classify("The parcel is late")
    assert isinstance(result, Classification)
    with pytest.raises(AttributeError):
        result.sentiment = "positive"
    assert isinstance(classifier, Classifier)
