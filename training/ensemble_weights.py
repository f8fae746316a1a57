"""The rule that picks an ensemble's combination weights on FER+ Valid (greedy forward selection
with replacement, Caruana et al. 2004), without PyTorch: ensemble.py uses it on members' PyTorch
probabilities, members.py on probabilities scored through WASM."""
import numpy as np


def accuracy(p, labels):
    keep = labels >= 0
    return float((p.argmax(1)[keep] == labels[keep]).mean())


def xent(p, soft):
    return float(-(soft * np.log(np.clip(p, 1e-12, None))).sum(1).mean())


def choose_weights(probs, labels, soft, rounds=20):
    """Greedy forward selection with replacement from a bag holding every member once."""
    counts = np.ones(len(probs))

    def score(c):
        return combination_score(probs, c / c.sum(), labels, soft)

    best_c, best_s = counts.copy(), score(counts)
    for _ in range(rounds):
        cands = []
        for j in range(len(probs)):
            c = counts.copy()
            c[j] += 1
            cands.append((score(c), j))
        s, j = max(cands)
        counts[j] += 1
        if s > best_s:
            best_c, best_s = counts.copy(), s
    return best_c / best_c.sum()


def combination_score(probs, weights, labels, soft):
    """(Valid majority accuracy, -soft-target cross-entropy) of a weighted mean: the order the
    greedy selection ranks bags by."""
    p = sum(w * q for w, q in zip(weights, probs))
    return accuracy(p, labels), -xent(p, soft)


def choose_within(probs, labels, soft, sizes, max_bytes, rounds=20):
    """choose_weights on a subset of members whose sizes sum to at most max_bytes (the page
    downloads the whole file: the ensemble's size budget). Backward elimination: while the kept
    members are over the budget, leave out the one whose absence costs the chosen combination
    least (same score as choose_weights). Returns (kept indices, their weights)."""
    keep = list(range(len(probs)))
    if min(sizes) > max_bytes:
        raise ValueError(f"no member fits in {max_bytes} bytes")
    while sum(sizes[i] for i in keep) > max_bytes:
        cands = []
        for j in keep:
            rest = [i for i in keep if i != j]
            if not rest or min(sizes[i] for i in rest) > max_bytes:
                continue  # leaving j out must leave a member that can still fit
            w = choose_weights([probs[i] for i in rest], labels, soft, rounds)
            cands.append((combination_score([probs[i] for i in rest], w, labels, soft), -j, j))
        keep.remove(max(cands)[2])
    return keep, choose_weights([probs[i] for i in keep], labels, soft, rounds)
