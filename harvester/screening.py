"""The ranking of one database, trained once per state of its papers and decisions.

Every read of the queue (``status``, ``review list``, the page, ``report``) wants each
paper's probability of being relevant and the category it is shown under. Training them
costs seconds at 20,000 papers (features of every paper, TF-IDF over every text), so it is
done when what it learns from changes, and kept:

- **features** (``ranking.PaperFeatures``) per paper, recomputed only for the papers whose
  text, hits or links changed since they were computed;
- the **prior** (the vocabulary of every paper and the seeds' text model), refitted only when
  the texts or the seed papers change, and with it the **table** (``ranking.Table``: every
  paper's features in arrays), from which a decision retrains the linear model and scores
  every paper without reading a feature record;
- the **order** (each paper's score and suggested category) and the **model** (the trained
  ``Ranker`` and ``CategoryModel``), keyed by the last decision's id.

They live in memory (the review app keeps them between requests) and in a folder beside the
database (``<db>-ranking/``, pickles written whole with ``os.replace``), so a second command
reads them instead of training; where that folder cannot be written, each process trains
for itself. The key of the order is cheap to read (a few aggregates, ``store.papers.
ranking_state``, and the last decision id): a read whose key matches never trains.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import pickle
import secrets
import signal
import threading
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from sqlite_utils import Database

from harvester import __version__, store
from harvester.errors import HarvesterError
from harvester.features import Decision, PaperFeatures, Scored, explain, paper_features
from harvester.seeds import Seeds

if TYPE_CHECKING:
    # scikit-learn takes seconds to import: only training and naming words need it, so a
    # read of a kept order never loads it (``ranking`` is imported where it trains).
    from harvester.ranking import CategoryModel, Prior, Ranker, Table

# Bumped when what is pickled changes shape; the package version is part of the key too.
CACHE_FORMAT = 6
# Up to this many papers, an explanation computes their features instead of loading all.
FEW = 200
# Seconds a child training ahead may take (about one after a decision) before it is ended.
AHEAD_LIMIT = 120.0


@dataclass(frozen=True)
class Order:
    """What every read of the queue needs: each paper's score and suggested category."""

    key: tuple[Any, ...]
    # Plain dicts of floats, not ``Scored`` records: every read unpickles them, and 20,000
    # small objects took 30 times as long to load as two dicts.
    probability: dict[int, float]
    prior: dict[int, float]
    suggested: dict[int, str | None]
    # The learned model's share of the score; None before there is one.
    trust: float | None
    accepted_s2: frozenset[str]
    rejected_s2: frozenset[str]

    def links(self, paper: PaperFeatures) -> tuple[int, int]:
        """Accepted papers it cites; rejected papers it cites or is cited by."""
        return (
            len(paper.cites & self.accepted_s2),
            len((paper.cites | paper.cited_by) & self.rejected_s2),
        )

    def scored(self, paper_id: int) -> Scored | None:
        """The paper's probability and its prior's, or None for a paper it has not seen."""
        probability = self.probability.get(paper_id)
        if probability is None:
            return None
        return Scored(paper_id, probability, self.prior[paper_id])


@dataclass
class Model:
    """The trained ranking and category model behind an ``Order``, for explanations."""

    key: tuple[Any, ...]
    ranker: Ranker
    categories: CategoryModel


@dataclass
class _State:
    """What one process holds of one database."""

    order: Order | None = None
    model: Model | None = None
    features: dict[int, PaperFeatures] = field(default_factory=dict)
    features_state: tuple[Any, ...] | None = None
    prior: Prior | None = None
    prior_digest: str | None = None
    # The feature table, keyed by the papers' state and the seed papers, with the digest of
    # the prior it was made with.
    table: tuple[tuple[Any, ...], str, Table] | None = None
    # The category model and every paper's suggestion, with what they were made from.
    filed: tuple[tuple[Any, ...], CategoryModel, dict[int, str | None]] | None = None
    # One training at a time: a request arriving while another trains for the same key
    # waits for it and reads its result.
    lock: threading.RLock = field(default_factory=threading.RLock)
    # The thread training in the background for ``order_now``'s readers, while it runs.
    trainer: threading.Thread | None = None
    scheduling: threading.Lock = field(default_factory=threading.Lock)
    # The child process ``training_ahead`` started, until it is waited for.
    ahead: int | None = None


