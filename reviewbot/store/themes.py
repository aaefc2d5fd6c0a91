"""Queries for themes: what to place, where it went, and the aggregates behind theme statistics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Float, Integer, MetaData, Row, Table, bindparam, case, func, insert, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from reviewbot.analysis.boilerplate import Boilerplate
from reviewbot.analysis.score import ThemeAggregate, ThemeStats, earliest, latest, pick_quotes
from reviewbot.models import FeedbackItem, Theme, VectorizerState, utcnow

if TYPE_CHECKING:  # both import scikit-learn: commands that list themes must not pay for it
    from reviewbot.analysis.themes import ThemeModel
    from reviewbot.analysis.vectorize import CorpusStats

VECTORIZER = "tfidf"
BOILERPLATE = "boilerplate"  # the VectorizerState holding analysis.boilerplate's counts
IDS_PER_QUERY = 5_000
READ_ROWS = 20_000  # unplaced items read at a time
# a theme's members, most central first (ties by id, so the order is stable)
_CENTRAL_FIRST = (col(FeedbackItem.theme_similarity).desc(), col(FeedbackItem.id))
MAX_STORED_TERMS = 100_000


def active_themes(session: Session) -> list[Theme]:
    """Themes in use, oldest first."""
    return list(session.exec(select(Theme).where(Theme.status == "active").order_by(col(Theme.id))))


MAX_MERGE_HOPS = 20  # a merged theme points at the one it went into; a longer chain would be a loop


def themes_by_id(session: Session, ids: Iterable[int]) -> dict[int, Theme]:
    """Themes by id, whatever their status (a ticket may cite a theme merged since)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {t.id or 0: t for t in session.exec(select(Theme).where(col(Theme.id).in_(wanted)))}


def current_themes(session: Session, theme_ids: Iterable[int]) -> dict[int, Theme | None]:
    """theme id -> the theme that holds its items now: itself, or the one it was merged into (and so on).

    One query per level of merging, not one per theme."""
    wanted = set(theme_ids)
    found = themes_by_id(session, wanted)
    for _ in range(MAX_MERGE_HOPS):
        missing = {t.merged_into for t in found.values() if t.merged_into is not None} - set(found)
        if not missing:
            break
        found |= themes_by_id(session, [m for m in missing if m is not None])
    current: dict[int, Theme | None] = {}
    for theme_id in wanted:
        theme = found.get(theme_id)
        for _ in range(MAX_MERGE_HOPS):
            if theme is None or theme.merged_into is None:
                break
            theme = found.get(theme.merged_into)
        current[theme_id] = theme
    return current


def theme_models(themes: Iterable[Theme]) -> list[ThemeModel]:
    """Themes as the placement step sees them."""
    from reviewbot.analysis.themes import ThemeModel

    return [ThemeModel(key=t.id or 0, centroid=dict(t.centroid), size=t.size) for t in themes]


def unplaced_batches(session: Session, size: int | None = None) -> Iterator[list[tuple[int, str]]]:
    """(id, text) of items the themes stage has not seen yet, READ_ROWS at a time, by id: keyset pagination (each
    query starts where the last ended), so a large import is never held as rows at once and no query reads again
    what the previous ones passed."""
    after = 0
    while True:
        query = (
            select(FeedbackItem.id, FeedbackItem.text)
            .where(col(FeedbackItem.themed_at).is_(None), col(FeedbackItem.id) > after)
            .order_by(col(FeedbackItem.id))
            .limit(size or READ_ROWS)
        )
        batch = [(i, t) for i, t in session.exec(query)]
        if not batch:
            return
        yield batch
        after = batch[-1][0]


