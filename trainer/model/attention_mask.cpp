#include "trainer/model/attention_mask.h"

#include <limits>

#include "core/error.h"

namespace ankh::model {

double lowest_value(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat: return std::numeric_limits<float>::lowest();
    case torch::kDouble: return std::numeric_limits<double>::lowest();
    case torch::kBFloat16: return static_cast<double>(std::numeric_limits<c10::BFloat16>::lowest());
    case torch::kHalf: return static_cast<double>(std::numeric_limits<c10::Half>::lowest());
    default:
      throw core::Error(std::string("attention masks need a floating dtype, got ") + c10::toString(dtype),
                        "model::lowest_value");
  }
}

namespace {
torch::Tensor to_additive(const torch::Tensor& keep, torch::ScalarType dtype) {
  const auto options = torch::TensorOptions().dtype(dtype).device(keep.device());
  return torch::zeros(keep.sizes(), options).masked_fill_(keep.logical_not(), lowest_value(dtype));
}
}  // namespace

torch::Tensor padding_mask(const torch::Tensor& attention_mask, torch::ScalarType dtype) {
  return to_additive(attention_mask.ne(0).unsqueeze(1).unsqueeze(1), dtype);
}

torch::Tensor causal_padding_mask(const torch::Tensor& decoder_attention_mask, torch::ScalarType dtype) {
  const int64_t length = decoder_attention_mask.size(1);
  const auto bool_options = torch::TensorOptions().dtype(torch::kBool).device(decoder_attention_mask.device());
  const torch::Tensor causal = torch::ones({length, length}, bool_options).tril();  // [Lq, Lk]
  const torch::Tensor real_keys = decoder_attention_mask.ne(0).unsqueeze(1).unsqueeze(1);  // [B,1,1,Lk]
  return to_additive(causal.logical_and(real_keys), dtype);  // [B,1,Lq,Lk]
}

}  // namespace ankh::model
