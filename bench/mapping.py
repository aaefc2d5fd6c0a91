"""Does a theme reach the section a policy owner would review? Scores a workspace's mapping against labels.

    python bench/mapping.py                        # the dev, airline and banking sets and the demo
    python bench/mapping.py dev --simulate-owner 10 --orders 3
    python bench/mapping.py dev --orders 3           # also with the rows shuffled twice: how much themes move it
    python bench/mapping.py demo
    python bench/mapping.py dev --what-if          # also offline: per-item placement, theme parts, hierarchy
    python bench/mapping.py custom --policy P.md --export F.csv --id ID --text TEXT --date DATE \\
        --date-format %m/%d/%y --label-column Issue --labels labels.tsv

A workspace is built with the policy and the export as a complaint source, and synced as a user would. Every
labelled item is then scored: the section its theme maps to (top-1; a gap counts as wrong) against the expected
section of its label. Reported: item exact and top-level accuracy (the part before the first dot, or the first
slash of slug ids), the share of items in gap themes and in no theme, per-section precision and recall, per
ticket whether its section is the expected section of most of its theme's items, and themes ticketed on a section
and its subsection at once.

`--what-if`: after each sync, the same items scored under other placements computed offline from the workspace
(items on their own sections, themes split into parts by their items, a top-level-first choice), with the extra
tickets parts would open: see bench/mapping_whatif.py.

`--simulate-owner N`: the export is split in time; after a sync of its older half, an owner (the document owner)
moves the N largest wrongly mapped tickets to the expected section of most of their items (`tickets move`), and
the newer half arrives in a second sync. Accuracy is reported on the items of the themes nobody corrected, new
themes included, against the same two syncs without corrections. Only these figures are printed; with `--orders`
each half's rows are also shuffled (seeded) and the means and per-order changes follow.

Cases: `dev` is ../shared/data/mapping-dev (a lender's policy, CFPB payday complaints); `airline` is tweets to
US airlines (../shared/data/airline-dev) against an airline's plan written for this benchmark (bench/cases);
`banking` is BANKING77's questions to a bank's support against a bank's policy written for this benchmark (its 77
intents labelled with sections in bench/cases/northgate-labels.tsv); `demo` is the demo workspace, labelled by one
item of each planted issue. Labels files are tab-separated `label<TAB>section id` lines (`#` starts a comment),
where label is the value of `--label-column` (an extra column of the export), or `source/external id` when it is
`id`; "(gap)" expects a coverage gap.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
csv.field_size_limit(sys.maxsize)

from bench._common import REPO, SHARED, machine  # noqa: E402

GAP = "(gap)"
NONE = "(no theme)"
CASES = Path(__file__).resolve().parent / "cases"
ROW_ID, ROW_DATE = "row", "received"  # columns given to an export without them (`Case.numbered`)


@dataclass(frozen=True)
class Case:
    """A policy, an export of feedback, and how its labels name sections."""

    name: str
    policy: Path
    export: Path | None  # None: the demo workspace as `reviewbot init --demo` makes it
    columns: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    label_column: str = "id"
    labels: dict[str, str] = field(default_factory=dict)
    numbered: bool = False  # the export has no id or date: rows get ROW_ID and ROW_DATE columns, in file order


def read_labels(path: Path) -> dict[str, str]:
    """label -> expected section id, from a tab-separated labels file."""
    labels = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, _, section = line.rpartition("\t")
            labels[label.strip()] = section.strip()
    return labels


def dev_case() -> Case:
    """The lender's policy and the CFPB payday complaints (../shared/data/mapping-dev)."""
    return Case(
        name="mapping-dev (CFPB payday complaints, Brightwell policy)",
        policy=SHARED / "mapping-dev" / "brightwell-policy.md",
        export=SHARED / "cfpb-payday" / "complaints.csv",
        columns={"id": "Complaint ID", "text": "Consumer complaint narrative", "created_at": "Date received"},
        date_format="%m/%d/%y",
        label_column="Issue",
        labels=read_labels(SHARED / "mapping-dev" / "labels.tsv"),
    )


