"""Projects the rows of `grads` in place: modifies the caller's tensor, and later tasks see projected rows."""


def pcgrad(grads, order=None):
    num_tasks = grads.shape[0]
    if order is None:
        order = [list(range(num_tasks))] * num_tasks
    for i in range(num_tasks):
        for j in order[i]:
            if j == i:
                continue
            dot = grads[i] @ grads[j]
            if dot < 0:
                grads[i] -= dot / (grads[j] @ grads[j]) * grads[j]
    return grads.sum(dim=0), grads
