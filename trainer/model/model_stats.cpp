#include "trainer/model/model_stats.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "trainer/model/attention.h"
#include "trainer/model/gated_activation.h"
#include "trainer/model/layers.h"

namespace ankh::model {

namespace {

struct Dims {
  double d, a, f, h, v, buckets, gated_matrices, enc_layers, dec_layers;
  explicit Dims(const ModelConfig& c)
      : d(static_cast<double>(c.d_model)),
        a(static_cast<double>(c.num_heads * c.d_kv)),
        f(static_cast<double>(c.d_ff)),
        h(static_cast<double>(c.num_heads)),
        v(static_cast<double>(c.vocab_size)),
        buckets(static_cast<double>(c.relative_buckets)),
        gated_matrices(is_gated(c.activation) ? 3 : 2),
        enc_layers(static_cast<double>(c.encoder_layers)),
        dec_layers(static_cast<double>(c.decoder_layers)) {}
};

}  // namespace

ParamCounts count_parameters(const ModelConfig& c) {
  const int64_t inner = c.num_heads * c.d_kv;
  const int64_t attention = 4 * c.d_model * inner;
  const int64_t feed_forward = (is_gated(c.activation) ? 3 : 2) * c.d_model * c.d_ff;
  const int64_t relative_table = c.relative_buckets * c.num_heads;
  ParamCounts p;
  p.encoder = c.encoder_layers * (attention + feed_forward + 2 * c.d_model) + relative_table + c.d_model;
  p.decoder = c.decoder_layers * (2 * attention + feed_forward + 3 * c.d_model) + relative_table + c.d_model;
  p.embeddings = c.vocab_size * c.d_model;
  p.lm_head = c.tie_embeddings ? 0 : c.vocab_size * c.d_model;
  p.total = p.encoder + p.decoder + p.embeddings + p.lm_head;
  return p;
}

namespace {

// One task's decoder length for a full-length sample at masking rate `rate`.
double task_decoder_length(const data::TaskConfig& task, double rate, int64_t residues) {
  const int64_t masked = std::llround(rate * static_cast<double>(residues));
  switch (task.kind) {
    case data::ObjectiveKind::Ankh: return static_cast<double>(2 * masked + 1);
    case data::ObjectiveKind::T5Span: {
      const int64_t spans = std::max<int64_t>(1, std::llround(static_cast<double>(masked) / task.mean_span_length));
      return static_cast<double>(masked + spans + 1);
    }
    case data::ObjectiveKind::FullReconstruction: return static_cast<double>(residues + 1);
    case data::ObjectiveKind::Completion: {
      const double fraction = (task.prefix_fraction.front() + task.prefix_fraction.back()) / 2;
      const int64_t prefix = task.prefix_length > 0 ? task.prefix_length : std::llround(fraction * static_cast<double>(residues));
      return static_cast<double>(residues - std::clamp<int64_t>(prefix, 1, std::max<int64_t>(1, residues - 1)) + 1);
    }
  }
  throw core::Error("unknown objective kind", "objective.kind");  // unreachable: the enum is closed
}

}  // namespace

int64_t typical_decoder_length(const data::ObjectiveConfig& objective, int64_t encoder_len) {
  const int64_t residues = std::max<int64_t>(encoder_len - objective.reserved_input_tokens(), 1);
  // The mean over the tasks by weight, and over each task's masking rates (drawn uniformly).
  double total = 0, weights = 0;
  for (const auto& task : objective.tasks()) {
    double sum = 0;
    for (double rate : task.mask_prob) sum += task_decoder_length(task, rate, residues);
    total += task.weight * sum / static_cast<double>(task.mask_prob.size());
    weights += task.weight;
  }
  return std::llround(total / weights);
}

ForwardFlops forward_flops(const ModelConfig& c, int64_t encoder_len, int64_t decoder_len) {
  const Dims m(c);
  const double le = static_cast<double>(encoder_len), ld = static_cast<double>(decoder_len);
  // A [n x k] @ [k x m] product costs 2nkm FLOPs.
  const double feed_forward = 2 * m.gated_matrices * m.d * m.f;  // per token
  const double projections = 2 * 4 * m.d * m.a;                  // q, k, v, o per token
  ForwardFlops out;
  // Per layer: projections and feed-forward per token; q.k^T and weights.v, 2*L*a each per query.
  out.encoder = m.enc_layers * le * (projections + feed_forward + 4 * le * m.a);
  out.decoder = m.dec_layers * (ld * (projections + feed_forward + 4 * ld * m.a)  // self-attention
                                + ld * (2 * 2 * m.d * m.a + 4 * le * m.a)     // cross q, o; scores, mixing
                                + le * (2 * 2 * m.d * m.a));                  // cross k, v over the encoder
  out.lm_head = ld * 2 * m.d * m.v;
  return out;
}

double train_flops_per_token(const ModelConfig& c, int64_t encoder_len, int64_t decoder_len) {
  // Backward costs two forwards (gradients of the inputs and of the weights).
  return 3 * forward_flops(c, encoder_len, decoder_len).total() / static_cast<double>(encoder_len);
}

MemoryEstimate estimate_memory(const ModelConfig& c, int64_t encoder_len, int64_t decoder_len,
                               double optimizer_state_bytes) {
  const double params = static_cast<double>(count_parameters(c).total);
  MemoryEstimate e;
  e.weights = 4 * params;
  e.gradients = 4 * params;
  e.optimizer_state = optimizer_state_bytes;

  // Bytes kept for backward per token, by sub-layer (docs/model.md lists each tensor). b: bytes of a
  // matmul operand (2 under bf16 autocast); RMSNorm, softmax and the residual stream stay fp32.
  const Dims m(c);
  const double b = c.precision == Precision::Bf16 ? 2 : 4;
  e.activation_bytes_per_element = b;
  // The attention weights: the plain path keeps its fp32 softmax output (+ the bf16 copy for the
  // matmul), the fused one only the weights in the compute dtype (attention_core.h).
  const bool fused = attention_path(c.attention, c.dropout > 0) == AttentionPath::Fused;
  const double probs = fused ? b : 4 + (b < 4 ? b : 0);
  const double norm = 8 * m.d + b * m.d;     // input and normalised (fp32) + the matmul's operand
  // The gated feed-forward keeps wi_0 x, wi_1 x, act(wi_0 x) and the product (wo's input); ankh's
  // fused activation kernel keeps the projection and the product only (gated_activation.h).
  const bool fused_activation = c.fuse_projections && c.fused_activation && fused_gated_activation_built();
  const double ff = norm + (m.gated_matrices == 3 ? (fused_activation ? 3 : 4) : 1) * b * m.f;
  const double le = static_cast<double>(encoder_len), ld = static_cast<double>(decoder_len);
  // Per token of its own stack (attention terms scale with the key length).
  const double enc_layer = norm + 4 * b * m.a + probs * m.h * le + ff;
  const double dec_layer = norm + 4 * b * m.a + probs * m.h * ld          // self-attention
                           + norm + 2 * b * m.a + probs * m.h * le        // cross-attention
                           + ff;
  const double cross_kv_per_encoder_token = m.dec_layers * 2 * b * m.a;
  // Shared per stack: the position bias + mask [B, heads, L, L] (fp32; fused: the compute dtype);
  // final norms; logits in the matmul dtype, their fp32 copy and log-softmax.
  const double bias = fused ? b : 4;
  const double stack_shared = bias * m.h * le * le + bias * m.h * ld * ld + norm * (le + ld);
  const double logits = ld * (b + 8) * m.v;

  double per_sequence;
  if (c.activation_checkpointing) {
    // Only each block's input survives (fp32 hidden); one block at a time is recomputed.
    const double inputs = m.enc_layers * le * 4 * m.d + m.dec_layers * ld * 4 * m.d;
    const double one_block = std::max(le * enc_layer, ld * dec_layer + le * 2 * b * m.a);
    per_sequence = inputs + one_block + stack_shared + logits;
  } else {
    per_sequence = m.enc_layers * le * enc_layer + m.dec_layers * ld * dec_layer +
                   le * cross_kv_per_encoder_token + stack_shared + logits;
  }
  e.activations_per_token = per_sequence / le;
  return e;
}

}  // namespace ankh::model
