"""Forgets optimizer.step(): the encoder never changes."""

import torch


def protonet_train_step(encoder, episode, optimizer):
    embeddings = encoder(torch.cat([episode.support_x, episode.query_x]))
    n = len(episode.support_y)
    loss, _ = protonet_loss(embeddings[:n], episode.support_y, embeddings[n:], episode.query_y, episode.n_way)  # noqa: F821 (the reference's, in scope)
    optimizer.zero_grad()
    loss.backward()
    return loss.item()
