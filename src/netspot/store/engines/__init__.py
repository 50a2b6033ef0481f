"""Query engines over the store: DuckDB (default, in-process) and Spark (the ``netspot[spark]`` extra)."""
