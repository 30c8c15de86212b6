// `ankh export CHECKPOINT --output DIR [--dtype fp32|bf16|fp16] [--encoder-only] [--overwrite]`:
// a committed checkpoint (or a run directory's newest one) -> a Hugging Face T5 directory that
// transformers loads with T5ForConditionalGeneration / T5EncoderModel (docs/cli.md).
#include <spdlog/spdlog.h>

#include "checkpoints/hf_export.h"
#include "trainer/app/cli/choice_option.h"
#include "trainer/app/cli/command.h"
#include "trainer/weights/exporter.h"

namespace ankh::cli {

Action setup_export(CLI::App& sub) {
  struct Options {
    std::string checkpoint, output, name;
    torch::ScalarType dtype = torch::kFloat32;
    bool encoder_only = false, overwrite = false;
  };
  auto o = std::make_shared<Options>();
  sub.add_option("checkpoint", o->checkpoint,
                 "checkpoint directory (RUN/checkpoints/step-N, committed) or a run directory (its newest committed checkpoint)")
      ->required();
  sub.add_option("--output,-o", o->output, "Hugging Face directory to create (written as DIR.tmp, then renamed)")->required();
  add_choice(sub, "--dtype", o->dtype, checkpoints::export_dtypes(),
             "dtype of the exported weights (fp16 is refused if a weight overflows it)");
  sub.add_flag("--encoder-only", o->encoder_only, "only shared.* and encoder.* tensors, loadable as T5EncoderModel");
  sub.add_flag("--overwrite", o->overwrite, "replace an existing output directory (once the new one is complete)");
  sub.add_option("--name", o->name, "title of the model card (default: the run directory's name)");
  return [o]() {
    weights::ExportOptions options;
    options.checkpoint = o->checkpoint;
    options.output = o->output;
    options.dtype = o->dtype;
    options.encoder_only = o->encoder_only;
    options.overwrite = o->overwrite;
    options.name = o->name;
    const auto r = weights::export_checkpoint(options);
    spdlog::info("export: step {} of {} -> {} ({} tensors, {}, {}); load with transformers' {}.from_pretrained", r.step,
                 r.checkpoint.string(), o->output, r.tensors, checkpoints::export_dtypes().name(o->dtype), o->encoder_only ? "encoder only" : "encoder-decoder",
                 o->encoder_only ? "T5EncoderModel" : "T5ForConditionalGeneration");
    return 0;
  };
}

}  // namespace ankh::cli
