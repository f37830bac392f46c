"""Where data comes from: the mini-world, a local BEIR folder, a BEIR download (one registry,
``registry.SOURCES``; ``registry.fetch_tables(data_params, root)``)."""
