"""Plain Python results of the inference calls (the registry and scheduler calls return the aimass.v1 messages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple


@dataclass(frozen=True)
class ScoredItem:
    """An item and its score; higher is better, comparable only within one answer."""

    item_id: str
    score: float
    #: The item's title when the version carries item attributes with a title column; "" otherwise.
    title: str = ""


@dataclass(frozen=True)
class Recommendations:
    """Up to k items, best first, and which version, worker and replica answered."""

    items: Tuple[ScoredItem, ...]
    version: int
    worker_id: str
    replica_id: str
    #: How Recommend found the items: "history", "seed_items", "attribute_neighbours" or "popularity" (a user the
    #: version has no interactions of is a cold start); "" for SimilarItems.
    path: str = ""

    @property
    def item_ids(self) -> List[str]:
        """The item ids, best first."""
        return [item.item_id for item in self.items]

    @classmethod
    def from_response(cls, response) -> "Recommendations":
        """From a RecommendResponse or SimilarItemsResponse."""
        served = response.served_by
        path = _PATHS.get(getattr(response, "path", 0), "")
        return cls(items=tuple(ScoredItem(i.item_id, i.score, i.title) for i in response.items),
                   version=served.version, worker_id=served.worker_id, replica_id=served.replica_id, path=path)


#: ServingPath numbers (recommend.proto) to the names the CLI prints.
_PATHS = {1: "history", 2: "seed_items", 3: "attribute_neighbours", 4: "popularity"}
