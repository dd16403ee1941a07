"""Classes are drawn with replacement (torch.randint), so one can repeat."""

import torch

from mlbook.data import Episode


def sample_episode(images, labels, n_way, k_shot, q_query, generator):
    class_ids = torch.unique(labels)
    if n_way < 2 or n_way > len(class_ids):
        raise ValueError(f"n_way must be in [2, {len(class_ids)}], got {n_way}")
    if k_shot < 1:
        raise ValueError(f"k_shot must be at least 1, got {k_shot}")
    if q_query < 1:
        raise ValueError(f"q_query must be at least 1, got {q_query}")
    smallest = min(int((labels == c).sum()) for c in class_ids)
    if k_shot + q_query > smallest:
        raise ValueError(f"k_shot + q_query > {smallest}")
    classes = class_ids[torch.randint(len(class_ids), (n_way,), generator=generator)]
    support, query = [], []
    for c in classes:
        members = torch.nonzero(labels == c).flatten()
        chosen = members[torch.randperm(len(members), generator=generator)[: k_shot + q_query]]
        support.append(chosen[:k_shot])
        query.append(chosen[k_shot:])
    support_idx, query_idx = torch.cat(support), torch.cat(query)
    ways = torch.arange(n_way)
    return Episode(
        images[support_idx],
        ways.repeat_interleave(k_shot),
        images[query_idx],
        ways.repeat_interleave(q_query),
        n_way,
        k_shot,
        classes.long(),
    )
