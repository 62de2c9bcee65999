"""Welcome: the batched group greeting, the gift pack, the deep-link arrival; its loop
and the delivery hook that marks a member unreachable."""
