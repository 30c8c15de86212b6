#include "data/collate.h"

#include <algorithm>

#include "data/vocab.h"

namespace ankh::data {

Batch collate(const Example* examples, std::size_t count) {
  std::size_t le = 1, ld = 1;
  for (std::size_t i = 0; i < count; ++i) {
    le = std::max(le, examples[i].input.size());
    ld = std::max(ld, examples[i].target.size());
  }
  const auto b = static_cast<int64_t>(count);
  const auto opts = torch::TensorOptions().dtype(torch::kInt64);
  Batch batch;
  batch.input_ids = torch::full({b, static_cast<int64_t>(le)}, kPad, opts);
  batch.attention_mask = torch::zeros({b, static_cast<int64_t>(le)}, opts);
  batch.decoder_input_ids = torch::full({b, static_cast<int64_t>(ld)}, kPad, opts);
  batch.decoder_attention_mask = torch::zeros({b, static_cast<int64_t>(ld)}, opts);
  batch.labels = torch::full({b, static_cast<int64_t>(ld)}, kIgnoreLabel, opts);
  batch.tasks = torch::empty({b}, opts);

  int64_t* in = batch.input_ids.data_ptr<int64_t>();
  int64_t* in_mask = batch.attention_mask.data_ptr<int64_t>();
  int64_t* dec = batch.decoder_input_ids.data_ptr<int64_t>();
  int64_t* dec_mask = batch.decoder_attention_mask.data_ptr<int64_t>();
  int64_t* labels = batch.labels.data_ptr<int64_t>();
  int64_t* tasks = batch.tasks.data_ptr<int64_t>();
  int64_t tokens = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const Example& e = examples[i];
    tasks[i] = e.task;
    int64_t* in_row = in + i * le;
    int64_t* in_mask_row = in_mask + i * le;
    for (std::size_t t = 0; t < e.input.size(); ++t) {
      in_row[t] = e.input[t];
      in_mask_row[t] = 1;
    }
    int64_t* dec_row = dec + i * ld;
    int64_t* dec_mask_row = dec_mask + i * ld;
    int64_t* label_row = labels + i * ld;
    for (std::size_t t = 0; t < e.target.size(); ++t) {
      label_row[t] = e.target[t];
      dec_row[t] = t == 0 ? kDecoderStart : e.target[t - 1];
      dec_mask_row[t] = 1;
    }
    tokens += static_cast<int64_t>(e.target.size());
  }
  batch.target_tokens = tokens;
  return batch;
}

}  // namespace ankh::data
