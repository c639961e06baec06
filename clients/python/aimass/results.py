"""Plain Python results of the inference calls (the registry and scheduler calls return the aimass.v1 messages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple


@dataclass(frozen=True)
class ScoredItem:
    """An item and its score; higher is better, comparable only within one answer."""

    item_id: str
    score: float


@dataclass(frozen=True)
class Recommendations:
    """Up to k items, best first, and which version, worker and replica answered."""

    items: Tuple[ScoredItem, ...]
    version: int
    worker_id: str
    replica_id: str

    @property
    def item_ids(self) -> List[str]:
        """The item ids, best first."""
        return [item.item_id for item in self.items]

    @classmethod
    def from_response(cls, response) -> "Recommendations":
        """From a RecommendResponse or SimilarItemsResponse."""
        served = response.served_by
        return cls(items=tuple(ScoredItem(i.item_id, i.score) for i in response.items), version=served.version,
                   worker_id=served.worker_id, replica_id=served.replica_id)
