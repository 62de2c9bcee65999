"""Several ``sopbot run`` processes as one bot, for the e2e tests and ``bench/bench_scale.py``:
a round-robin load balancer (:mod:`.balancer`), a PostgreSQL cluster and a Redis server of
their own on spare ports (:mod:`.servers`), and the bot processes (:mod:`.instances`)."""