def texts_by_id(session: Session, ids: Sequence[int]) -> list[str]:
    """The texts of these items in the order given, IDS_PER_QUERY at a time ("" for an item deleted since)."""
    wanted = _as_list(ids)
    found: dict[int, str] = {}
    for start in range(0, len(wanted), IDS_PER_QUERY):
        chunk = wanted[start : start + IDS_PER_QUERY]
        query = select(FeedbackItem.id, FeedbackItem.text).where(col(FeedbackItem.id).in_(chunk))
        found.update((item, text) for item, text in session.exec(query))
    return [found.get(item, "") for item in wanted]


def leftover_items(session: Session, limit: int) -> list[tuple[int, str]]:
    """(id, text) of items seen before but placed in no theme, newest first."""
    query = (
        select(FeedbackItem.id, FeedbackItem.text)
        .where(col(FeedbackItem.themed_at).is_not(None), col(FeedbackItem.theme_id).is_(None), FeedbackItem.text != "")
        .order_by(col(FeedbackItem.created_at).desc(), col(FeedbackItem.id).desc())
        .limit(limit)
    )
    return [(i, t) for i, t in session.exec(query)]


def count_leftovers(session: Session) -> int:
    """How many items with text are in no theme."""
    query = select(func.count()).where(col(FeedbackItem.theme_id).is_(None), FeedbackItem.text != "")
    return session.exec(query).one()


def load_corpus_stats(session: Session) -> CorpusStats:
    """The document frequencies saved by earlier syncs."""
    from reviewbot.analysis.vectorize import CorpusStats

    state = session.get(VectorizerState, VECTORIZER)
    if state is None:
        return CorpusStats()
    return CorpusStats(n_docs=state.n_docs, doc_freq=Counter(state.doc_freq))


def save_corpus_stats(session: Session, stats: CorpusStats) -> None:
    """Save document frequencies, keeping only the most frequent terms."""
    stats.prune(MAX_STORED_TERMS)
    state = session.get(VectorizerState, VECTORIZER) or VectorizerState(name=VECTORIZER)
    state.n_docs, state.doc_freq, state.updated_at = stats.n_docs, dict(stats.doc_freq), utcnow()
    session.add(state)


def load_boilerplate(session: Session) -> Boilerplate:
    """The runs of words counted in earlier syncs' letters."""
    state = session.get(VectorizerState, BOILERPLATE)
    return Boilerplate() if state is None else Boilerplate.from_json(state.doc_freq)


def save_boilerplate(session: Session, boilerplate: Boilerplate) -> None:
    """Save the runs worth remembering."""
    state = session.get(VectorizerState, BOILERPLATE) or VectorizerState(name=BOILERPLATE)
    state.doc_freq, state.updated_at = boilerplate.to_json(), utcnow()
    session.add(state)


def create_theme(session: Session, model: ThemeModel) -> Theme:
    """Insert a new theme and return it with its id."""
    theme = Theme(label="(new theme)", centroid=model.centroid, size=model.size)
    session.add(theme)
    session.flush()
    return theme


def set_centroids(session: Session, models: Sequence[ThemeModel]) -> None:
    """Store the moved centroids (and sizes) of existing themes, in one executemany."""
    if not models:
        return
    table = Theme.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("key"))
        .values(centroid=bindparam("centroid"), size=bindparam("size"), updated_at=utcnow())
    )
    rows = [{"key": m.key, "centroid": m.centroid, "size": m.size} for m in models]
    session.connection().execute(statement, rows)


# SQLite: placements of one sync are staged so that one UPDATE ... FROM writes them all; an UPDATE per item
# costs seconds at 100k items there, where every statement checks the theme's foreign key anew.
_STAGED = Table(
    "staged_placement",
    MetaData(),
    Column("item", Integer, primary_key=True),
    Column("theme", Integer, nullable=False),
    Column("similarity", Float, nullable=False),
    prefixes=["TEMPORARY"],
)


