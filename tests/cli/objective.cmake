# Objective mixtures on the command line: a mixture config resolves (the vocabulary grows for its
# task tokens), `ankh info` describes it, the shipped sweep plans, and mixing the single-objective
# keys with objective.mixture, a bad weight or a bad task token are errors naming the key.
ankh_cli_test(config_mixture_grows_vocab unit 0 "vocab_size: 160" config configs/ankh3-style.yaml)
ankh_cli_test(config_mixture_with_single_key unit nonzero
              "objective\\.kind: is a single-objective key, but objective\\.mixture is set as well"
              config configs/ankh3-style.yaml objective.kind=t5_span)
ankh_cli_test(config_mixture_bad_weight unit nonzero "objective\\.mixture\\[1\\]\\.weight: 0 is out of range"
              config configs/ankh-tiny.yaml "objective.mixture=[{kind: ankh}, {kind: completion, weight: 0}]")
ankh_cli_test(config_bad_task_token unit nonzero "objective\\.prefix_token: 'A': a task token has at least two characters"
              config configs/ankh-tiny.yaml objective.prefix_token=A)
ankh_cli_test(config_multi_rate_span unit nonzero "objective\\.mask_prob: t5_span takes one noise density"
              config configs/ankh-tiny.yaml objective.kind=t5_span "objective.mask_prob=[0.1, 0.2]")
ankh_cli_test(info_mixture unit 0 "typical for a mixture of ankh, completion" info configs/ankh3-style.yaml)
ankh_cli_test(sweep_dry_run_mixture unit 0 "3 run\\(s\\) in runs/sweeps/mixture"
              sweep configs/sweeps/mixture.yaml --dry-run)
