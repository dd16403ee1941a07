"""Projects onto the running (already projected) gradient of the other task instead of its original g_j."""


def pcgrad(grads, order=None):
    num_tasks = grads.shape[0]
    if order is None:
        order = [list(range(num_tasks))] * num_tasks
    projected = grads.clone()
    for i in range(num_tasks):
        for j in order[i]:
            if j == i:
                continue
            dot = projected[i] @ projected[j]
            if dot < 0:
                projected[i] = projected[i] - dot / (projected[j] @ projected[j]) * projected[j]
    return projected.sum(dim=0), projected