_STATES: dict[tuple[str, str], _State] = {}
logger = logging.getLogger(__name__)


def shown_category(row: Mapping[str, Any], order: Order) -> str | None:
    """The one category a paper is shown, counted, filtered and filed under.

    What a person decided (an accepted paper's category, or a category set by hand) stands;
    for every other paper it is the ranking's suggestion (``ranking.suggest_category``).
    """
    return category_of(
        int(row["id"]), row.get("status"), row.get("category"), row.get("manual_fields"), order
    )


def category_of(
    paper_id: int, status: str | None, stored: str | None, manual: str | None, order: Order
) -> str | None:
    """``shown_category`` from the columns themselves (the queue tests every paper)."""
    # ``manual_fields`` is a JSON list of field names: the quoted name is in it or not.
    if status == "accepted" or '"category"' in (manual or ""):
        return stored
    return order.suggested.get(paper_id, stored)


def seeds_digest(seeds: Seeds) -> str:
    """What of the seeds and the code the cached ranking depends on: the seeds folder's
    files (a curator's edit retrains), the cache format and the package version."""
    cached = _DIGESTS.get(id(seeds))
    if cached is not None and cached[0] is seeds:
        return cached[1]
    digest = hashlib.sha256(f"{CACHE_FORMAT} {__version__}".encode())
    root = Path(seeds.root)
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        with contextlib.suppress(OSError):
            digest.update(path.read_bytes())
    if not files:
        digest.update(repr(seeds.categories).encode())
    _DIGESTS[id(seeds)] = (seeds, digest.hexdigest()[:16])
    return _DIGESTS[id(seeds)][1]


_DIGESTS: dict[int, tuple[Seeds, str]] = {}


def order_key(db: Database, seeds: Seeds) -> tuple[Any, ...]:
    """The key the order is kept under: the seeds, the papers' state, the last decision."""
    return (
        seeds_digest(seeds),
        store.papers.ranking_state(db),
        store.decisions.last_decision(db),
    )


def order(db: Database, seeds: Seeds) -> Order:
    """The current order: from memory, else from the cache folder, else trained (and kept)."""
    key = order_key(db, seeds)
    state = _state(db, seeds)
    if state.order is not None and state.order.key == key:
        return state.order
    with state.lock:
        _join_ahead(state)  # a child training this order keeps it in the folder
        if state.order is not None and state.order.key == key:
            return state.order  # trained by another thread meanwhile
        cached = _load(db, "order")
        if isinstance(cached, Order) and cached.key == key:
            state.order = cached
            return cached
        return _train(db, seeds, state, key).order  # type: ignore[return-value]


@contextlib.contextmanager
def training_ahead(db: Database, seeds: Seeds) -> Iterator[None]:
    """Within the block, the current order trains in a child process while this one does
    what needs no ranking (``report``: the list, the yearly pages, the feed, the BibTeX):
    the first ``order`` in the block waits for the child and reads the order it kept.
    Leaving the block waits for the child too, or ends it on an error.

    After a decision, training is mostly importing scikit-learn, a second of one core; the
    machine has others. The child reads nothing of the database (a connection must not
    cross a fork): the caller reads the key and the decisions, the rest is what the cache
    folder keeps. So it starts only for a database file whose order is not kept, on a
    platform that forks, from a process with no other thread (a fork copies only the
    calling one: a lock another holds would never be released in the child), into a cache
    folder it can write. Whatever the child cannot do (the features are not kept, it failed),
    ``order`` then trains here as it always did: what is read is never an older order.
    """
    state = _start_ahead(db, seeds)
    try:
        yield
    except BaseException:
        if state is not None:
            _join_ahead(state, end=True)
        raise
    finally:
        if state is not None:
            _join_ahead(state)


