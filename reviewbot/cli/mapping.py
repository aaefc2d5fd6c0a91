"""Commands about how themes map to policy sections: why a theme went where it did, and owners' corrections."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from reviewbot.cli.app import JsonOption, note, open_store, out, print_json, print_table, sub_app
from reviewbot.errors import NotFoundError
from reviewbot.models.base import MAX_ROW_ID
from reviewbot.store import Store
from reviewbot.store.tickets import get_ticket, ref_of

mapping_app = sub_app("mapping", "How themes are matched to policy sections, and what owners corrected.")
SHOWN = 8  # sections listed by `explain`
ThemeOrTicket = Annotated[
    str, typer.Argument(metavar="THEME", help="Theme id (from `themes list`), or a ticket (RB-5) for its theme.")
]


@mapping_app.command("explain")
def mapping_explain(
    ctx: typer.Context,
    theme_ref: ThemeOrTicket,
    as_json: JsonOption = False,
) -> None:
    """Why a theme maps where it does: each section's share of its items' vote and fit, what the workspace's model
    changed against the items' own words, and the corrections that weighed."""
    from reviewbot.views import add_text_row
    from reviewbot.workflows.mapping import explain_theme

    with open_store(ctx) as (settings, store):
        theme, explanation, pin = explain_theme(settings, store, _theme_id(store, theme_ref))
    chosen = [
        {"document": m.document_id, "section": m.section_id or None, "gap": m.is_gap, "confidence": m.confidence}
        for m in explanation.matches
    ]
    if pin is not None:
        where = pin.section_id or "not a policy matter"
        reason = f"held on {where} by {pin.actor}'s correction of {pin.created_at:%Y-%m-%d}"
    else:
        reason = explanation.reason
    if as_json:
        print_json(
            {
                "theme": theme.id,
                "label": theme.label,
                "maps_to": [] if pin is not None and pin.section_id is None else chosen,
                "reason": reason,
                "held_by_correction": pin.id if pin is not None else None,
                "not_policy": explanation.not_policy if pin is None else pin.section_id is None,
                "sections": [s.__dict__ for s in explanation.scores],
                "corrections": [{"correction": label, "similarity": sim} for label, sim in explanation.corrections],
                "taught_by_corrections": explanation.taught,
                "learned_from_feedback": explanation.learned,
                "words_alone": [{"section": s.section_id, "share": s.share} for s in explanation.words_alone],
            }
        )
        return
    out.print(f"Theme {theme.id}: {theme.label}", highlight=False, markup=False)
    out.print(f"Maps to: {_targets(chosen) if pin is None else pin.section_id or '-'}", highlight=False, markup=False)
    out.print(f"Why: {reason}", highlight=False, markup=False)
    table = Table(title="Vote of the theme's items", title_justify="left")
    for name, justify in (("section", "left"), ("vote", "right"), ("word fit", "right")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for score in explanation.scores[:SHOWN]:
        add_text_row(table, score.section_id, f"{score.share:.0%}", f"{score.fit:.2f}")
    print_table(table, titled=True)
    if explanation.taught or explanation.learned:
        model = (
            "the model owners' corrections taught over this workspace's items"
            if explanation.taught
            else "a model of this workspace's feedback, seeded by the policy's words, that the items taught one another"
        )
        alone = ", ".join(f"{s.section_id} {s.share:.0%}" for s in explanation.words_alone[:3])
        out.print(
            f"Learned: the vote above is {model}; their own words alone vote "
            f"{alone or 'for no section (they share no word with any)'}",
            highlight=False,
            markup=False,
        )
    for label, similarity in explanation.corrections:
        out.print(f"Weighed: {label} (themes {similarity:.0%} alike)", highlight=False, markup=False)


def _theme_id(store: Store, ref: str) -> int:
    """A theme id as given, or the theme of the ticket named (RB-5): owners come to this from a ticket."""
    if ref.isdigit():
        if not 0 < int(ref) <= MAX_ROW_ID:
            raise NotFoundError(f"no active theme {ref}", hint="see `reviewbot themes list`")
        return int(ref)
    with store.session() as session:
        ticket = get_ticket(session, ref)
    if ticket is None:
        raise NotFoundError(f"no theme or ticket {ref!r}", hint="give a theme id (`reviewbot themes list`) or a ticket")
    if ticket.theme_id is None:
        raise NotFoundError(f"{ref_of(ticket)} has no theme (a periodic review or a suggestion): nothing was mapped")
    return ticket.theme_id


def _targets(chosen: list[dict[str, object]]) -> str:
    return (
        ", ".join("coverage gap" if c["gap"] else f"{c['section']} (confidence {c['confidence']:.2f})" for c in chosen)
        or "nothing: not a policy matter"
    )


@mapping_app.command("corrections")
def mapping_corrections(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Owners' corrections the mapper learns from, oldest first."""
    from reviewbot.store.corrections import corrections
    from reviewbot.views import add_text_row, correction_dict

    with open_store(ctx) as (_, store), store.session() as session:
        rows = corrections(session)
    if as_json:
        print_json([correction_dict(r) for r in rows])
        return
    if not rows:
        note("No corrections yet: `reviewbot tickets move` records one.")
        return
    table = Table(title="Mapping corrections", title_justify="left")
    for name in ("when", "by", "theme", "from", "to", "reason"):
        table.add_column(name, overflow="fold")
    for r in rows:
        to = r.section_id or "not a policy matter"
        add_text_row(
            table, f"{r.created_at:%Y-%m-%d}", r.actor, str(r.theme_id or "-"), r.was_section or "gap", to, r.reason
        )
    print_table(table, "when", "by", "theme")
