"""What a sync did, stage by stage (its run summary): for the CLI's summary, `--json` and the run history."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


class ProgressSink(Protocol):
    """Receives progress of long stages (the CLI shows a progress bar; tests pass nothing)."""

    def start(self, label: str, total: int | None) -> None:
        """A unit of work begins."""
        ...

    def advance(self, amount: int = 1) -> None:
        """Some of it is done."""
        ...


class NoProgress:
    """A sink that shows nothing."""

    def start(self, label: str, total: int | None) -> None:
        """Ignore."""

    def advance(self, amount: int = 1) -> None:
        """Ignore."""


@dataclass
class SyncReport:
    """Counts per stage and the errors that did not stop the run."""

    run_id: int | None = None
    dry_run: bool = False
    policies: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, dict[str, int]] = field(default_factory=dict)
    sentiment: dict[str, Any] = field(default_factory=dict)
    themes: dict[str, int] = field(default_factory=dict)
    mapping: dict[str, int] = field(default_factory=dict)
    tickets: dict[str, int] = field(default_factory=dict)
    review: dict[str, int] = field(default_factory=dict)
    tracker: dict[str, int] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)
    untriaged: list[str] = field(default_factory=list)  # open tickets whose section this sync found edited
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    delivery: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stage: str = ""  # the stage running now; a run record keeps it while the sync runs (not in `to_dict`)

    def drafted(self) -> list[str]:
        """The documents whose policy file this sync found edited and not yet published."""
        revisions = (self.policies or {}).get("new_revisions", [])
        # "DOC revision N (draft)"
        return [r.split(" revision ", 1)[0] for r in revisions if r.endswith(" (draft)")]

    @property
    def status(self) -> str:
        """`ok`, or `partial` when some step failed but the rest completed."""
        return "partial" if self.errors else "ok"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        del data["stage"]
        return {**data, "status": self.status}

    def run_counts(self) -> dict[str, Any]:
        """What a run record keeps of the report: counts and timings, not its errors, id or status."""
        return {k: v for k, v in self.to_dict().items() if k not in ("errors", "run_id", "status", "dry_run")}

    def progress(self) -> dict[str, Any]:
        """The counts so far and the stage reached, for the record of a run still going."""
        return {**self.run_counts(), "stage": self.stage}
