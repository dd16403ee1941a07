"""No argument checks: impossible episodes fail inside torch, not with a ValueError."""

import torch

from mlbook.data import Episode


def sample_episode(images, labels, n_way, k_shot, q_query, generator):
    class_ids = torch.unique(labels)
    classes = class_ids[torch.randperm(len(class_ids), generator=generator)[:n_way]]
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
