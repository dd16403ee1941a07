"""Per-run errors averaged over runs (dim 0) instead of over trials."""


def oneshot_error(predictions, answers):
    if predictions.shape != answers.shape:
        raise ValueError("predictions and answers must have one shape")
    wrong = (predictions != answers).double()
    return 100.0 * wrong.mean().item(), 100.0 * wrong.mean(dim=0)
