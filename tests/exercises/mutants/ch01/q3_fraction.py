"""Wrong normalisation: returns fractions, not percentages."""


def oneshot_error(predictions, answers):
    if predictions.shape != answers.shape:
        raise ValueError("predictions and answers must have one shape")
    wrong = (predictions != answers).double()
    return wrong.mean().item(), wrong.mean(dim=1)