def airline_case() -> Case:
    """Tweets to three US airlines, with the complaint reason of the negative ones, against an airline's plan
    written for this benchmark: a second policy and a second kind of text."""
    return Case(
        name="airline-dev (tweets, Skyward Air plan)",
        policy=CASES / "skyward-policy.md",
        export=SHARED / "airline-dev" / "tweets.csv",
        columns={"id": "tweet_id", "text": "text", "created_at": "tweet_created"},
        date_format="%Y-%m-%d %H:%M:%S %z",
        label_column="negativereason",
        labels=read_labels(CASES / "skyward-labels.tsv"),
    )


def banking_case() -> Case:
    """Questions to a bank's support (BANKING77's 77 intents) against a bank's service policy written for this
    benchmark: short, clean texts whose themes mix little, so the mapper is measured more than the themes."""
    return Case(
        name="banking (BANKING77 questions, Northgate policy)",
        policy=CASES / "northgate-policy.md",
        export=SHARED / "banking77" / "train.csv",
        columns={"id": ROW_ID, "text": "text", "created_at": ROW_DATE},
        label_column="category",
        labels=read_labels(CASES / "northgate-labels.tsv"),
        numbered=True,
    )


def demo_case() -> Case:
    """The demo workspace, labelled by one item of each planted issue (and the planted coverage gap)."""
    return Case(
        name="demo (planted issues)",
        policy=REPO / "config" / "demo" / "policies" / "customer-service-policy.md",
        export=None,
        labels=read_labels(CASES / "demo-labels.tsv"),
    )


def workspace_toml(case: Case) -> str:
    """A workspace with one complaint source reading the exports in inbox/complaints."""
    columns = ", ".join(f'{k} = "{v}"' for k, v in case.columns.items())
    extra = f'extra_columns = ["{case.label_column}"]' if case.label_column != "id" else ""
    date = f'date_format = "{case.date_format}"' if case.date_format else ""
    return f"""
policies_dir = "policies"

[[sources]]
name = "complaints"
type = "files"
kind = "complaint"
path = "inbox/complaints"
null_values = ["", "None"]
columns = {{ {columns} }}
{extra}
{date}
"""


