"""Several ``sopbot run`` processes as one bot, for the e2e tests and ``bench/bench_scale.py``:
a round-robin load balancer (:mod:`.balancer`), a PostgreSQL cluster of their own on a spare
port (:mod:`.servers`; Redis: :mod:`tests.redis_server`), the bot processes
(:mod:`.instances`) and the whole of it around the sandbox (:mod:`.stack`)."""
