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
  * similarity of rows a, b of X (items x users for itemcf, users x items for usercf; absent pairs 0; n = columns):
      cosine           dot / sqrt(|a|^2 |b|^2)                       (the only one with iuf / iif)
      pearson          (dot - S_a S_b / n) / sqrt((Q_a - S_a^2/n)(Q_b - S_b^2/n)), S = sum, Q = sum of squares
      adjusted_cosine  cosine after each stored value minus its column's mean over the column's stored values
      jaccard          |A & B| / |A | B| of the sets of stored columns
      euclidean        1 / (1 + sqrt(Q_a + Q_b - 2 dot))
    (0 where a denominator is 0). Blend: (1 - w) sim + w attr, attr = cosine of the binary attribute vectors
    (user_features / item_features columns: `name` one-hot, token_seq multi-hot, `name/width` buckets
    floor(x / width), a non-number being a category of its own; `name[:n]` the first n characters).

  * evaluation splits: h(seed, u, i) = sm(sm(sm(seed) ^ u) ^ i) with splitmix64's finaliser; integer ids enter as
    their value, others as FNV-1a 64 of their UTF-8 bytes. Leave-last-one-out orders each user's rows by
    (timestamp, h, item) and holds out the last (users with >= 2 rows); 80/20 orders by (h, item) and holds out the
    first floor(n/5).

Usage:
  reference_cf.py --data data/ml-100k.inter --algorithm itemcf --neighbours 20 --weighting iuf [--normalize]
                  [--feedback implicit|explicit] [--top 10] --out ref.json
  reference_cf.py --data data/ml-100k.inter --algorithm usercf --evaluate loo
  reference_cf.py --data data/ml-100k.inter --algorithm usercf --similarity pearson \
                  --attributes data/ml-100k.user --features "age/10, gender, occupation" \
                  --feature-weight 0.2 --out ref.json
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


def content_lines(path):
    """The file's lines without line ends, blank and `#` lines skipped."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\r\n")
            if line.strip() and not line.lstrip().startswith("#"):
                yield line


def load(path):
    """Returns {(user, item): (rating or None, timestamp)}, the last row winning; a missing timestamp is 0."""
    pairs = {}
    delimiter = None
    user_col, item_col, rating_col, time_col = 0, 1, 2, 3
    for line in content_lines(path):
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
                times = [n for n in names if n in ("timestamp", "time", "ts")]
                time_col = names.index(times[0]) if times else None
                continue
        fields = [f.strip() for f in line.split(delimiter)]
        rating = None
        if rating_col is not None and rating_col < len(fields) and fields[rating_col]:
            rating = float(fields[rating_col])
        timestamp = 0.0
        if time_col is not None and time_col < len(fields) and fields[time_col]:
            timestamp = float(fields[time_col])
        pairs[(fields[user_col], fields[item_col])] = (rating, timestamp)
    return pairs


def load_attributes(path):
    """An attribute file: ([(name, type), ...] after the id column, {id: [values]})."""
    header, rows, delimiter = None, {}, "\t"
    for line in content_lines(path):
        if header is None:
            delimiter = "\t" if "\t" in line else ","
        fields = [f.strip() for f in line.split(delimiter)]
        if header is None:
            header = [tuple(f.split(":", 1)) if ":" in f else (f, "token") for f in fields]
            continue
        fields += [""] * (len(header) - len(fields))
        rows[fields[0]] = fields[1:]
    return header[1:], rows


def parse_features(text):
    """`name`, `name/width`, `name[:n]` specs -> [(name, kind, parameter)]."""
    specs = []
    for part in text.split(","):
        part = part.strip()
        match = re.fullmatch(r"([^/\[\]]+?)\s*\[:(\d+)\]", part)
        if "/" in part:
            name, width = part.split("/", 1)
            specs.append((name.strip(), "bucket", float(width)))
        elif match:
            specs.append((match.group(1), "prefix", int(match.group(2))))
        else:
            specs.append((part, "categorical", None))
    return specs


def _is_number(text):
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def attribute_matrix(attributes, ids, spec):
    """Binary ids x features matrix of the spec's columns."""
    columns, rows = attributes
    names = [name for name, _ in columns]
    per_id = []
    for identifier in ids:
        features = set()
        values = rows.get(identifier)
        for name, kind, parameter in parse_features(spec) if values is not None else []:
            position = names.index(name)
            value = values[position]
            if not value:
                continue
            if kind == "bucket" and _is_number(value):
                features.add((name, "bucket", math.floor(float(value) / parameter)))
            elif kind == "prefix":
                features.add((name, "value", value[:parameter]))
            elif columns[position][1] == "token_seq":
                features.update((name, "value", token) for token in value.split(" ") if token)
            else:
                features.add((name, "value", value))
        per_id.append(features)
    vocabulary = {feature: n for n, feature in enumerate(sorted(set().union(*per_id), key=repr))}
    A = np.zeros((len(ids), len(vocabulary)))
    for row, features in enumerate(per_id):
        for feature in features:
            A[row, vocabulary[feature]] = 1.0
    return A


