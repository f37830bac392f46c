"""Scale-out on existing engines (issue 18): Prefect retries, Dask fan-out, torchrun DDP."""