def _start_ahead(db: Database, seeds: Seeds) -> _State | None:
    folder = cache_folder(db)
    if folder is None or not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    if not os.access(folder if folder.exists() else folder.parent, os.W_OK):
        return None  # the child could not keep what it trained: this process trains
    key = order_key(db, seeds)
    state = _state(db, seeds)
    if state.ahead is not None or (state.order is not None and state.order.key == key):
        return None
    cached = _load(folder, "order")
    if isinstance(cached, Order) and cached.key == key:
        state.order = cached
        return None
    facts = _facts(db, seeds, key)
    with warnings.catch_warnings():
        # From Python 3.12 a fork beside any thread warns, numpy's BLAS pool included; that
        # pool stops itself across a fork, and there is no other Python thread (above).
        warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child, which ends in _train_alone
        _train_alone(facts, seeds, state, folder)
    state.ahead = pid
    return state


class _NeedsTheDatabase(Exception):
    """The features are not kept: only a process with its own connection can make them."""


def _train_alone(facts: _Facts, seeds: Seeds, state: _State, folder: Path) -> NoReturn:
    """The child's part: train from what the folder keeps, keep the result there, and end
    without the parent's clean-up (its connection, its buffered output are the parent's)."""
    code = 1
    try:
        # No garbage collection in the child: it lives about a second, the parent's objects
        # are left untouched, and importing scikit-learn takes a tenth less time (0.8 s
        # against 0.9 s) without the collector's passes over what the import makes.
        gc.disable()

        def kept_features() -> dict[int, PaperFeatures]:
            current, _, features = _kept_features(folder, state, facts.papers_state)
            if not current:
                raise _NeedsTheDatabase
            return features

        _train_on(facts, seeds, state, folder, kept_features)
        code = 0
    except BaseException:  # whatever it was, the parent trains for itself
        pass
    finally:
        os._exit(code)


def _join_ahead(state: _State, *, end: bool = False) -> None:
    """Wait for the child training ahead, if there is one (ending it first with ``end``, or
    once it has run for ``AHEAD_LIMIT``: a report run by cron must end, and ``order`` then
    trains here)."""
    pid = state.ahead
    if pid is None:
        return
    if end:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    with contextlib.suppress(ChildProcessError):
        deadline = time.monotonic() + AHEAD_LIMIT
        # A few milliseconds a poll against the second or so a training takes.
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
            time.sleep(0.005)
    # Only once waited for: a wait cut short (Ctrl-C) leaves the child to the block's end.
    state.ahead = None


def order_now(db: Database, seeds: Seeds) -> tuple[Order, bool]:
    """The current order and False when it is ready; else the last order kept and True
    (stale: every reader must say so) while the current one trains in the background.

    For the review page, where a curator should not wait seconds for a decision's training:
    statuses and a person's categories are read from the database, so a decided paper leaves
    the queue at once, and only the probabilities and suggestions are the older ones. It
    trains while the caller waits only when there is no order at all to show, or for an
    in-memory database, which no other thread can open.
    """
    key = order_key(db, seeds)
    state = _state(db, seeds)
    if state.order is None:
        cached = _load(db, "order")
        with state.scheduling:
            # A training that finished meanwhile holds a newer order than the file's.
            if state.order is None and isinstance(cached, Order):
                state.order = cached
    held = state.order
    if held is not None and held.key == key:
        return held, False
    if held is None or not _train_later(db, seeds, state):
        return order(db, seeds), False
    return held, True


def wait_for_training(timeout: float | None = None) -> bool:
    """Wait for the background trainings ``order_now`` started; False if one still runs
    after ``timeout`` seconds. For tests, benches and a clean shutdown."""
    for state in list(_STATES.values()):
        trainer = state.trainer
        if trainer is not None:
            trainer.join(timeout)
            if trainer.is_alive():
                return False
    return True