def _divide(numerator, denominator):
    """numerator / denominator, 0 where the denominator is not positive."""
    with np.errstate(divide="ignore", invalid="ignore"):
        result = numerator / denominator
    result[~(denominator > 0)] = 0.0
    return result


def similarities(X, present, measure, divisors=None):
    """Similarity of every pair of rows of X (rows x columns, absent = 0); `present` marks stored entries."""
    n = X.shape[1]
    if measure == "cosine":
        W = X if divisors is None else X / divisors[None, :]
        Q = (X * X).sum(axis=1)
        return _divide(W @ X.T, np.sqrt(np.outer(Q, Q)))
    if measure == "pearson":
        S, Q = X.sum(axis=1), (X * X).sum(axis=1)
        variance = Q - S * S / n
        return _divide(X @ X.T - np.outer(S, S) / n, np.sqrt(np.outer(variance, variance)) * 1.0)
    if measure == "adjusted_cosine":
        counts = present.sum(axis=0)
        means = np.where(counts > 0, (X * present).sum(axis=0) / np.maximum(counts, 1), 0.0)
        return similarities(np.where(present, X - means[None, :], 0.0), present, "cosine")
    if measure == "jaccard":
        B = present.astype(float)
        common = B @ B.T
        sizes = B.sum(axis=1)
        return _divide(common, sizes[:, None] + sizes[None, :] - common)
    if measure == "euclidean":
        Q = (X * X).sum(axis=1)
        return 1.0 / (1.0 + np.sqrt(np.maximum(Q[:, None] + Q[None, :] - 2 * (X @ X.T), 0.0)))
    raise ValueError(f"unknown similarity {measure}")


class Model:
    """Dense reference model."""

    def __init__(self, pairs, algorithm, neighbours, feedback="implicit", weighting="none", normalize=False,
                 similarity="cosine", attributes=None, features=None, feature_weight=0.0):
        self.users = sorted({u for u, _ in pairs}, key=id_key)
        self.items = sorted({i for _, i in pairs}, key=id_key)
        user_index = {u: n for n, u in enumerate(self.users)}
        item_index = {i: n for n, i in enumerate(self.items)}
        self.R = np.zeros((len(self.users), len(self.items)))
        self.seen = np.zeros(self.R.shape, dtype=bool)
        for (u, i), (rating, _) in pairs.items():
            self.R[user_index[u], item_index[i]] = 1.0 if feedback == "implicit" else rating
            self.seen[user_index[u], item_index[i]] = True
        self.algorithm = algorithm
        if algorithm == "itemcf":
            X, present, ids = self.R.T, self.seen.T, self.items
            divisors = None
            if weighting == "iuf":
                divisors = np.array([math.log(1 + c) for c in self.seen.sum(axis=1)])
        elif algorithm == "usercf":
            X, present, ids = self.R, self.seen, self.users
            divisors = None
            if weighting == "iif":
                divisors = np.array([math.log(1 + c) for c in self.seen.sum(axis=0)])
        else:
            raise ValueError(f"unknown algorithm {algorithm}")
        sims = similarities(X, present, similarity, divisors)
        if feature_weight > 0:
            A = attribute_matrix(attributes, ids, features)
            counts = A.sum(axis=1)
            blend = _divide(A @ A.T, np.sqrt(np.outer(counts, counts)))
            sims = (1 - feature_weight) * sims + feature_weight * blend
        np.fill_diagonal(sims, 0.0)
        kept = self._top_k(sims, neighbours, normalize and algorithm == "itemcf")
        if algorithm == "itemcf":
            self.S = kept
        else:
            self.N = kept

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


MASK = (1 << 64) - 1


def splitmix64(x):
    z = (x + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def fnv1a64(text):
    value = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 0x100000001B3) & MASK
    return value