def build(case: Case, folder: Path, halves: bool, order: int = 0) -> list[dict[str, str]]:
    """The case's workspace in `folder`, with the export (or its older half) in its inbox; returns the rows of the
    newer half when `halves`, to be added before a second sync. `order` > 0 shuffles the export's rows (seeded):
    the same feedback arriving in another order, which moves the themes a little."""
    from reviewbot.workspace import init_workspace

    init_workspace(folder, demo=case.export is None)
    if case.export is None:
        return []
    (folder / "policies" / case.policy.name).write_bytes(case.policy.read_bytes())
    (folder / "reviewbot.toml").write_text(workspace_toml(case), encoding="utf-8")
    with case.export.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if case.numbered:  # a minute apart in file order, so the halves of --simulate-owner are the file's halves
        start = datetime(2026, 1, 1)
        rows = [
            {ROW_ID: str(i), ROW_DATE: (start + timedelta(minutes=i)).isoformat(), **row} for i, row in enumerate(rows)
        ]
    if order:
        random.Random(order).shuffle(rows)
    newer: list[dict[str, str]] = []
    if halves:
        rows.sort(key=lambda row: _when(row[case.columns["created_at"]], case.date_format))
        rows, newer = rows[: len(rows) // 2], rows[len(rows) // 2 :]
        if order:  # each half in another order: the same halves, other themes
            random.Random(order).shuffle(rows)
            random.Random(order).shuffle(newer)
    write_rows(folder / "inbox" / "complaints" / "older.csv", rows)
    return newer


def _when(value: str, date_format: str | None) -> datetime:
    try:
        return datetime.strptime(value, date_format) if date_format else datetime.fromisoformat(value)
    except ValueError:
        return datetime.min


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    """Write export rows as a CSV file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def top_level(section: str) -> str:
    """The top-level section of an id: "payments.crediting" -> "payments", "refunds/timelines" -> "refunds"."""
    for separator in (".", "/"):
        section = section.split(separator, 1)[0]
    return section


@dataclass
class ItemRow:
    """One labelled item as the scoring sees it."""

    theme_id: int | None
    expected: str
    mapped: str  # the theme's top-1 section, GAP, or NONE


def item_rows(store, case: Case) -> list[ItemRow]:  # type: ignore[no-untyped-def]
    """Every labelled item with its theme's top-1 section."""
    from sqlmodel import select

    from reviewbot.models import FeedbackItem
    from reviewbot.store.tickets import mappings

    rows = []
    with store.session() as session:
        top: dict[int, str] = {}
        for mapping in mappings(session):
            top.setdefault(mapping.theme_id, GAP if mapping.is_gap else mapping.section_id)
        query = select(FeedbackItem.source, FeedbackItem.external_id, FeedbackItem.meta, FeedbackItem.theme_id)
        for source, external_id, meta, theme_id in session.exec(query):
            key = f"{source}/{external_id}" if case.label_column == "id" else (meta or {}).get(case.label_column)
            expected = case.labels.get(str(key))
            if expected is not None:
                rows.append(ItemRow(theme_id, expected, NONE if theme_id is None else top.get(theme_id, NONE)))
    return rows


def majority(rows: list[ItemRow]) -> dict[int, tuple[str, int]]:
    """theme -> (the expected section of most of its labelled items, how many labelled items it has)."""
    by_theme: dict[int, Counter[str]] = defaultdict(Counter)
    for row in rows:
        if row.theme_id is not None:
            by_theme[row.theme_id][row.expected] += 1
    return {t: (c.most_common(1)[0][0], sum(c.values())) for t, c in by_theme.items()}


def accuracy(rows: list[ItemRow]) -> tuple[float, float]:
    """(exact, top-level) accuracy of items' sections; a gap is right only where a gap is expected."""
    n = max(len(rows), 1)
    exact = sum(r.mapped == r.expected for r in rows) / n
    top = (
        sum(
            r.mapped == r.expected or (r.mapped not in (GAP, NONE) and top_level(r.mapped) == top_level(r.expected))
            for r in rows
        )
        / n
    )
    return exact, top


def best_possible(rows: list[ItemRow]) -> tuple[float, float]:
    """(exact, top-level) accuracy if every theme went to the expected section (or top-level branch) of most of its
    items: what these themes allow any mapping of them; items in no theme stay wrong."""
    exact, top = majority(rows), majority([replace(r, expected=top_level(r.expected)) for r in rows])
    n = max(len(rows), 1)
    return (
        sum(r.theme_id is not None and exact[r.theme_id][0] == r.expected for r in rows) / n,
        sum(r.theme_id is not None and top[r.theme_id][0] == top_level(r.expected) for r in rows) / n,
    )


def report(store, case: Case, title: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Print and return the scores of one workspace."""
    rows = item_rows(store, case)
    n = max(len(rows), 1)
    exact, top = accuracy(rows)
    gap, unplaced = sum(r.mapped == GAP for r in rows) / n, sum(r.mapped == NONE for r in rows) / n
    agree, tickets, nested = ticket_agreement(store, rows)
    print(f"{title}: {len(rows):,} labelled items")
    print(
        f"  item exact accuracy {exact:.3f}   top-level {top:.3f}   in gap themes {gap:.1%}   "
        f"in no theme {unplaced:.1%}"
    )
    best_exact, best_top = best_possible(rows)
    print(
        f"  best possible with these themes (each on its items' majority): exact {best_exact:.3f}, top {best_top:.3f}"
    )
    print(f"  tickets on the expected section of most of their items: {agree} of {tickets}")
    print(f"  themes ticketed on a section and its subsection at once: {nested}")
    _per_section(rows)
    return {"exact": exact, "top": top, "gap": gap, "unplaced": unplaced, "tickets": tickets, "agree": agree}


def _per_section(rows: list[ItemRow]) -> None:
    sections = sorted({r.expected for r in rows} | {r.mapped for r in rows if r.mapped != NONE})
    print(f"  {'section':<36} {'expected':>8} {'mapped':>7} {'precision':>9} {'recall':>7}")
    for section in sections:
        expected = sum(r.expected == section for r in rows)
        mapped = sum(r.mapped == section for r in rows)
        hits = sum(r.expected == section and r.mapped == section for r in rows)
        precision = f"{hits / mapped:.2f}" if mapped else "-"
        recall = f"{hits / expected:.2f}" if expected else "-"
        print(f"  {section[:36]:<36} {expected:>8} {mapped:>7} {precision:>9} {recall:>7}")


def ticket_agreement(store, rows: list[ItemRow]) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """(feedback and gap tickets on the expected section of most of their theme's labelled items, such tickets,
    themes ticketed on a section and one of its subsections)."""
    from sqlmodel import select

    from reviewbot.models import ReviewTicket

    wanted = majority(rows)
    with store.session() as session:
        tickets = [t for t in session.exec(select(ReviewTicket)) if t.kind in ("feedback", "gap") and t.theme_id]
    agree = sum(t.theme_id in wanted and (t.section_id or GAP) == wanted[t.theme_id or 0][0] for t in tickets)
    by_theme: dict[int, list[str]] = defaultdict(list)
    for t in tickets:
        if t.section_id and t.state not in ("dismissed",):
            by_theme[t.theme_id or 0].append(t.section_id)
    nested = sum(any(a != b and _within(b, a) for a in s for b in s) for s in by_theme.values())
    return agree, len(tickets), nested


def _within(child: str, parent: str) -> bool:
    return any(child.startswith(parent + separator) for separator in (".", "/"))


def simulate_owner(store, settings, case: Case, n: int) -> set[int]:  # type: ignore[no-untyped-def]
    """The document owner moves the n largest wrongly mapped tickets to their expected section; returns the
    themes they corrected."""
    from sqlmodel import select

    from reviewbot.models import PolicyDocument, ReviewTicket
    from reviewbot.workflows.corrections import move_ticket
    from reviewbot.workflows.review import ref_of

    wanted = majority(item_rows(store, case))
    with store.session() as session:
        tickets = [
            t
            for t in session.exec(select(ReviewTicket))
            if t.kind in ("feedback", "gap") and t.theme_id in wanted and t.state == "open"
        ]
        owners = {d.id: settings.people([d.owner or "owner"])[0] for d in session.exec(select(PolicyDocument))}
    wrong = [t for t in tickets if (t.section_id or GAP) != wanted[t.theme_id or 0][0] != GAP]
    wrong.sort(key=lambda t: (-wanted[t.theme_id or 0][1], t.id))
    corrected: set[int] = set()
    for ticket in wrong:
        if len(corrected) >= n or ticket.theme_id in corrected:
            continue
        section = wanted[ticket.theme_id or 0][0]
        print(f"  the owner moves {ref_of(ticket)} ({ticket.section_id or 'gap'}) to {section}")
        move_ticket(store, settings, ref_of(ticket), section, owners[ticket.document_id])
        corrected.add(ticket.theme_id or 0)
    return corrected


def quietly(call, *args):  # type: ignore[no-untyped-def]
    """Run a sync without the console notifier's messages on the terminal."""
    with contextlib.redirect_stderr(io.StringIO()):
        return call(*args)


def run(case: Case, orders: int = 1, what_if: bool = False) -> None:
    """Build, sync and score one case: in the export's order, then shuffled `orders - 1` times."""
    from reviewbot.settings import load_settings
    from reviewbot.store import Store
    from reviewbot.workflows.sync import run_sync

    scores = []
    for order in range(orders if case.export is not None else 1):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "ws"
            build(case, folder, halves=False, order=order)
            settings = load_settings(folder)
            store = Store(settings.db_url)
            started = time.perf_counter()
            result = quietly(run_sync, settings, store)
            seconds = time.perf_counter() - started
            print(f"\n{case.name}: sync {seconds:.1f}s, {result.themes.get('active_themes')} themes")
            scores.append(report(store, case, "one sync" + (f" (rows shuffled, seed {order})" if order else "")))
            if what_if:
                from bench.mapping_whatif import report as what_if_report

                what_if_report(store, settings, case, top_level)
            store.dispose()
    if len(scores) > 1:
        for measure in ("exact", "top", "gap"):
            values = [s[measure] for s in scores]
            print(
                f"  {measure} over {len(values)} orders: mean {sum(values) / len(values):.3f}, "
                f"range {min(values):.3f}-{max(values):.3f}"
            )


def simulate(case: Case, n: int, orders: int = 1) -> None:
    """Two syncs over the export's halves, with and without an owner's corrections after the first; scored on the
    items of the themes nobody corrected (theme ids match: corrections do not change how themes form). `orders` > 1:
    again with each half's rows shuffled (seeded), which moves the themes."""
    gains = []
    for order in range(orders):
        shuffled = f" (each half's rows shuffled, seed {order})" if order else ""
        print(f"\n{case.name}: older half, then {n} corrections, then the newer half{shuffled}")
        corrected, with_corrections = _two_syncs(case, n, order)
        _, without = _two_syncs(case, 0, order)
        scores = []
        for what, rows in (("without corrections", without), (f"after {len(corrected)} corrections", with_corrections)):
            rows = [r for r in rows if r.theme_id is not None and r.theme_id not in corrected]
            exact, top = accuracy(rows)
            scores.append((exact, top))
            print(
                f"  {what}: {len(rows):,} labelled items in themes nobody corrected, exact {exact:.3f}, top-level "
                f"{top:.3f}" + " (best possible with these themes {:.3f} / {:.3f})".format(*best_possible(rows))
            )
        gains.append((scores[0][0], scores[1][0], scores[0][1], scores[1][1]))
    if len(gains) > 1:
        means = [sum(g[i] for g in gains) / len(gains) for i in range(4)]
        print(
            f"  over {len(gains)} orders: exact {means[0]:.3f} -> {means[1]:.3f} (change per order "
            + ", ".join(f"{g[1] - g[0]:+.3f}" for g in gains)
            + f"), top-level {means[2]:.3f} -> {means[3]:.3f}"
        )


def _two_syncs(case: Case, n: int, order: int = 0) -> tuple[set[int], list[ItemRow]]:
    from reviewbot.settings import load_settings
    from reviewbot.store import Store
    from reviewbot.workflows.sync import run_sync

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ws"
        newer = build(case, folder, halves=True, order=order)
        settings = load_settings(folder)
        store = Store(settings.db_url)
        quietly(run_sync, settings, store)
        corrected = simulate_owner(store, settings, case, n) if n else set()
        if newer:
            write_rows(folder / "inbox" / "complaints" / "newer.csv", newer)
        quietly(run_sync, settings, store)
        rows = item_rows(store, case)
        store.dispose()
    return corrected, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "case", nargs="?", choices=["all", "dev", "airline", "banking", "demo", "custom"], default="all"
    )
    parser.add_argument("--simulate-owner", type=int, default=0, metavar="N")
    parser.add_argument("--orders", type=int, default=1, help="sync the export in this many row orders (seeded)")
    parser.add_argument("--what-if", action="store_true", help="also score other placements, offline (per item)")
    parser.add_argument("--policy", type=Path)
    parser.add_argument("--export", type=Path)
    parser.add_argument("--id", default="id")
    parser.add_argument("--text", default="text")
    parser.add_argument("--date", default="created_at")
    parser.add_argument("--date-format")
    parser.add_argument("--label-column", default="id")
    parser.add_argument("--labels", type=Path)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    cases = []
    if args.case in ("all", "dev"):
        cases.append(dev_case())
    if args.case in ("all", "airline"):
        cases.append(airline_case())
    if args.case in ("all", "banking"):
        cases.append(banking_case())
    if args.case in ("all", "demo"):
        cases.append(demo_case())
    if args.case == "custom":
        if not (args.policy and args.export and args.labels):
            parser.error("custom needs --policy, --export and --labels")
        cases.append(
            Case(
                name=args.export.name,
                policy=args.policy,
                export=args.export,
                columns={"id": args.id, "text": args.text, "created_at": args.date},
                date_format=args.date_format,
                label_column=args.label_column,
                labels=read_labels(args.labels),
            )
        )
    for case in cases:
        if args.simulate_owner and case.export is not None:  # the corrections' figures alone: runs take minutes
            simulate(case, args.simulate_owner, args.orders)
        else:
            run(case, args.orders, args.what_if)


if __name__ == "__main__":
    main()