def place_items(
    session: Session, items: Sequence[int], themes: Sequence[int], similarities: Sequence[float], seen: Iterable[int]
) -> None:
    """Record where items were placed (item, theme and similarity, position by position), and mark every item in
    `seen` as processed. Arrays are welcome: rows are made IDS_PER_QUERY at a time."""
    now = utcnow()
    connection = session.connection()
    if len(items) and connection.dialect.name == "sqlite":
        _place_staged(connection, items, themes, similarities, now)
    elif len(items):  # PostgreSQL: executemany; a temporary table needs the TEMP privilege, which some servers revoke
        table = FeedbackItem.__table__
        statement = (
            update(table)
            .where(table.c.id == bindparam("item"))
            .values(theme_id=bindparam("theme"), theme_similarity=bindparam("similarity"), themed_at=now)
        )
        for rows in _placement_rows(items, themes, similarities):
            connection.execute(statement, rows)
    import numpy as np  # here: commands that list themes import this module, and need no numpy

    rest = np.setdiff1d(np.asarray(_as_list(seen), dtype=np.int64), np.asarray(items, dtype=np.int64))
    for start in range(0, len(rest), IDS_PER_QUERY):
        session.execute(
            update(FeedbackItem)
            .where(col(FeedbackItem.id).in_(rest[start : start + IDS_PER_QUERY].tolist()))
            .values(themed_at=now)
        )


def _as_list(values: Iterable[Any]) -> list[Any]:
    """Plain Python values of a list or an array (numpy's `tolist`)."""
    tolist = getattr(values, "tolist", None)
    return tolist() if tolist is not None else list(values)


def _placement_rows(
    items: Sequence[int], themes: Sequence[int], similarities: Sequence[float]
) -> Iterator[list[dict[str, Any]]]:
    """The placements as statement parameters, IDS_PER_QUERY at a time: a dictionary per item for a whole large
    import would be a quarter of a GB at 1M items."""
    for start in range(0, len(items), IDS_PER_QUERY):
        stop = start + IDS_PER_QUERY
        yield [
            {"item": item, "theme": theme, "similarity": similarity}
            for item, theme, similarity in zip(
                _as_list(items[start:stop]),
                _as_list(themes[start:stop]),
                _as_list(similarities[start:stop]),
                strict=True,
            )
        ]


def _place_staged(
    connection: Connection,
    items: Sequence[int],
    themes: Sequence[int],
    similarities: Sequence[float],
    now: datetime,
) -> None:
    """Write placements through the staging table: one UPDATE ... FROM."""
    table = FeedbackItem.__table__
    _STAGED.create(connection)  # inside the transaction: a rollback takes the table with it
    for rows in _placement_rows(items, themes, similarities):
        connection.execute(insert(_STAGED), rows)
    connection.execute(
        update(table)
        .where(table.c.id == _STAGED.c.item)
        .values(theme_id=_STAGED.c.theme, theme_similarity=_STAGED.c.similarity, themed_at=now)
    )
    _STAGED.drop(connection)


def aggregates(session: Session, theme_ids: Collection[int] | None = None) -> dict[int, ThemeAggregate]:
    """Per-theme aggregates over the members of the given themes (all themes when None), in three GROUP BY
    queries, each a pass over those themes' items."""
    if theme_ids is not None and not theme_ids:
        return {}
    aggs = _sums(session, _members_of(theme_ids))
    for theme_id, n in unique_counts(session, theme_ids).items():
        aggs[theme_id].unique = n
    return aggs


def added_aggregates(session: Session, items: Sequence[int]) -> dict[int, ThemeAggregate]:
    """Per-theme aggregates of just these (newly placed) items, read by id; without `unique`, which depends on
    the texts a theme held before."""
    total: dict[int, ThemeAggregate] = {}
    for start in range(0, len(items), IDS_PER_QUERY):
        chunk = col(FeedbackItem.id).in_(_as_list(items[start : start + IDS_PER_QUERY]))
        for theme_id, agg in _sums(session, chunk & col(FeedbackItem.theme_id).is_not(None)).items():
            total.setdefault(theme_id, ThemeAggregate()).add(agg)
    return total