def id_value(identifier):
    """An integer id that fits in int64 is its value (two's complement); any other id is FNV-1a 64 of its UTF-8."""
    if _INTEGER.match(identifier) and -(1 << 63) <= int(identifier) < (1 << 63):
        return int(identifier) & MASK
    return fnv1a64(identifier)


def split_hash(seed, user, item):
    return splitmix64(splitmix64(splitmix64(seed) ^ id_value(user)) ^ id_value(item))


def split(pairs, protocol, seed=42):
    """(train pairs, {user: [held-out items]}) for protocol "loo" (leave-last-one-out) or "8020"."""
    by_user = {}
    for (user, item), value in pairs.items():
        by_user.setdefault(user, []).append((item, value))
    train, held = {}, {}
    for user, rows in by_user.items():
        if protocol == "loo":
            rows.sort(key=lambda row: (row[1][1], split_hash(seed, user, row[0]), id_key(row[0])))
            out = rows[-1:] if len(rows) >= 2 else []
        else:
            rows.sort(key=lambda row: (split_hash(seed, user, row[0]), id_key(row[0])))
            out = rows[: len(rows) // 5]
        out_items = {item for item, _ in out}
        if out:
            held[user] = [item for item, _ in out]
        for item, value in rows:
            if item not in out_items:
                train[(user, item)] = value
    return train, held


def evaluate(pairs, protocol, cutoff=10, seed=42, **variant):
    """Metrics of one variant under one protocol, as RecommendCore's Evaluation defines them."""
    train, held = split(pairs, protocol, seed)
    model = Model(train, **variant)
    top = model.top(cutoff)
    sums, recommended = {}, set()
    for user, items in held.items():
        ranked = [item for item, _ in top[user]]
        recommended.update(ranked)
        hits = [position for position, item in enumerate(ranked) if item in set(items)]
        dcg = sum(1 / math.log2(position + 2) for position in hits)
        if protocol == "loo":
            sums["hr"] = sums.get("hr", 0) + (1 if hits else 0)
            sums["ndcg"] = sums.get("ndcg", 0) + dcg
        else:
            ideal = sum(1 / math.log2(position + 2) for position in range(min(cutoff, len(items))))
            sums["precision"] = sums.get("precision", 0) + len(hits) / cutoff
            sums["recall"] = sums.get("recall", 0) + len(hits) / len(items)
            sums["ndcg"] = sums.get("ndcg", 0) + dcg / ideal
    metrics = {f"{name}@{cutoff}": total / len(held) for name, total in sums.items()}
    metrics[f"coverage@{cutoff}"] = len(recommended) / len(model.items)
    metrics["users"] = float(len(held))
    return metrics


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--algorithm", choices=["itemcf", "usercf"], required=True)
    parser.add_argument("--neighbours", type=int, default=20)
    parser.add_argument("--feedback", choices=["implicit", "explicit"], default="implicit")
    parser.add_argument("--weighting", choices=["none", "iuf", "iif"], default="none")
    parser.add_argument("--normalize", action="store_true")
    parser.add_argument("--similarity", choices=["cosine", "pearson", "adjusted_cosine", "jaccard", "euclidean"],
                        default="cosine")
    parser.add_argument("--attributes", help="the user (usercf) or item (itemcf) attribute file of the blend")
    parser.add_argument("--features", help="the blend's attribute columns, e.g. 'age/10, gender, occupation'")
    parser.add_argument("--feature-weight", type=float, default=0.0)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--evaluate", choices=["loo", "8020"], help="print the protocol's metrics instead")
    parser.add_argument("--out", help="JSON file for the top-N lists")
    args = parser.parse_args()
    variant = dict(algorithm=args.algorithm, neighbours=args.neighbours, feedback=args.feedback,
                   weighting=args.weighting, normalize=args.normalize, similarity=args.similarity,
                   attributes=load_attributes(args.attributes) if args.attributes else None,
                   features=args.features, feature_weight=args.feature_weight)
    if args.evaluate:
        print(json.dumps(evaluate(load(args.data), args.evaluate, cutoff=args.top, **variant), sort_keys=True))
        return
    if not args.out:
        parser.error("--out is required unless --evaluate is given")
    model = Model(load(args.data), **variant)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump({"top": args.top, "users": model.top(args.top)}, handle)


if __name__ == "__main__":
    main()
