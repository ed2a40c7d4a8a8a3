"""The learned ranking, measured on the labelled corpus of real papers and look-alikes."""

from __future__ import annotations

import pytest

from harvester.evaluate import measure
from harvester.rank import LogisticModel, Vectorizer, roc_auc, tokens
from harvester.sources.arxiv import to_record
from tests.loopback import load_corpus


def test_roc_auc_counts_ties_as_half():
    assert roc_auc([0.9, 0.8, 0.1], [1, 1, 0]) == 1.0
    assert roc_auc([0.1, 0.8, 0.9], [1, 1, 0]) == 0.0
    assert roc_auc([0.5, 0.5], [1, 0]) == 0.5
    with pytest.raises(ValueError):
        roc_auc([0.1], [1])


def test_tokens_are_stemmed_words_and_bigrams():
    assert tokens("Early exits for the BERT") == [
        "early",
        "exit",
        "bert",
        "early exit",
        "exit bert",
    ]


def test_logistic_model_separates_what_it_was_shown():
    docs = [
        tokens(t)
        for t in [
            "early exit network",
            "early exit bert",
            "skip connection resnet",
            "early stopping training",
        ]
    ]
    vectorizer = Vectorizer.fit(docs * 2)
    model = LogisticModel.fit([vectorizer.transform(d) for d in docs], [1, 1, 0, 0])
    assert model.predict(vectorizer.transform(tokens("an early exit model"))) > 0.5
    assert model.predict(vectorizer.transform(tokens("early stopping for resnet"))) < 0.5


def test_learned_ranking_sinks_lookalikes_on_held_out_papers(db, seeds):
    from harvester.sources.arxiv import parse_feed
    from tests.loopback import render_feed

    corpus = load_corpus()
    feed = parse_feed(render_feed(corpus, len(corpus), 0, len(corpus)))
    records = {r.arxiv_id: r for r in (to_record(x) for x in feed.results)}
    labelled = [(records[e.arxiv_id], e.label) for e in corpus]
    quality = measure(db, seeds, labelled)
    assert quality.test > 40 and quality.train > 40
    assert quality.auc_learned >= 0.9
    assert quality.auc_learned >= quality.auc_cold
    assert quality.category_learned >= 0.7