def _train_later(db: Database, seeds: Seeds, state: _State) -> bool:
    """Start a training of the current order in a thread of its own, unless one runs."""
    path = store.lock.database_file(db)
    if not path:
        return False
    with state.scheduling:
        if state.trainer is None or not state.trainer.is_alive():
            state.trainer = threading.Thread(
                target=_train_until_current,
                args=(Path(path), seeds),
                name="harvester-ranking",
                daemon=True,
            )
            state.trainer.start()
    return True


def _train_until_current(path: Path, seeds: Seeds) -> None:
    """Train until the order matches the database: a decision made during a training
    starts the next one here, not on a reader's time."""
    try:
        db = store.open_db(path, access="read")
    except HarvesterError:
        logger.exception("the ranking could not be trained")
        return
    try:
        while True:
            trained = order(db, seeds)
            if trained.key == order_key(db, seeds):
                return
    except Exception:
        # The thread has no caller to tell: readers go on with the order they have (marked
        # stale) and the next read starts another training.
        logger.exception("the ranking could not be trained")
    finally:
        db.close()


def latest(db: Database, seeds: Seeds) -> Order:
    """The last order this process holds, even if a decision has been made since, else
    ``order``: for the answer to a decision, which should not wait for a training (the
    decided paper's own category is a person's or the suggestion made before)."""
    state = _state(db, seeds)
    return state.order if state.order is not None else order(db, seeds)


def model(db: Database, seeds: Seeds) -> tuple[Order, Model, dict[int, PaperFeatures]]:
    """The order with its trained models and every paper's features: what an explanation
    of a paper's score needs. Loads more than ``order`` (the prior's vocabulary)."""
    current = order(db, seeds)
    state = _state(db, seeds)
    with state.lock:
        if state.model is None or state.model.key != current.key:
            cached = _load(db, "model")
            prior = _prior_from_disk(db, state)
            if isinstance(cached, Model) and cached.key == current.key and prior is not None:
                state.model = _with_prior(cached, prior)
            else:
                _train(db, seeds, state, current.key)
        _features(db, seeds, state)
    if state.model is None:  # no papers: nothing was trained
        raise LookupError("no papers to explain")
    return current, state.model, state.features


def model_held(db: Database, seeds: Seeds, current: Order | None = None) -> bool:
    """Whether this process holds the trained model of the current order (naming a paper's
    words then costs nothing; loading it costs the prior's vocabulary and scikit-learn).
    With ``current``, of that order (a stale one has no words to name while it trains)."""
    state = _state(db, seeds)
    key = current.key if current is not None else order(db, seeds).key
    return state.model is not None and state.model.key == key


def explain_lines(
    db: Database,
    seeds: Seeds,
    paper_ids: Sequence[int],
    *,
    words: bool = False,
    current: Order | None = None,
) -> dict[int, str]:
    """The ranking's one-line reason for each of these papers (the rows a reader is shown).

    Without ``words`` it needs only the order and the papers' own features, computed here
    for these papers alone; with it, the trained model too (its strongest words).
    """
    if words:
        try:
            current, trained, features = model(db, seeds)
        except LookupError:
            return {}
        return {
            pid: trained.ranker.explain(features[pid], seeds)
            for pid in paper_ids
            if pid in features
        }
    current = current or order(db, seeds)
    shown = _compute_features(db, seeds, paper_ids)
    trust = current.trust
    return {
        pid: explain(seeds, f, scored, trust=trust, links=current.links(f))
        for pid, f in shown.items()
        if (scored := current.scored(pid)) is not None
    }


# --- training -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    """What a training reads of the database itself: the order's key, the decisions and
    the papers' state. The rest comes from what is kept (memory, the cache folder) or, when
    that is gone, from the papers' rows (``features``)."""

    key: tuple[Any, ...]
    decisions: list[Decision]
    papers_state: tuple[Any, ...]


