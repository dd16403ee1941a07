"""Wrong normalisation: divides the wrong trials by the number of runs only."""


def oneshot_error(predictions, answers):
    if predictions.shape != answers.shape:
        raise ValueError("predictions and answers must have one shape")
    wrong = (predictions != answers).double()
    return 100.0 * wrong.sum().item() / len(wrong), 100.0 * wrong.mean(dim=1)
