"""Search over the whole pipeline with FLAML: spaces as data, the driver, the trial log and ensembles.

Modules: `spaces` (default spaces per model, as data), `checks` (recipe checks), `config` (the declared search and
its plan text), `flaml_space` (FLAML domains, start points), `trial` (one trial: the pipeline under the recipe's CV),
`executors` (in-process, local processes, Ray), `driver` (the ask/tell loop), `trials` (trial log, leaderboard,
replay overrides), `ensemble`, `stage` (the runner stage). Nothing heavy is imported until a search runs.
"""
