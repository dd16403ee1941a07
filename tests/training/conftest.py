import pytest
import torch

from mlbook.models import Conv4
from mlbook.training import EpisodicMethod, classification_loss


class NearestMeanEmbedding(EpisodicMethod):
    """A minimal learnable method for testing the shared loop: classify queries by the nearest class mean of
    Conv4 embeddings (a ProtoNet in 8 lines; the metric chapter has the real one)."""

    def __init__(self, hidden: int = 32):
        super().__init__()
        self.embed = Conv4(hidden=hidden)

    def predict(self, episode):
        z = self.embed(torch.cat([episode.support_x, episode.query_x]))
        support, query = z[: len(episode.support_y)], z[len(episode.support_y) :]
        means = support.view(episode.n_way, episode.k_shot, -1).mean(dim=1)
        return -torch.cdist(query, means) ** 2

    def episode_loss(self, episode):
        return classification_loss(self.predict(episode), episode.query_y)


@pytest.fixture
def method_factory():
    def make(seed: int = 0):
        torch.manual_seed(seed)
        return NearestMeanEmbedding()

    return make
