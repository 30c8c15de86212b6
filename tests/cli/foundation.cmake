# The command line of the foundation: help, config resolution and its errors.
ankh_cli_test(help unit 0 "Subcommands:" --help)
foreach(cmd preprocess train eval export embed sweep info config batches bench)
  ankh_cli_test(help_${cmd} unit 0 "Usage: .*${cmd}" ${cmd} --help)
endforeach()
ankh_cli_test(version unit 0 "^ankh [0-9]" --version)
ankh_cli_test(config_prints_yaml unit 0 "d_model: 256" config configs/ankh-tiny.yaml)
ankh_cli_test(config_override unit 0 "d_model: 320" config configs/ankh-tiny.yaml model.d_model=320)
ankh_cli_test(config_unknown_key unit nonzero "model\\.d_modle.*did you mean model\\.d_model\\?"
              config configs/ankh-tiny.yaml model.d_modle=5)
ankh_cli_test(config_wrong_type unit nonzero "model\\.d_model: expected an integer, got 'abc'"
              config configs/ankh-tiny.yaml model.d_model=abc)
ankh_cli_test(config_out_of_range unit nonzero "objective\\.mask_prob: 0 is out of range"
              config configs/ankh-tiny.yaml objective.mask_prob=0)
ankh_cli_test(config_missing_file unit nonzero "config file not found" config configs/nope.yaml)
ankh_cli_test(config_help_keys unit 0 "model\\.d_model = 768" config --help-keys)
ankh_cli_test(unknown_command unit 2 "" no-such-command)
