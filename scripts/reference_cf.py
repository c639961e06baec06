#!/usr/bin/env python3
"""Independent numpy reference for AI Mass's collaborative filtering (RecommendCore), written from the spec.

Dense matrices, so only for small data sets (ML-100k: 943 x 1682). For every user it prints the top-N unseen items
with score > 0, highest first, ties to the smaller id.

Spec, as implemented here:
  * rows `user item [rating [timestamp]]`, TSV or CSV, optional header naming user/item columns (RecBole's
    `user_id:token` form included); duplicate (user, item) rows: the last one wins.
  * feedback implicit -> value 1, explicit -> the rating.
  * cosine = dot / sqrt(norm_a^2 * norm_b^2) (one square root); iuf divides each user's term of the item-item dot
    product by ln(1 + items of that user); iif divides each item's term of the user-user dot product by
    ln(1 + users of that item); norms unweighted.
  * each item (itemcf) / user (usercf) keeps its top-K neighbours with similarity > 0 (not itself), ties to the
    smaller id; itemcf `normalize` divides each kept row by its maximum.
  * itemcf score(u, i) = sum_j r(u, j) * S[j, i]; usercf score(u, i) = sum_v N[u, v] * r(v, i).
  * "smaller id": integers compare numerically, other ids by UTF-8 bytes (integers first in a mixed set).

Usage:
  reference_cf.py --data data/ml-100k.inter --algorithm itemcf --neighbours 20 --weighting iuf [--normalize]
                  [--feedback implicit|explicit] [--top 10] --out ref.json
"""

import argparse
import json
import math
import re

import numpy as np

_INTEGER = re.compile(r"^-?[0-9]+$")
_USER_NAMES = {"user", "user_id", "userid", "uid"}
_ITEM_NAMES = {"item", "item_id", "itemid", "iid", "movie_id", "movieid"}
_RATING_NAMES = {"rating", "score", "value", "weight"}


def id_key(identifier):
    """Sort key for ids: integers numerically (then by bytes), before non-integers in byte order."""
    if _INTEGER.match(identifier):
        return (0, int(identifier), identifier.encode())
    return (1, 0, identifier.encode())


def load(path):
    """Returns {(user, item): rating or None}, last row winning."""
    pairs = {}
    delimiter = None
    user_col, item_col, rating_col = 0, 1, 2
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if delimiter is None:
                delimiter = "\t" if "\t" in line else ("," if "," in line else None)
                names = [f.strip().lower().split(":")[0] for f in line.split(delimiter)]
                users = [n for n in names if n in _USER_NAMES]
                items = [n for n in names if n in _ITEM_NAMES]
                if users and items:
                    user_col = names.index(users[0])
                    item_col = names.index(items[0])
                    ratings = [n for n in names if n in _RATING_NAMES]
                    rating_col = names.index(ratings[0]) if ratings else None
                    continue
            fields = [f.strip() for f in line.split(delimiter)]
            rating = None
            if rating_col is not None and rating_col < len(fields) and fields[rating_col]:
                rating = float(fields[rating_col])
            pairs[(fields[user_col], fields[item_col])] = rating
    return pairs


class Model:
    """Dense reference model."""

    def __init__(self, pairs, algorithm, neighbours, feedback="implicit", weighting="none", normalize=False):
        self.users = sorted({u for u, _ in pairs}, key=id_key)
        self.items = sorted({i for _, i in pairs}, key=id_key)
        user_index = {u: n for n, u in enumerate(self.users)}
        item_index = {i: n for n, i in enumerate(self.items)}
        self.R = np.zeros((len(self.users), len(self.items)))
        self.seen = np.zeros(self.R.shape, dtype=bool)
        for (u, i), rating in pairs.items():
            self.R[user_index[u], item_index[i]] = 1.0 if feedback == "implicit" else rating
            self.seen[user_index[u], item_index[i]] = True
        self.algorithm = algorithm
        R = self.R
        if algorithm == "itemcf":
            W = R.copy()
            if weighting == "iuf":
                per_user = np.array([math.log(1 + c) for c in self.seen.sum(axis=1)])
                W = R / per_user[:, None]
            sims = self._cosine(W.T @ R, (R * R).sum(axis=0))
            self.S = self._top_k(sims, neighbours, normalize)
        elif algorithm == "usercf":
            W = R.copy()
            if weighting == "iif":
                per_item = np.array([math.log(1 + c) for c in self.seen.sum(axis=0)])
                W = R / per_item[None, :]
            sims = self._cosine(W @ R.T, (R * R).sum(axis=1))
            self.N = self._top_k(sims, neighbours, False)
        else:
            raise ValueError(f"unknown algorithm {algorithm}")

    @staticmethod
    def _cosine(dots, squared_norms):
        with np.errstate(divide="ignore", invalid="ignore"):
            sims = dots / np.sqrt(np.outer(squared_norms, squared_norms))
        sims[~np.isfinite(sims)] = 0.0
        np.fill_diagonal(sims, 0.0)
        return sims

    @staticmethod
    def _top_k(sims, k, normalize):
        kept = np.zeros_like(sims)
        for row in range(sims.shape[0]):
            candidates = np.nonzero(sims[row] > 0)[0]
            # lexsort: last key is primary -> similarity descending, then index (= id order) ascending.
            order = candidates[np.lexsort((candidates, -sims[row, candidates]))][:k]
            kept[row, order] = sims[row, order]
            if normalize and len(order):
                kept[row, order] /= sims[row, order[0]]
        return kept

    def scores(self):
        """users x items score matrix (seen items included)."""
        if self.algorithm == "itemcf":
            return self.R @ self.S
        return self.N @ self.R

    def top(self, n=10):
        """{user: [(item, score), ...]}: unseen items with score > 0, best first, ties to the smaller id."""
        scores = self.scores()
        result = {}
        for u, user in enumerate(self.users):
            row = scores[u]
            candidates = np.nonzero((row > 0) & ~self.seen[u])[0]
            order = candidates[np.lexsort((candidates, -row[candidates]))][:n]
            result[user] = [(self.items[i], float(row[i])) for i in order]
        return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--algorithm", choices=["itemcf", "usercf"], required=True)
    parser.add_argument("--neighbours", type=int, default=20)
    parser.add_argument("--feedback", choices=["implicit", "explicit"], default="implicit")
    parser.add_argument("--weighting", choices=["none", "iuf", "iif"], default="none")
    parser.add_argument("--normalize", action="store_true")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    model = Model(load(args.data), args.algorithm, args.neighbours, args.feedback, args.weighting, args.normalize)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump({"top": args.top, "users": model.top(args.top)}, handle)


if __name__ == "__main__":
    main()
