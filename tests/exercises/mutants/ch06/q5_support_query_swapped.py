"""Support and query mixed up: prototypes from the query images."""

import torch


def protonet_train_step(encoder, episode, optimizer):
    embeddings = encoder(torch.cat([episode.query_x, episode.support_x]))
    n = len(episode.query_y)
    loss, _ = protonet_loss(embeddings[:n], episode.query_y, embeddings[n:], episode.support_y, episode.n_way)  # noqa: F821 (the reference's, in scope)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()
