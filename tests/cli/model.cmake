# `ankh info` and `ankh bench model`: the parameter counts of the paper's models, errors.
ankh_cli_test(info_ankh_base unit 0 "total +736,453,632" info configs/ankh-base.yaml)
ankh_cli_test(info_ankh_large unit 0 "total +1,878,705,152" info configs/ankh-large.yaml)
ankh_cli_test(info_flops unit 0 "per token +[0-9.]+ GFLOP" info configs/ankh-base.yaml)
ankh_cli_test(info_decoder_length unit 0 "512 / 205" info configs/ankh-base.yaml)
ankh_cli_test(info_memory unit 0 "optimizer .*adafactor" info configs/ankh-tiny.yaml)
ankh_cli_test(info_override unit 0 "total +509,924,352" info configs/ankh-base.yaml model.encoder_layers=24)
ankh_cli_test(info_tied unit 0 "lm_head +0 +tied" info configs/ankh-tiny.yaml model.tie_embeddings=true)
ankh_cli_test(info_bad_key unit nonzero "model\\.d_mdoel.*did you mean model\\.d_model" info configs/ankh-tiny.yaml model.d_mdoel=8)
ankh_cli_test(info_bad_activation unit nonzero "model\\.activation" info configs/ankh-tiny.yaml model.activation=swish)
ankh_cli_test(info_no_config unit nonzero "config" info)
ankh_cli_test(bench_model_help unit 0 "matmul" bench model --help)
ankh_cli_test(bench_model_cpu slow 0 "\\| configs/ankh-tiny.yaml \\|.*%"
              bench model --config configs/ankh-tiny.yaml --batch 2 --length 64 --steps 1 --warmup 1 --matmul-size 256)
# Variants: a row per config, batch and variant, each against the first variant's tokens/s.
ankh_cli_test(bench_model_variants slow 0 "\\| fused \\| [^|]+ \\| 4 x 64/27 \\| [^|]+ \\| [0-9.]+x \\|"
              bench model --config configs/ankh-tiny.yaml --batch 2,4 --length 64 --steps 1 --warmup 0 --matmul-size 128
              --variant "plain: model.attention=plain model.fuse_projections=false" --variant "fused: model.attention=fused")
ankh_cli_test(bench_model_bad_variant unit nonzero "--variant.*'fused' is not LABEL" bench model --variant fused)
ankh_cli_test(bench_model_bad_variant_key unit nonzero "model\\.attention.*not one of"
              bench model --config configs/ankh-tiny.yaml --variant "x: model.attention=flash")
# --optimizer: each row also timed with clipping and the optimizer step.
ankh_cli_test(bench_model_optimizer slow 0 "^\\| configs/ankh-tiny.yaml \\| - (\\|[^|]*){10}\\| -?[0-9.]+ \\|$"
              bench model --config configs/ankh-tiny.yaml --batch 2 --length 64 --steps 1 --warmup 0 --matmul-size 128
              --optimizer)