def _facts(db: Database, seeds: Seeds, key: tuple[Any, ...]) -> _Facts:
    decisions = [
        Decision(pid, status == "accepted", category, seed=seed)
        for pid, status, category, seed in store.papers.decided(db)
    ]
    return _Facts(key, decisions, (seeds_digest(seeds), *store.papers.ranking_state(db)))


def _train(db: Database, seeds: Seeds, state: _State, key: tuple[Any, ...]) -> _State:
    return _train_on(
        _facts(db, seeds, key), seeds, state, cache_folder(db), lambda: _features(db, seeds, state)
    )


def _train_on(
    facts: _Facts,
    seeds: Seeds,
    state: _State,
    folder: Path | None,
    every_feature: Callable[[], dict[int, PaperFeatures]],
) -> _State:
    """Train the order of ``facts`` from what is kept, calling ``every_feature`` for the
    papers' features only where the kept table or category model does not stand."""
    from harvester.ranking import CategoryModel, Prior, Ranker, Table, suggest_categories

    key, decisions, papers_state = facts.key, facts.decisions, facts.papers_state
    seed_ids = sorted(d.paper_id for d in decisions if d.seed and d.accepted)
    kept = _kept_table(folder, state, (papers_state, tuple(seed_ids)))
    features: dict[int, PaperFeatures] | None = None
    if kept is None:
        features = every_feature()
        papers = list(features.values())
        if not papers:
            state.order = Order(key, {}, {}, {}, None, frozenset(), frozenset())
            state.model = None
            return state
        digest = _texts_digest(papers, seed_ids)
        prior = _kept_prior(folder, state, digest)
        if prior is None:
            prior = Prior.fit(seeds, papers, [features[i] for i in seed_ids if i in features])
            _save(folder, "prior", (digest, prior))
        table = Table.of(prior, papers, tuple(seeds.categories))
        table_key = (papers_state, tuple(seed_ids))
        state.table = (table_key, digest, table)
        _save(folder, "table", (table_key, digest, table.without_words()))
    else:
        digest, prior, table = kept
    state.prior, state.prior_digest = prior, digest
    # From the table: a decision retrains the linear model on the decided papers' kept
    # features and scores every paper in a few array operations.
    ranker = Ranker.train(seeds, (), decisions, prior=prior, table=table)
    # The category model learns from accepted papers only: after a rejection (most
    # decisions) the model and its suggestions for every paper are the ones before.
    filed_key = (digest, papers_state, CategoryModel.learns_from(decisions))
    filed = state.filed if state.filed is not None else _load(folder, "categories")
    if isinstance(filed, tuple) and len(filed) == 3 and filed[0] == filed_key:
        categories, suggested = _with_prior_categories(filed[1], prior), filed[2]
    else:
        if features is None:
            features = every_feature()
        papers = list(features.values())
        categories = CategoryModel.train(seeds, papers, decisions, prior=prior)
        filed_as = {d.paper_id: d.category for d in decisions if d.accepted and d.category}
        suggested = suggest_categories(seeds, papers, categories, filed_as)
        _save(folder, "categories", (filed_key, replace(categories, prior=None), suggested))
    state.filed = (filed_key, categories, suggested)
    probability, prior_probability = ranker.score_table(table)
    state.order = Order(
        key=key,
        probability=dict(zip(table.ids, probability.tolist(), strict=True)),
        prior=dict(zip(table.ids, prior_probability.tolist(), strict=True)),
        suggested=suggested,
        trust=ranker.trust if ranker.model is not None else None,
        accepted_s2=ranker.accepted_s2,
        rejected_s2=ranker.rejected_s2,
    )
    state.model = Model(key, ranker, categories)
    _save(folder, "order", state.order)
    _save(folder, "model", _without_prior(state.model))
    return state


