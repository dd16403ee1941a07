from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = None

@test_case(points=1, hidden=False)
def test_shapes_and_labels(sample_episode):
    import torch
    from mlbook.grading.checks import expect, expect_equal, expect_tensor
    from mlbook.grading.fixtures import indexed_images
    images, labels = indexed_images(6, 5)
    episode = sample_episode(images, labels, 3, 2, 2, torch.Generator().manual_seed(0))
    expect(hasattr(episode, 'support_x'), 'sample_episode must return an Episode')
    expect_tensor('support_x', episode.support_x, (6, 1, 2, 2), torch.float32)
    expect_tensor('query_x', episode.query_x, (6, 1, 2, 2), torch.float32)
    expect_tensor('support_y', episode.support_y, (6,), torch.long)
    expect_tensor('query_y', episode.query_y, (6,), torch.long)
    expect_equal('support_y (3-way 2-shot, class by class)', episode.support_y, torch.tensor([0, 0, 1, 1, 2, 2]))
    expect_equal('query_y (3-way, 2 queries per class)', episode.query_y, torch.tensor([0, 0, 1, 1, 2, 2]))
    expect_tensor('classes', episode.classes, (3,), torch.long)
    expect(len(set(episode.classes.tolist())) == 3, f'classes must be distinct, got {episode.classes.tolist()}')
    expect(set(episode.classes.tolist()) <= set(range(6)), f'classes must be ids from labels, got {episode.classes.tolist()}')
    expect_equal('n_way', episode.n_way, 3)
    expect_equal('k_shot', episode.k_shot, 2)

@test_case(points=1, hidden=False)
def test_images_match_labels(sample_episode):
    import torch
    from mlbook.grading.checks import expect
    from mlbook.grading.fixtures import example_ids, indexed_images
    images, labels = indexed_images(6, 5)
    episode = sample_episode(images, labels, 3, 2, 2, torch.Generator().manual_seed(1))
    support, query = (example_ids(episode.support_x), example_ids(episode.query_x))
    for name, ids, ys in (('support', support, episode.support_y), ('query', query, episode.query_y)):
        for i, (example, y) in enumerate(zip(ids, ys.tolist(), strict=True)):
            original = int(labels[example])
            meant = int(episode.classes[y])
            expect(original == meant, f'{name} image {i} is of class {original}, but its label {y} means class {meant}')
    expect(len(set(support)) == len(support), f'an example appears twice in the support set: {support}')
    expect(not set(support) & set(query), f'support and query share examples {sorted(set(support) & set(query))}')

@test_case(points=1, hidden=False)
def test_seeded(sample_episode):
    import torch
    from mlbook.grading.checks import expect
    from mlbook.grading.fixtures import indexed_images
    images, labels = indexed_images(6, 5)
    first = sample_episode(images, labels, 3, 1, 2, torch.Generator().manual_seed(7))
    again = sample_episode(images, labels, 3, 1, 2, torch.Generator().manual_seed(7))
    for field in ('support_x', 'support_y', 'query_x', 'query_y', 'classes'):
        expect(torch.equal(getattr(first, field), getattr(again, field)), f'same seed, different {field}')
    seen = {tuple(sample_episode(images, labels, 3, 1, 2, torch.Generator().manual_seed(s)).classes.tolist()) for s in range(10)}
    expect(len(seen) > 1, 'ten different seeds gave the same classes: is the sampler random?')

@test_case(points=1, hidden=False)
def test_impossible_episodes(sample_episode):
    import torch
    from mlbook.grading.checks import expect_raises
    from mlbook.grading.fixtures import indexed_images
    images, labels = indexed_images(6, 5)
    g = torch.Generator().manual_seed(0)
    expect_raises(ValueError, lambda: sample_episode(images, labels, 7, 1, 1, g), 'n_way=7 with 6 classes', 'n_way')
    expect_raises(ValueError, lambda: sample_episode(images, labels, 3, 4, 2, g), 'k_shot+q_query=6 > 5', 'k_shot')

