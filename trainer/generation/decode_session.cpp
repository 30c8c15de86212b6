#include "trainer/generation/decode_session.h"

#include <torch/torch.h>

namespace ankh::generation {

DecodeSession::DecodeSession(model::T5Model& model, const torch::Tensor& encoder_hidden,
                             const torch::Tensor& attention_mask, const torch::Tensor& rows, bool incremental)
    : model_(model), incremental_(incremental), hidden_(encoder_hidden), mask_(attention_mask),
      rows_(rows.to(encoder_hidden.device()).to(torch::kLong)) {
  if (incremental_) cache_ = model_->start_decoding(hidden_, mask_, rows_);
}

torch::Tensor DecodeSession::step(const torch::Tensor& tokens) {
  const torch::Tensor t = tokens.to(hidden_.device()).to(torch::kLong);
  torch::Tensor logits;
  if (incremental_) {
    logits = model_->decode_step(cache_, t);
  } else {
    history_ = history_.defined() ? torch::cat({history_, t.unsqueeze(1)}, 1) : t.unsqueeze(1);
    const torch::Tensor all = model_->decode(history_, torch::ones_like(history_), hidden_.index_select(0, rows_),
                                             mask_.index_select(0, rows_));
    logits = all.select(1, all.size(1) - 1);
  }
  return logits.to(torch::kCPU, torch::kFloat).contiguous();
}

void DecodeSession::reorder(const torch::Tensor& keep) {
  const torch::Tensor k = keep.to(hidden_.device()).to(torch::kLong);
  if (incremental_) {
    model_->reorder(cache_, k);
    return;
  }
  rows_ = rows_.index_select(0, k);
  if (history_.defined()) history_ = history_.index_select(0, k);
}

}  // namespace ankh::generation