def _kept_table(
    db: Database | Path | None, state: _State, table_key: tuple[Any, ...]
) -> tuple[str, Prior, Table] | None:
    """The feature table (and its prior) of these papers and seed papers, from memory or the
    cache folder, or None: then the features are read and the table made again."""
    held = state.table
    if held is None or held[0] != table_key:
        cached = _load(db, "table")
        if not (isinstance(cached, tuple) and len(cached) == 3 and cached[0] == table_key):
            return None
        held = cached
    _, digest, table = held
    prior = _kept_prior(db, state, digest)
    if prior is None:
        return None
    if table.words is None:
        table = table.with_words(prior)
    state.table = (table_key, digest, table)
    return digest, prior, table


def _features(db: Database, seeds: Seeds, state: _State) -> dict[int, PaperFeatures]:
    """Every paper's features, recomputed for the papers that changed since they were made."""
    papers_state = (seeds_digest(seeds), *store.papers.ranking_state(db))
    current, fingerprints, features = _kept_features(db, state, papers_state)
    if current:
        return features
    rows, hits, cites, cited_by = _inputs(db)
    new_prints: dict[int, str] = {}
    new_features: dict[int, PaperFeatures] = {}
    for row in rows:
        pid = int(row["id"])
        s2 = row["s2_id"] or ""
        inputs = (row, hits.get(pid, []), sorted(cites.get(s2, ())), sorted(cited_by.get(s2, ())))
        print_ = hashlib.sha256(repr(inputs).encode()).hexdigest()
        new_prints[pid] = print_
        known = features.get(pid)
        if known is not None and fingerprints.get(pid) == print_:
            new_features[pid] = known
        else:
            new_features[pid] = paper_features(
                seeds, row, hits=inputs[1], cites=inputs[2], cited_by=inputs[3]
            )
    state.features, state.features_state = new_features, papers_state
    _save(db, "features", (papers_state, new_prints, new_features))
    return new_features


def _kept_features(
    where: Database | Path | None, state: _State, papers_state: tuple[Any, ...]
) -> tuple[bool, dict[int, str], dict[int, PaperFeatures]]:
    """(whether they are of papers in this state, their fingerprints, the features) as kept
    in memory or the cache folder: older ones are kept for the papers that did not change."""
    if state.features_state == papers_state:
        return True, {}, state.features
    cached = _load(where, "features")
    if not (isinstance(cached, tuple) and len(cached) == 3):
        return False, {}, {}
    cached_state, fingerprints, features = cached
    if cached_state == papers_state:
        state.features, state.features_state = features, papers_state
        return True, fingerprints, features
    return False, fingerprints, features


def _inputs(
    db: Database,
) -> tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]], Any, Any]:
    cites: dict[str, set[str]] = defaultdict(set)
    cited_by: dict[str, set[str]] = defaultdict(set)
    for citing, cited in store.graph.all_edges(db):
        cites[citing].add(cited)
        cited_by[cited].add(citing)
    return store.papers.feature_rows(db), store.papers.all_hits(db), cites, cited_by


def _compute_features(
    db: Database, seeds: Seeds, paper_ids: Sequence[int]
) -> dict[int, PaperFeatures]:
    """Features of a few papers, from memory when this process has them, else computed."""
    state = _state(db, seeds)
    papers_state = (seeds_digest(seeds), *store.papers.ranking_state(db))
    if len(paper_ids) > FEW or state.features_state == papers_state:
        # Many papers (the checklist lists every pending one): the kept features of all
        # load faster than these are made.
        features = _features(db, seeds, state)
        return {pid: features[pid] for pid in paper_ids if pid in features}
    rows = store.papers.papers_by_id(db, paper_ids)
    hits = store.papers.query_hits(db, list(rows))
    out = {}
    for pid in paper_ids:
        row = rows.get(pid)
        if row is None:
            continue
        found = [{"source": s, "category": c} for s, c, _ in sorted(hits.get(pid, set()))]
        cites, cited_by = store.graph.neighbours(db, row["s2_id"]) if row["s2_id"] else ((), ())
        out[pid] = paper_features(seeds, row, hits=found, cites=cites, cited_by=cited_by)
    return out


