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
        p = sum(ci * pi for ci, pi in zip(c, probs)) / c.sum()
        return accuracy(p, labels), -xent(p, soft)

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
