"""Returns the accuracy instead of the error rate."""


def oneshot_error(predictions, answers):
    if predictions.shape != answers.shape:
        raise ValueError("predictions and answers must have one shape")
    right = (predictions == answers).double()
    return 100.0 * right.mean().item(), 100.0 * right.mean(dim=1)
