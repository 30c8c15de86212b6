#include "checkpoints/t5_layout.h"

#include <type_traits>

#include "core/error.h"
#include "core/strings.h"

namespace ankh::checkpoints {

namespace {

// Bounds far above any T5 (the largest have 24-48 layers per stack and widths of a few thousand) that
// keep every product of two sizes inside int64 and the list of names finite: a config.json from
// elsewhere that says num_layers 10^8 is refused rather than enumerated.
constexpr int64_t kMaxSize = int64_t{1} << 24;
constexpr int64_t kMaxLayers = 1024;

int64_t int_key(const nlohmann::json& config, const char* key, std::optional<int64_t> fallback = std::nullopt,
                int64_t max = kMaxSize) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) {
    if (fallback) return *fallback;
    throw core::CheckpointError(std::string("T5 config has no '") + key + "'", "config.json", "a T5 config.json names every dimension");
  }
  if (!it->is_number_integer() || it->get<int64_t>() < 0 || (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(max)) ||
      it->get<int64_t>() > max)
    throw core::CheckpointError(std::string("T5 config key '") + key + "' is not an integer from 0 to " + std::to_string(max) +
                                    ": " + it->dump(),
                                "config.json");
  return it->get<int64_t>();
}

// An optional key of another type than an integer (a string, a bool), HF's default when absent.
template <class T>
T typed_key(const nlohmann::json& config, const char* key, T fallback) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  const bool ok = std::is_same_v<T, bool> ? it->is_boolean() : it->is_string();
  if (!ok)
    throw core::CheckpointError(std::string("T5 config key '") + key + "' is not a " +
                                    (std::is_same_v<T, bool> ? "boolean" : "string") + ": " + it->dump(),
                                "config.json");
  return it->get<T>();
}

}  // namespace

T5Layout t5_layout(const nlohmann::json& config, bool encoder_only) {
  if (!config.is_object()) throw core::CheckpointError("T5 config is not a JSON object", "config.json");
  const int64_t vocab = int_key(config, "vocab_size");
  const int64_t d_model = int_key(config, "d_model");
  const int64_t d_kv = int_key(config, "d_kv");
  const int64_t d_ff = int_key(config, "d_ff");
  const int64_t heads = int_key(config, "num_heads");
  const int64_t buckets = int_key(config, "relative_attention_num_buckets");
  const int64_t enc_layers = int_key(config, "num_layers", std::nullopt, kMaxLayers);
  const int64_t dec_layers = int_key(config, "num_decoder_layers", enc_layers, kMaxLayers);  // HF: defaults to num_layers
  const std::string ffn = typed_key(config, "feed_forward_proj", std::string("relu"));
  const bool gated = ffn.rfind("gated-", 0) == 0;
  const bool tied = typed_key(config, "tie_word_embeddings", true);  // HF's default
  const int64_t inner = heads * d_kv;

  T5Layout layout;
  auto& req = layout.required;
  req["shared.weight"] = {vocab, d_model};
  auto stack = [&](const std::string& prefix, int64_t layers, bool decoder) {
    layout.optional[prefix + "embed_tokens.weight"] = {vocab, d_model};
    for (int64_t i = 0; i < layers; ++i) {
      const std::string block = prefix + "block." + std::to_string(i) + ".layer.";
      auto attention = [&](const std::string& p) {
        req[p + "q.weight"] = {inner, d_model};
        req[p + "k.weight"] = {inner, d_model};
        req[p + "v.weight"] = {inner, d_model};
        req[p + "o.weight"] = {d_model, inner};
      };
      attention(block + "0.SelfAttention.");
      // Only the first block computes the relative position bias; the others reuse it.
      if (i == 0) req[block + "0.SelfAttention.relative_attention_bias.weight"] = {buckets, heads};
      req[block + "0.layer_norm.weight"] = {d_model};
      int ffn_layer = 1;
      if (decoder) {
        attention(block + "1.EncDecAttention.");
        req[block + "1.layer_norm.weight"] = {d_model};
        ffn_layer = 2;
      }
      const std::string ff = block + std::to_string(ffn_layer) + ".";
      if (gated) {
        req[ff + "DenseReluDense.wi_0.weight"] = {d_ff, d_model};
        req[ff + "DenseReluDense.wi_1.weight"] = {d_ff, d_model};
      } else {
        req[ff + "DenseReluDense.wi.weight"] = {d_ff, d_model};
      }
      req[ff + "DenseReluDense.wo.weight"] = {d_model, d_ff};
      req[ff + "layer_norm.weight"] = {d_model};
    }
    req[prefix + "final_layer_norm.weight"] = {d_model};
  };
  stack("encoder.", enc_layers, false);
  if (!encoder_only) {
    stack("decoder.", dec_layers, true);
    (tied ? layout.optional : req)["lm_head.weight"] = {vocab, d_model};
  }
  return layout;
}

std::vector<std::string> check_t5_tensors(const T5Layout& layout, const std::map<std::string, Shape>& shapes) {
  std::vector<std::string> problems;
  for (const auto& [name, shape] : layout.required) {
    const auto it = shapes.find(name);
    if (it == shapes.end()) problems.push_back("missing " + name + " " + core::shape_text(shape));
  }
  for (const auto& [name, shape] : shapes) {
    const Shape* expected = nullptr;
    if (const auto r = layout.required.find(name); r != layout.required.end()) expected = &r->second;
    if (const auto o = layout.optional.find(name); o != layout.optional.end()) expected = &o->second;
    if (!expected) problems.push_back("unexpected " + name + " " + core::shape_text(shape));
    else if (*expected != shape)
      problems.push_back("wrong shape " + name + ": " + core::shape_text(shape) + ", expected " + core::shape_text(*expected));
  }
  return problems;
}

std::map<std::string, Shape> shapes_of(const NamedTensors& tensors) {
  std::map<std::string, Shape> out;
  for (const auto& [name, t] : tensors) out[name] = t.sizes().vec();
  return out;
}

}  // namespace ankh::checkpoints