def added_texts(session: Session, items: Sequence[int]) -> dict[int, int]:
    """Theme -> how many distinct texts these (newly placed, at most IDS_PER_QUERY) items add to it: texts no
    other member of the theme has. Passes over the content hashes once, where counting every grown theme's
    distinct texts anew would read each of their members."""
    f = FeedbackItem
    items = _as_list(items)
    placed = session.exec(
        select(f.theme_id, f.content_hash).where(col(f.id).in_(items), col(f.theme_id).is_not(None))
    ).all()
    new = {(theme, text) for theme, text in placed}
    if not new:
        return {}
    already = session.exec(
        select(f.theme_id, f.content_hash).where(
            col(f.content_hash).in_({text for _, text in new}), col(f.id).not_in(items)
        )
    )
    new -= set(already)
    return dict(Counter(theme for theme, _ in new))


def _sums(session: Session, members: Any) -> dict[int, ThemeAggregate]:
    """Everything but `unique` of ThemeAggregate, per theme, over the items `members` selects."""
    aggs: dict[int, ThemeAggregate] = {}
    negative = func.sum(case((col(FeedbackItem.is_negative), 1), else_=0))
    concern = func.sum(case((col(FeedbackItem.is_negative) | (FeedbackItem.kind == "complaint"), 1), else_=0))
    rules = func.sum(case((col(FeedbackItem.cites_rules), 1), else_=0))
    rows = session.exec(
        select(
            FeedbackItem.theme_id,
            FeedbackItem.kind,
            FeedbackItem.week,
            func.count(),
            func.sum(FeedbackItem.polarity),
            negative,
            concern,
            rules,
            func.min(FeedbackItem.created_at),
            func.max(FeedbackItem.created_at),
        )
        .where(members)
        .group_by(FeedbackItem.theme_id, FeedbackItem.kind, FeedbackItem.week)
    )
    for theme_id, kind, week, n, polarity, neg, worry, cited, first, last in rows:
        agg = aggs.setdefault(theme_id, ThemeAggregate())
        agg.by_kind[kind] = agg.by_kind.get(kind, 0) + n
        agg.weekly[week] = agg.weekly.get(week, 0) + n
        agg.polarity_sum += polarity or 0.0
        agg.negative += neg or 0
        agg.concern += worry or 0
        agg.cites_rules += cited or 0
        agg.first_seen = earliest(agg.first_seen, first)
        agg.last_seen = latest(agg.last_seen, last)
    for theme_id, surveys in _survey_counts(session, members).items():
        aggs[theme_id].nps, aggs[theme_id].csat = surveys["nps"], surveys["csat"]
    return aggs


def unique_counts(session: Session, theme_ids: Collection[int] | None) -> dict[int, int]:
    """Theme -> how many distinct texts (content hashes) its members have (all themes when None)."""
    query = select(FeedbackItem.theme_id, func.count(func.distinct(FeedbackItem.content_hash)))
    return dict(session.exec(query.where(_members_of(theme_ids)).group_by(FeedbackItem.theme_id)).all())


def survey_counts(session: Session, theme_ids: Collection[int] | None) -> dict[int, dict[str, dict[str, int]]]:
    """Survey answers by class per theme (all themes when None), in one query:
    {theme: {"nps": {"promoter": 3, ...}, "csat": {"satisfied": 2, ...}}}; themes without answers are left out."""
    if theme_ids is not None and not theme_ids:
        return {}
    return _survey_counts(session, _members_of(theme_ids))


def _survey_counts(session: Session, members: Any) -> dict[int, dict[str, dict[str, int]]]:
    counts: dict[int, dict[str, dict[str, int]]] = {}
    nps, csat = FeedbackItem.nps_class, FeedbackItem.csat_class
    query = (
        select(FeedbackItem.theme_id, nps, csat, func.count())
        .where(members, col(nps).is_not(None) | col(csat).is_not(None))
        .group_by(FeedbackItem.theme_id, nps, csat)
    )
    for theme_id, nps_class, csat_class, n in session.exec(query):
        theme = counts.setdefault(theme_id, {"nps": {}, "csat": {}})
        for name, value in (("nps", nps_class), ("csat", csat_class)):
            if value is not None:
                theme[name][value] = theme[name].get(value, 0) + n
    return counts