def _texts_digest(papers: Sequence[PaperFeatures], seed_ids: Sequence[int]) -> str:
    digest = hashlib.sha256(f"{CACHE_FORMAT} {__version__} {seed_ids!r}".encode())
    for paper in papers:
        digest.update(f"{paper.paper_id}\0{paper.title}\0{paper.body}\0".encode())
    return digest.hexdigest()


def _without_prior(trained: Model) -> Model:
    """The model as pickled: the prior is kept in a file of its own, written only when the
    texts change, so a decision rewrites a few kilobytes instead of the vocabulary."""
    return Model(
        trained.key,
        replace(trained.ranker, prior=None),  # type: ignore[arg-type]
        replace(trained.categories, prior=None),
    )


def _with_prior(cached: Model, prior: Prior) -> Model:
    categories = _with_prior_categories(cached.categories, prior)
    return Model(cached.key, replace(cached.ranker, prior=prior), categories)


def _with_prior_categories(categories: CategoryModel, prior: Prior) -> CategoryModel:
    """A kept category model with the words it was trained on (a model without learned
    categories has none)."""
    return replace(categories, prior=prior) if categories.model is not None else categories


def _kept_prior(db: Database | Path | None, state: _State, digest: str) -> Prior | None:
    """The prior fitted on texts of this digest, from memory or the cache folder, or None."""
    from harvester.ranking import Prior

    if state.prior is not None and state.prior_digest == digest:
        return state.prior
    cached = _load(db, "prior")
    if (
        isinstance(cached, tuple)
        and len(cached) == 2
        and cached[0] == digest
        and isinstance(cached[1], Prior)
    ):
        return cached[1]
    return None


def _prior_from_disk(db: Database, state: _State) -> Prior | None:
    from harvester.ranking import Prior

    if state.prior is not None:
        return state.prior
    cached = _load(db, "prior")
    if isinstance(cached, tuple) and len(cached) == 2 and isinstance(cached[1], Prior):
        state.prior, state.prior_digest = cached[1], cached[0]
        return cached[1]
    return None


# --- where it is kept ---------------------------------------------------------------------------


def _state(db: Database, seeds: Seeds) -> _State:
    place = store.lock.database_file(db) or f"memory:{id(db.conn)}"
    return _STATES.setdefault((place, seeds_digest(seeds)), _State())


def cache_folder(db: Database) -> Path | None:
    """``<db>-ranking/`` beside a database file; None for an in-memory database."""
    path = store.lock.database_file(db)
    return Path(f"{path}-ranking") if path else None


def _folder(where: Database | Path | None) -> Path | None:
    """The cache folder of a database, or the folder itself (what a child process that
    must not touch its parent's connection is given)."""
    return where if isinstance(where, Path) or where is None else cache_folder(where)


def _load(where: Database | Path | None, name: str) -> Any:
    folder = _folder(where)
    if folder is None:
        return None
    try:
        with (folder / f"{name}.pickle").open("rb") as handle:
            # Pickles of our own classes, in a folder only the database's owners can write.
            return pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError):
        return None


def _save(where: Database | Path | None, name: str, value: Any) -> None:
    """Keep ``value`` for other processes, or quietly not where the folder is read-only."""
    folder = _folder(where)
    if folder is None:
        return
    temporary = folder / f".{name}.{secrets.token_hex(6)}.tmp"
    try:
        folder.mkdir(exist_ok=True)
        with temporary.open("xb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, folder / f"{name}.pickle")
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()


def forget() -> None:
    """Drop what this process holds in memory (the folder stays): for tests and benches."""
    for state in _STATES.values():
        _join_ahead(state)
    _STATES.clear()