def _members_of(theme_ids: Collection[int] | None) -> Any:
    """Filter: items placed in one of these themes (in any theme when None)."""
    theme = FeedbackItem.theme_id
    return col(theme).is_not(None) if theme_ids is None else col(theme).in_(theme_ids)


def member_texts(session: Session, theme_ids: Collection[int]) -> Iterator[tuple[int, str]]:
    """(theme, text) of every member of these themes, streamed."""
    query = select(FeedbackItem.theme_id, FeedbackItem.text).where(_members_of(theme_ids))
    yield from session.exec(query.execution_options(yield_per=IDS_PER_QUERY))


def member_counts(session: Session) -> dict[int, int]:
    """Theme id -> how many items it holds now (one pass over the theme index)."""
    query = (
        select(FeedbackItem.theme_id, func.count())
        .where(col(FeedbackItem.theme_id).is_not(None))
        .group_by(FeedbackItem.theme_id)
    )
    return {theme_id: n for theme_id, n in session.exec(query)}


def latest_week(session: Session) -> str | None:
    """The newest week with any feedback: "now" for trends, so old exports still show their own trend."""
    return session.exec(select(func.max(FeedbackItem.week))).one()  # the week index answers without a scan


def save_stats(session: Session, theme: Theme, stats: ThemeStats) -> None:
    """Write a theme's statistics."""
    for name in ThemeStats.__dataclass_fields__:
        setattr(theme, name, getattr(stats, name))
    theme.updated_at = utcnow()
    session.add(theme)


def central_members(
    session: Session, theme_ids: Collection[int], limit: int = 40
) -> dict[int, list[tuple[int, str, float]]]:
    """Theme -> (id, text, similarity) of its members closest to its centroid, in one windowed query for all."""
    if not theme_ids:
        return {}
    f = FeedbackItem
    rank = func.row_number().over(partition_by=f.theme_id, order_by=_CENTRAL_FIRST).label("rank")
    ranked = (
        select(f.theme_id, f.id, f.text, f.theme_similarity, rank)
        .where(col(f.theme_id).in_(theme_ids), f.text != "")
        .subquery()
    )
    query = select(ranked.c.theme_id, ranked.c.id, ranked.c.text, ranked.c.theme_similarity).where(
        ranked.c.rank <= limit
    )
    members: dict[int, list[tuple[int, str, float]]] = {}
    for theme_id, item_id, text, similarity in session.exec(query.order_by(ranked.c.theme_id, ranked.c.rank)):
        members.setdefault(theme_id, []).append((item_id, text, similarity or 0.0))
    return members


def central_items(session: Session, theme_id: int, limit: int) -> list[FeedbackItem]:
    """The members most typical of a theme."""
    query = select(FeedbackItem).where(FeedbackItem.theme_id == theme_id).order_by(*_CENTRAL_FIRST).limit(limit)
    return list(session.exec(query))


def quote_items(session: Session, theme_id: int, limit: int) -> list[Row[Any]]:
    """Members worth quoting (text, source, external_id, kind, created_at, content_hash): the most central ones,
    one per distinct text, taking turns across kinds. Columns, not items: a sync quotes every ticket's theme."""
    f = FeedbackItem
    query = (
        select(f.text, f.source, f.external_id, f.kind, f.created_at, f.content_hash)
        .where(f.theme_id == theme_id, f.text != "")
        .order_by(*_CENTRAL_FIRST)
        .limit(limit * 8)
    )
    rows = list(session.exec(query))
    return pick_quotes(rows, limit, kind=lambda r: r.kind, key=lambda r: r.content_hash)
